#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// The socket calls on 127.0.0.1 that port allocation and the health checks make.
enum LoopbackSocket {
  /// `127.0.0.1:port` as a socket address.
  static func address(port: Int) -> sockaddr_in {
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    return address
  }

  /// A TCP port on 127.0.0.1 that was free a moment ago: bound to port 0, read back, closed.
  ///
  /// - Throws: `EtcdProcessError` `.noFreePort` with the errno of the call that failed.
  static func boundAndReleasedPort() throws(EtcdProcessError) -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw EtcdProcessError(.noFreePort, "socket: errno \(errno)") }
    defer { close(fd) }
    var address = Self.address(port: 0)
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
        bind(fd, pointer, length) == 0 && getsockname(fd, pointer, &length) == 0
      }
    }
    guard bound else { throw EtcdProcessError(.noFreePort, "bind: errno \(errno)") }
    return Int(UInt16(bigEndian: address.sin_port))
  }

  /// A socket connected to `127.0.0.1:port`, or nil when nothing accepts there. The caller closes it.
  ///
  /// - Parameter receiveTimeoutSeconds: `SO_RCVTIMEO` of the socket; 0 leaves receives unbounded.
  static func connect(port: Int, receiveTimeoutSeconds: Int = 0) -> Int32? {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { return nil }
    if receiveTimeoutSeconds > 0 {
      var timeout = timeval(tv_sec: receiveTimeoutSeconds, tv_usec: 0)
      setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }
    var address = Self.address(port: port)
    let connected = withUnsafePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
        #if canImport(Glibc)
          Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
        #else
          Darwin.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
        #endif
      }
    }
    guard connected == 0 else {
      close(fd)
      return nil
    }
    return fd
  }
}
