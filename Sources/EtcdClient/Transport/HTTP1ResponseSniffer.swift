/// Recognises an HTTP/1 response where an HTTP/2 server's first bytes were expected.
///
/// A gRPC client that dials a plain HTTP server (a wrong port, a proxy without HTTP/2) gets back an HTTP/1
/// status line, which HTTP/2 only reports as a bad frame. Naming the status line makes the mistake obvious.
///
/// Pure: bytes in, text out.
enum HTTP1ResponseSniffer {
  /// The longest status line quoted in an error message.
  static let maxQuotedLength = 80

  /// The status line (`HTTP/1.1 404 Not Found`) when `bytes` start an HTTP/1 response, else nil. Only
  /// printable ASCII is quoted; the line is cut at `maxQuotedLength` characters.
  static func statusLine(in bytes: UnsafeRawBufferPointer) -> String? {
    let marker = Array("HTTP/1.".utf8)
    guard bytes.count >= marker.count, zip(bytes, marker).allSatisfy({ $0 == $1 }) else { return nil }
    var line: [UInt8] = []
    for byte in bytes.prefix(maxQuotedLength) {
      if byte == UInt8(ascii: "\r") || byte == UInt8(ascii: "\n") { break }
      line.append((0x20...0x7e).contains(byte) ? byte : UInt8(ascii: "?"))
    }
    return String(decoding: line, as: UTF8.self)
  }
}
