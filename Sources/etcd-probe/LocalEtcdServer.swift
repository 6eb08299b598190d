import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// A throwaway single-member etcd for a first run: started from the `etcd` on PATH in a temporary directory on
/// free loopback ports, stopped by its PID and removed on exit.
final class LocalEtcdServer {
  let clientPort: Int
  let directory: String
  private var pid: pid_t?

  /// The client endpoint.
  var endpoint: String { "127.0.0.1:\(clientPort)" }

  /// Starts etcd and waits (at most 20 s) until its client port accepts connections.
  init() throws {
    guard let binary = Self.findOnPath("etcd") else {
      throw ProbeError("no --endpoints given and no `etcd` binary on PATH to start a local one")
    }
    let base = FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm" : NSTemporaryDirectory()
    directory = base + "/etcd-probe-\(getpid())"
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    clientPort = try Self.freePort()
    let peerPort = try Self.freePort()
    let arguments = [
      binary, "--name", "probe-local", "--data-dir", directory + "/data",
      "--listen-client-urls", "http://127.0.0.1:\(clientPort)",
      "--advertise-client-urls", "http://127.0.0.1:\(clientPort)",
      "--listen-peer-urls", "http://127.0.0.1:\(peerPort)",
      "--initial-advertise-peer-urls", "http://127.0.0.1:\(peerPort)",
      "--initial-cluster", "probe-local=http://127.0.0.1:\(peerPort)",
      "--logger", "zap", "--log-outputs", directory + "/etcd.log",
    ]
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 1, directory + "/stdout.log", O_WRONLY | O_CREAT, 0o644)
    posix_spawn_file_actions_adddup2(&actions, 1, 2)
    var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
    defer { for pointer in argv { free(pointer) } }
    var child: pid_t = 0
    let spawned = posix_spawn(&child, binary, &actions, nil, &argv, environ)
    guard spawned == 0 else { throw ProbeError("cannot start \(binary): \(String(cString: strerror(spawned)))") }
    pid = child
    for _ in 0..<400 {
      if Self.accepts(port: clientPort) { return }
      usleep(50_000)
    }
    stop()
    throw ProbeError("the local etcd did not start listening within 20 s (log: \(directory)/etcd.log)")
  }

  /// What a signal handler needs to stop the server: plain values, safe to hand to another thread.
  struct StopHandle: Sendable {
    let pid: pid_t
    let directory: String

    /// Stops etcd (SIGTERM, then SIGKILL after 5 s) and removes its directory.
    func stop() {
      kill(pid, SIGTERM)
      var status: Int32 = 0
      var exited = false
      for _ in 0..<100 where !exited {
        if waitpid(pid, &status, WNOHANG) == pid { exited = true } else { usleep(50_000) }
      }
      if !exited {
        kill(pid, SIGKILL)
        waitpid(pid, &status, 0)
      }
      try? FileManager.default.removeItem(atPath: directory)
    }
  }

  /// A handle that stops this server from anywhere, e.g. a signal handler; nil once stopped.
  var stopHandle: StopHandle? { pid.map { StopHandle(pid: $0, directory: directory) } }

  /// Stops etcd and removes its directory.
  func stop() {
    if let handle = stopHandle {
      handle.stop()
      pid = nil
    } else {
      try? FileManager.default.removeItem(atPath: directory)
    }
  }

  deinit { stop() }

  private static func findOnPath(_ name: String) -> String? {
    let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
    for directory in path.split(separator: ":") {
      let candidate = "\(directory)/\(name)"
      if access(candidate, X_OK) == 0 { return candidate }
    }
    return nil
  }

  private static func loopbackAddress(port: Int) -> sockaddr_in {
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    return address
  }

  private static func freePort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw ProbeError("socket() failed") }
    defer { close(fd) }
    var address = loopbackAddress(port: 0)
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let ok = withUnsafeMutablePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
        bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0
      }
    }
    guard ok else { throw ProbeError("cannot find a free loopback port") }
    return Int(UInt16(bigEndian: address.sin_port))
  }

  private static func accepts(port: Int) -> Bool {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { return false }
    defer { close(fd) }
    var address = loopbackAddress(port: port)
    return withUnsafePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
        connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
      }
    }
  }
}

/// A probe start-up failure, printed to the operator.
struct ProbeError: Error, CustomStringConvertible {
  let description: String
  init(_ description: String) { self.description = description }
}
