import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// A response read by ``loopbackHTTPGet(port:path:headers:timeoutSeconds:)``.
struct LoopbackHTTPResponse {
  var status: Int
  /// Header fields, names lowercased.
  var headers: [String: String]
  var body: [UInt8]
  var text: String { String(decoding: body, as: UTF8.self) }
}

/// `GET http://127.0.0.1:port/path` over HTTP/1.0 on a blocking socket, read to the server's close.
///
/// Leak and load tests use this rather than `run(["curl", ...])`: Foundation's `Process` leaves descriptors of
/// its own behind (a run loop's epoll, eventfd and timerfd), and a load test needs hundreds of requests a second.
///
/// - Throws: `FixtureError` naming the step that failed (`connect`, `send`, `recv`, a bad status line, a body
///   shorter or longer than its `Content-Length`).
func loopbackHTTPGet(
  port: Int, path: String, headers: [String: String] = [:], timeoutSeconds: Int = 5
) throws -> LoopbackHTTPResponse {
  let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
  guard fd >= 0 else { throw FixtureError("socket: errno \(errno)") }
  defer { close(fd) }
  var timeout = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
  for option in [SO_RCVTIMEO, SO_SNDTIMEO] {
    setsockopt(fd, SOL_SOCKET, option, &timeout, socklen_t(MemoryLayout<timeval>.size))
  }
  var address = sockaddr_in()
  address.sin_family = sa_family_t(AF_INET)
  address.sin_port = in_port_t(UInt16(port).bigEndian)
  address.sin_addr.s_addr = inet_addr("127.0.0.1")
  let length = socklen_t(MemoryLayout<sockaddr_in>.size)
  let connected = withUnsafePointer(to: &address) {
    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, length) }
  }
  guard connected == 0 else { throw FixtureError("connect: errno \(errno)") }
  let head = headers.map { "\($0.key): \($0.value)\r\n" }.joined()
  let request = Array("GET \(path) HTTP/1.0\r\nHost: 127.0.0.1:\(port)\r\n\(head)\r\n".utf8)
  guard request.withUnsafeBytes({ send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }) == request.count else {
    throw FixtureError("send: errno \(errno)")
  }
  var received: [UInt8] = []
  var chunk = [UInt8](repeating: 0, count: 65_536)
  for _ in 0..<100_000 {
    let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
    if count == 0 { break }
    guard count > 0 else { throw FixtureError("recv: errno \(errno) after \(received.count) bytes") }
    received += chunk[..<count]
  }
  let separator = Array("\r\n\r\n".utf8)
  guard let end = received.indices.first(where: { received[$0...].starts(with: separator) }) else {
    throw FixtureError("no end of headers in \(received.count) bytes")
  }
  let lines = String(decoding: received[..<end], as: UTF8.self).components(separatedBy: "\r\n")
  let statusLine = lines[0].split(separator: " ")
  guard statusLine.count >= 2, statusLine[0].hasPrefix("HTTP/1."), let status = Int(statusLine[1]) else {
    throw FixtureError("bad status line \(lines[0])")
  }
  var fields: [String: String] = [:]
  for line in lines.dropFirst() {
    guard let colon = line.firstIndex(of: ":") else { continue }
    fields[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
  }
  let body = Array(received[(end + separator.count)...])
  if let declared = fields["content-length"].flatMap({ Int($0) }), declared != body.count {
    throw FixtureError("body of \(body.count) bytes, Content-Length \(declared)")
  }
  return LoopbackHTTPResponse(status: status, headers: fields, body: body)
}
