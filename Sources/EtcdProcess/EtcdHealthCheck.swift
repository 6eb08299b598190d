#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// One attempt at telling whether a member serves, for
/// ``EtcdProcess/waitUntilHealthy(_:timeout:interval:)`` to repeat.
///
/// Members that serve plain HTTP use ``etcdHealth(port:)``; for a TLS member the caller passes a check of
/// its own (one that presents its client certificate), or ``acceptsConnections(port:)``.
package struct EtcdHealthCheck: Sendable {
  private let attempt: @Sendable () async -> Bool

  /// A check that runs `attempt`: true when the member serves. Each attempt should bound its own time.
  ///
  /// - Parameter attempt: One try; false to be tried again.
  package init(_ attempt: @escaping @Sendable () async -> Bool) {
    self.attempt = attempt
  }

  /// Runs one attempt.
  ///
  /// - Returns: Whether the member serves.
  package func isHealthy() async -> Bool {
    await attempt()
  }

  /// etcd's `GET /health` over plain HTTP on `127.0.0.1:port` answers `"health":"true"`: the member listens
  /// and its cluster has a leader. Each attempt waits at most 1 s for the answer.
  ///
  /// - Parameter port: The member's client port.
  package static func etcdHealth(port: Int) -> EtcdHealthCheck {
    EtcdHealthCheck { reportsHealthy(healthResponse(port: port)) }
  }

  /// `127.0.0.1:port` accepts a TCP connection: the member listens, whatever its scheme, though it may
  /// not serve requests yet.
  ///
  /// - Parameter port: The member's client port.
  package static func acceptsConnections(port: Int) -> EtcdHealthCheck {
    EtcdHealthCheck {
      guard let fd = LoopbackSocket.connect(port: port) else { return false }
      close(fd)
      return true
    }
  }

  /// Whether a response of etcd's `/health` says the member is healthy.
  static func reportsHealthy(_ response: String) -> Bool {
    response.contains("\"health\":\"true\"")
  }

  /// `send` flags: on Linux, a peer that closed makes `send` fail rather than raise SIGPIPE.
  #if os(Linux)
    private static let noSignal = Int32(MSG_NOSIGNAL)
  #else
    private static let noSignal: Int32 = 0
  #endif

  /// The first 4 KiB of what `GET /health` on the port answers, or "" when nothing accepts there.
  private static func healthResponse(port: Int) -> String {
    guard let fd = LoopbackSocket.connect(port: port, receiveTimeoutSeconds: 1) else { return "" }
    defer { close(fd) }
    let request = "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    _ = request.withCString { send(fd, $0, strlen($0), noSignal) }
    var response = [UInt8](repeating: 0, count: 4096)
    var total = 0
    while total < response.count {
      let count = response.withUnsafeMutableBytes { recv(fd, $0.baseAddress! + total, $0.count - total, 0) }
      if count <= 0 { break }
      total += count
    }
    return String(decoding: response[..<total], as: UTF8.self)
  }
}
