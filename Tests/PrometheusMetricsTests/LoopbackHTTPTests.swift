import Testing

@testable import LoopbackTestSupport

/// The test HTTP client decodes chunked bodies, as etcd's /metrics sends them.
@Suite("LoopbackHTTP")
struct LoopbackHTTPTests {
  @Test func chunkedBodiesAreJoinedWhereverTheChunksCutALine() throws {
    let encoded = Array("7\r\nmetric_\r\n9;ext=1\r\na_total 3\r\n1\r\n\n\r\n0\r\n\r\n".utf8)
    #expect(try decodeChunked(encoded) == Array("metric_a_total 3\n".utf8))
  }

  @Test(arguments: ["zz\r\nab\r\n0\r\n\r\n", "5\r\nab\r\n", "2\r\nab"])
  func malformedChunkedBodiesAreErrors(text: String) {
    #expect(throws: LoopbackHTTPError.self) { try decodeChunked(Array(text.utf8)) }
  }
}
