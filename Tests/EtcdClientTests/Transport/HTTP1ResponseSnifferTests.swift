import Testing

@testable import EtcdClient

@Suite("HTTP1ResponseSniffer")
struct HTTP1ResponseSnifferTests {
  private func sniff(_ bytes: [UInt8]) -> String? {
    bytes.withUnsafeBytes { HTTP1ResponseSniffer.statusLine(in: $0) }
  }

  @Test(
    "HTTP/1 responses are recognised and their status line quoted",
    arguments: [
      ("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n", "HTTP/1.1 404 Not Found"),
      ("HTTP/1.0 400 Bad Request\n", "HTTP/1.0 400 Bad Request"),
      ("HTTP/1.1 505 HTTP Version Not Supported", "HTTP/1.1 505 HTTP Version Not Supported"),
      ("HTTP/1.", "HTTP/1."),
    ])
  func recognised(response: String, statusLine: String) {
    #expect(sniff(Array(response.utf8)) == statusLine)
  }

  @Test(
    "anything else is not an HTTP/1 response",
    arguments: [
      "", "HTTP/1", "HTTP/2.0 200", "http/1.1 200 OK", " HTTP/1.1 200 OK",
      "\u{0}\u{0}\u{0}\u{4}\u{0}\u{0}\u{0}\u{0}\u{0}",
    ])
  func notRecognised(bytes: String) {
    #expect(sniff(Array(bytes.utf8)) == nil)
  }

  @Test("control bytes are masked and a long line is cut")
  func maskedAndCut() throws {
    let line = try #require(sniff(Array("HTTP/1.1 200 \u{1B}[31m".utf8) + [0xff] + Array(repeating: 0x41, count: 200)))
    #expect(line.hasPrefix("HTTP/1.1 200 ?[31m?AAA"))
    #expect(line.count == HTTP1ResponseSniffer.maxQuotedLength)
    #expect(line.utf8.allSatisfy { (0x20...0x7e).contains($0) })
  }
}
