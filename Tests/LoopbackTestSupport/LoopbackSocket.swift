#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// A raw TCP connection to a server on 127.0.0.1, for tests that play misbehaving clients: it can
/// come from another loopback address (`127.0.0.2`), send a request in pieces or not at all, and
/// read a response a few bytes at a time. Every call is non-blocking or bounded by a timeout.
public final class LoopbackSocket {
  /// The socket; closed by `deinit`.
  public let descriptor: Int32

  /// Connects to `127.0.0.1:port` from `source` (any 127.x.y.z address).
  ///
  /// - Parameters:
  ///   - receiveBuffer: The socket's receive buffer in bytes (`SO_RCVBUF`, set before connecting so
  ///     the advertised window stays small), or `nil` for the system's default.
  /// - Throws: `LoopbackHTTPError` naming the step that failed.
  public init(port: Int, from source: String = "127.0.0.1", receiveBuffer: Int? = nil) throws {
    let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard descriptor >= 0 else { throw LoopbackHTTPError("socket: errno \(errno)") }
    self.descriptor = descriptor
    var timeout = timeval(tv_sec: 5, tv_usec: 0)
    for option in [SO_RCVTIMEO, SO_SNDTIMEO] {
      setsockopt(descriptor, SOL_SOCKET, option, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }
    if var size = receiveBuffer.map({ Int32($0) }) {
      setsockopt(descriptor, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
    }
    var local = Self.address(source, port: 0)
    let bound = withUnsafePointer(to: &local) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
        bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
      }
    }
    guard bound == 0 else { throw LoopbackHTTPError("bind \(source): errno \(errno)") }
    var remote = Self.address("127.0.0.1", port: port)
    let connected = withUnsafePointer(to: &remote) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
        connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
      }
    }
    guard connected == 0 else { throw LoopbackHTTPError("connect from \(source): errno \(errno)") }
  }

  deinit {
    close(descriptor)
  }

  /// Sends `text` without waiting: true if all of it was sent, false if the socket's buffer was
  /// full or the connection is gone.
  @discardableResult
  public func send(_ text: String) -> Bool {
    let bytes = Array(text.utf8)
    return sendBytes(descriptor, bytes[...], Int32(MSG_NOSIGNAL | MSG_DONTWAIT)) == bytes.count
  }

  /// Sends `bytes`, waiting while the socket's buffer is full (at most 5 s for each piece), until
  /// all are sent or the connection fails.
  ///
  /// - Returns: The number of bytes sent.
  @discardableResult
  public func sendAll(_ bytes: [UInt8]) -> Int {
    var sent = 0
    for _ in 0..<10_000 where sent < bytes.count {
      let count = sendBytes(descriptor, bytes[sent...], Int32(MSG_NOSIGNAL))
      guard count > 0 else { break }
      sent += count
    }
    return sent
  }

  /// Ends the sending side (`shutdown(SHUT_WR)`): the server reads the end of the stream, and this
  /// socket can still read the server's answer and its close.
  public func finishSending() {
    shutdown(descriptor, Int32(SHUT_WR))
  }

  /// What one read found.
  public enum Received: Equatable, Sendable {
    /// Some bytes.
    case bytes([UInt8])
    /// Nothing yet (the read timed out or would block).
    case nothing
    /// The server closed or reset the connection.
    case closed
  }

  /// Reads at most `limit` bytes, waiting at most `milliseconds` for some.
  public func receive(limit: Int, waitingMilliseconds milliseconds: Int32) -> Received {
    var ready = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
    guard poll(&ready, 1, milliseconds) > 0 else { return .nothing }
    var buffer = [UInt8](repeating: 0, count: max(limit, 1))
    let count = buffer.withUnsafeMutableBytes {
      recv(descriptor, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT))
    }
    if count > 0 { return .bytes(Array(buffer[..<count])) }
    if count < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) { return .nothing }
    return .closed
  }

  /// Reads until the server closes the connection or `milliseconds` pass, at most `limit` bytes.
  ///
  /// - Returns: The bytes read and whether the server closed the connection.
  public func receiveUntilClosed(limit: Int = 1 << 20, waitingMilliseconds milliseconds: Int)
    -> (bytes: [UInt8], closed: Bool)
  {
    var bytes: [UInt8] = []
    let deadline = ContinuousClock.now + .milliseconds(milliseconds)
    for _ in 0..<100_000 where ContinuousClock.now < deadline && bytes.count < limit {
      switch receive(limit: 65_536, waitingMilliseconds: 50) {
      case .bytes(let more): bytes += more
      case .nothing: continue
      case .closed: return (bytes, true)
      }
    }
    return (bytes, false)
  }

  private static func address(_ text: String, port: Int) -> sockaddr_in {
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    address.sin_addr.s_addr = inet_addr(text)
    return address
  }
}

/// `send(2)` of a slice (a free function, since ``LoopbackSocket`` has methods of that name).
private func sendBytes(_ descriptor: Int32, _ bytes: ArraySlice<UInt8>, _ flags: Int32) -> Int {
  bytes.withUnsafeBytes { send(descriptor, $0.baseAddress, $0.count, flags) }
}
