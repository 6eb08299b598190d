import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A response read by ``TestHTTPClient``.
struct TestHTTPResponse {
  var status: Int
  /// Header fields, names lowercased.
  var headers: [String: String]
  var body: [UInt8]
}

/// A minimal blocking HTTP/1.1 client over POSIX sockets, for loopback tests only (one request per
/// connection, `Connection: close`, 10-second socket timeouts so nothing hangs).
enum TestHTTPClient {
  struct Failure: Error, CustomStringConvertible {
    var description: String
  }

  static func request(
    port: Int, method: String = "GET", path: String, headers: [String: String] = [:],
    body: String = ""
  ) throws -> TestHTTPResponse {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw Failure(description: "socket: errno \(errno)") }
    defer { close(fd) }
    var timeout = timeval(tv_sec: 10, tv_usec: 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let connected = withUnsafePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
        connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
      }
    }
    guard connected == 0 else { throw Failure(description: "connect: errno \(errno)") }

    var head = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nConnection: close\r\n"
    for (name, value) in headers { head += "\(name): \(value)\r\n" }
    if !body.isEmpty { head += "Content-Length: \(body.utf8.count)\r\n" }
    let request = Array((head + "\r\n" + body).utf8)
    var sent = 0
    while sent < request.count {
      let written = request[sent...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
      guard written > 0 else { throw Failure(description: "send: errno \(errno)") }
      sent += written
    }

    var received: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 65_536)
    for _ in 0..<100_000 {
      let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
      if count == 0 { break }
      guard count > 0 else { throw Failure(description: "recv: errno \(errno)") }
      received.append(contentsOf: buffer[..<count])
    }
    return try parse(received, method: method)
  }

  private static func parse(_ bytes: [UInt8], method: String) throws -> TestHTTPResponse {
    let separator: [UInt8] = Array("\r\n\r\n".utf8)
    guard let end = bytes.indices.first(where: { bytes[$0...].starts(with: separator) }) else {
      throw Failure(description: "no end of headers in \(bytes.count) bytes")
    }
    let lines = String(decoding: bytes[..<end], as: UTF8.self).components(separatedBy: "\r\n")
    let statusParts = lines[0].split(separator: " ")
    guard statusParts.count >= 2, let status = Int(statusParts[1]) else {
      throw Failure(description: "bad status line \(lines[0])")
    }
    var headers: [String: String] = [:]
    for line in lines.dropFirst() {
      guard let colon = line.firstIndex(of: ":") else { continue }
      let name = line[..<colon].lowercased()
      headers[name] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
    }
    var body = Array(bytes[(end + separator.count)...])
    if method != "HEAD", let length = headers["content-length"].flatMap({ Int($0) }) {
      guard body.count >= length else {
        throw Failure(description: "short body: \(body.count) of \(length)")
      }
      body = Array(body[..<length])
    }
    return TestHTTPResponse(status: status, headers: headers, body: body)
  }
}
