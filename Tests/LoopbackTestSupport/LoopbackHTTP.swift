import EtcdProcess
import Foundation

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// A response read by ``LoopbackHTTP/request(port:method:path:headers:body:timeoutSeconds:)``.
public struct LoopbackHTTPResponse: Sendable {
  /// The status code.
  public var status: Int
  /// Header fields, names lowercased; `transfer-encoding: chunked` is left out, since the body is decoded.
  public var headers: [String: String]
  /// The body, exactly `Content-Length` bytes when the server sent one (none for `HEAD`); a chunked body
  /// decoded.
  public var body: [UInt8]
  /// The body as UTF-8 text.
  public var text: String { String(decoding: body, as: UTF8.self) }
}

/// A step of a loopback request or port lookup that failed, and how.
public struct LoopbackHTTPError: Error, CustomStringConvertible {
  /// What failed (`connect: errno 111`, `bad status line ...`).
  public var description: String

  /// Creates an error with its description.
  public init(_ description: String) {
    self.description = description
  }
}

/// A minimal blocking HTTP/1.1 client over POSIX sockets, for tests against servers on 127.0.0.1: one request
/// per connection (`Connection: close`), read to the server's close, socket timeouts so nothing hangs.
///
/// Tests use it rather than `curl` or URLSession: Foundation's `Process` leaves descriptors of its own behind
/// (a run loop's epoll, eventfd and timerfd), which leak tests count, and load tests need hundreds of requests
/// a second.
public enum LoopbackHTTP {
  /// Sends one request to `http://127.0.0.1:port/path` and reads the whole response.
  ///
  /// - Throws: `LoopbackHTTPError` naming the step that failed (`connect`, `send`, `recv`, a bad status line,
  ///   a body shorter or longer than its `Content-Length`).
  public static func request(
    port: Int, method: String = "GET", path: String, headers: [String: String] = [:], body: String = "",
    timeoutSeconds: Int = 10
  ) throws -> LoopbackHTTPResponse {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw LoopbackHTTPError("socket: errno \(errno)") }
    defer { close(fd) }
    var timeout = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
    for option in [SO_RCVTIMEO, SO_SNDTIMEO] {
      setsockopt(fd, SOL_SOCKET, option, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }
    var address = loopbackAddress(port: port)
    let connected = withUnsafePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
        connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
      }
    }
    guard connected == 0 else { throw LoopbackHTTPError("connect: errno \(errno)") }

    var head = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nConnection: close\r\n"
    for (name, value) in headers { head += "\(name): \(value)\r\n" }
    if !body.isEmpty { head += "Content-Length: \(body.utf8.count)\r\n" }
    let request = Array((head + "\r\n" + body).utf8)
    var sent = 0
    while sent < request.count {
      let written = request[sent...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
      guard written > 0 else { throw LoopbackHTTPError("send: errno \(errno)") }
      sent += written
    }

    var received: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65_536)
    for _ in 0..<100_000 {
      let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
      if count == 0 { break }
      guard count > 0 else { throw LoopbackHTTPError("recv: errno \(errno) after \(received.count) bytes") }
      received += chunk[..<count]
    }
    return try parse(received, method: method)
  }

  private static func parse(_ bytes: [UInt8], method: String) throws -> LoopbackHTTPResponse {
    let separator = Array("\r\n\r\n".utf8)
    guard let end = bytes.indices.first(where: { bytes[$0...].starts(with: separator) }) else {
      throw LoopbackHTTPError("no end of headers in \(bytes.count) bytes")
    }
    let lines = String(decoding: bytes[..<end], as: UTF8.self).components(separatedBy: "\r\n")
    let statusLine = lines[0].split(separator: " ")
    guard statusLine.count >= 2, statusLine[0].hasPrefix("HTTP/1."), let status = Int(statusLine[1]) else {
      throw LoopbackHTTPError("bad status line \(lines[0])")
    }
    var fields: [String: String] = [:]
    for line in lines.dropFirst() {
      guard let colon = line.firstIndex(of: ":") else { continue }
      fields[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
    }
    var body = Array(bytes[(end + separator.count)...])
    if fields["transfer-encoding"]?.lowercased() == "chunked" {
      // The body is given decoded, so the field that says it is encoded goes.
      body = try decodeChunked(body)
      fields["transfer-encoding"] = nil
    }
    if method != "HEAD", let declared = fields["content-length"].flatMap({ Int($0) }), declared != body.count {
      throw LoopbackHTTPError("body of \(body.count) bytes, Content-Length \(declared)")
    }
    return LoopbackHTTPResponse(status: status, headers: fields, body: body)
  }
}

/// The body of a `Transfer-Encoding: chunked` response (Go's net/http, so etcd's /metrics, sends one when it
/// writes a large body in pieces): each chunk is `<size in hex>[;extension]\r\n<bytes>\r\n`, and a chunk of size
/// 0 ends it.
func decodeChunked(_ encoded: [UInt8]) throws -> [UInt8] {
  var body: [UInt8] = []
  var index = 0
  let lineEnd = Array("\r\n".utf8)
  while true {
    guard let sizeEnd = encoded[index...].indices.first(where: { encoded[$0...].starts(with: lineEnd) }) else {
      throw LoopbackHTTPError("chunked body: no chunk size line at byte \(index)")
    }
    let sizeText = String(decoding: encoded[index..<sizeEnd], as: UTF8.self)
      .split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
    guard let size = Int(sizeText, radix: 16), size >= 0 else {
      throw LoopbackHTTPError("chunked body: bad chunk size \"\(sizeText)\"")
    }
    if size == 0 { return body }
    let start = sizeEnd + lineEnd.count
    guard start + size + lineEnd.count <= encoded.count else {
      throw LoopbackHTTPError("chunked body: a chunk of \(size) bytes is cut short")
    }
    body += encoded[start..<(start + size)]
    index = start + size + lineEnd.count
  }
}

/// A TCP port on 127.0.0.1 that was free a moment ago, and that no earlier call in this process returned.
///
/// The ports come from `EtcdProcess`'s `LoopbackPorts.allocate()`, as the etcd test clusters' ports do, so a
/// test server and an etcd member never get the same port.
public func freeLoopbackPort() throws -> Int {
  do {
    return try LoopbackPorts.allocate()
  } catch {
    throw LoopbackHTTPError(error.description)
  }
}

private func loopbackAddress(port: Int) -> sockaddr_in {
  var address = sockaddr_in()
  address.sin_family = sa_family_t(AF_INET)
  address.sin_port = in_port_t(UInt16(port).bigEndian)
  address.sin_addr.s_addr = inet_addr("127.0.0.1")
  return address
}
