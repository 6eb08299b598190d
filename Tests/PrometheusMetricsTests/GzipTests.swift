import CZlib
import Testing

@testable import PrometheusMetrics

/// Inflates a gzip member with zlib, independently of the code under test.
func gunzip(_ input: [UInt8]) -> [UInt8]? {
  var stream = z_stream()
  guard czlib_inflate_init_gzip(&stream) == Z_OK else { return nil }
  defer { inflateEnd(&stream) }
  var output: [UInt8] = []
  var chunk = [UInt8](repeating: 0, count: 16_384)
  return input.withUnsafeBufferPointer { source -> [UInt8]? in
    stream.next_in = UnsafeMutablePointer(mutating: source.baseAddress)
    stream.avail_in = uInt(source.count)
    for _ in 0..<100_000 {
      let result = chunk.withUnsafeMutableBufferPointer { buffer in
        stream.next_out = buffer.baseAddress
        stream.avail_out = uInt(buffer.count)
        return inflate(&stream, Z_NO_FLUSH)
      }
      output.append(contentsOf: chunk[..<(chunk.count - Int(stream.avail_out))])
      if result == Z_STREAM_END { return stream.avail_in == 0 ? output : nil }
      if result != Z_OK { return nil }
    }
    return nil
  }
}

@Suite("gzip")
struct GzipTests {
  @Test("a registry's exposition survives a gzip round trip")
  func roundTrip() throws {
    let body = ExpositionFixtures.populatedRegistry().exposition(format: .prometheusText0_0_4)
    let compressed = try #require(Gzip.compress(body))
    #expect(compressed.starts(with: [0x1f, 0x8b, 8]))  // gzip magic, deflate
    #expect(compressed.count < body.count)
    #expect(gunzip(compressed) == body)
  }

  @Test("empty and large inputs", arguments: [0, 1, 1_000_000])
  func sizes(count: Int) throws {
    let input = (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 / 7) }
    let compressed = try #require(Gzip.compress(input))
    #expect(gunzip(compressed) == input)
  }
}
