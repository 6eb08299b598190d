import PrometheusProto
import SwiftProtobuf
import Testing

@testable import PrometheusMetrics

/// Splits a length-delimited stream and decodes each message with the generated types.
func decodeDelimited(_ bytes: [UInt8]) throws -> [Io_Prometheus_Client_MetricFamily] {
  var families: [Io_Prometheus_Client_MetricFamily] = []
  var position = 0
  while position < bytes.count {
    var length = 0
    var shift = 0
    while true {
      let byte = bytes[position]
      position += 1
      length |= Int(byte & 0x7f) << shift
      shift += 7
      if byte < 0x80 { break }
    }
    let message = Array(bytes[position..<(position + length)])
    position += length
    families.append(try Io_Prometheus_Client_MetricFamily(serializedBytes: message))
  }
  return families
}

@Suite("Protobuf exposition")
struct ProtobufFormatTests {
  @Test("the fixtures round-trip through the generated types")
  func roundTrip() throws {
    let families = try decodeDelimited(ProtobufFormat.encode(ExpositionFixtures.families))
    // The family without series is left out.
    #expect(
      families.map(\.name) == [
        "etcd_requests_total", "queue_depth", "rpc_duration_seconds", "tiny", "up_seconds",
      ])
    let requests = families[0]
    #expect(requests.type == .counter)
    #expect(requests.help == "Requests by method and code.")
    #expect(requests.metric.count == 2)
    #expect(requests.metric[0].label.map(\.name) == ["method", "code"])
    #expect(requests.metric[0].label.map(\.value) == ["Put", "OK"])
    #expect(requests.metric[0].counter.value == 2)
    #expect(requests.metric[0].counter.createdTimestamp.seconds == 1_700_000_000)
    #expect(requests.metric[0].counter.createdTimestamp.nanos == 250_000_000)
    #expect(requests.metric[1].counter.value == 1027)

    let depth = families[1]
    #expect(depth.type == .gauge)
    #expect(depth.metric[0].label.map(\.value) == ["C:\\dir", "say \"hi\"\nbye"])
    #expect(depth.metric[0].gauge.value == -3.5)
    #expect(!depth.metric[0].hasCounter)

    let latency = families[2]
    #expect(latency.type == .histogram)
    let histogram = latency.metric[0].histogram
    #expect(histogram.sampleCount == 5)
    #expect(histogram.sampleSum == 12.5)
    #expect(histogram.bucket.map(\.upperBound) == [0.005, 0.1, 1])
    #expect(histogram.bucket.map(\.cumulativeCount) == [1, 3, 4])
    #expect(histogram.createdTimestamp.seconds == 1_700_000_000)
    #expect(histogram.createdTimestamp.nanos == 500_000_000)
    // A classic histogram has no native fields.
    #expect(!histogram.hasSchema && !histogram.hasZeroThreshold && histogram.positiveSpan.isEmpty)

    #expect(families[3].metric[0].gauge.value == 0.00001)
    #expect(!families[4].metric[0].counter.hasCreatedTimestamp)
  }

  @Test("a native histogram sends schema, zero bucket, spans and deltas beside classic buckets")
  func nativeHistogram() throws {
    let registry = MetricsRegistry()
    let histogram = registry.makeHistogram(
      name: "latency_seconds", help: "Latency.", buckets: [0.1, 1],
      native: NativeHistogramOptions())
    for value in [0, 0.5, 1, 1, 1.125, 2, 2, 2, 100] { histogram.observe(value) }
    let families = try decodeDelimited(registry.exposition(format: .protobufDelimited))
    let message = try #require(families.first).metric[0].histogram
    #expect(message.sampleCount == 9)
    #expect(message.sampleSum == 109.625)
    #expect(message.bucket.map(\.cumulativeCount) == [1, 4])
    #expect(message.schema == 3)
    #expect(message.zeroThreshold == NativeHistogramLayout.upperBound(of: -160, schema: 3))
    #expect(message.zeroCount == 1)
    // Indices: 0.5 → -8; 1 → 0 (×2); 1.125 → 2; 2 → 8 (×3); 100 → 54. Offsets count from the
    // bucket after the previous span.
    #expect(message.positiveSpan.map(\.offset) == [-8, 7, 5, 45])
    #expect(message.positiveSpan.map(\.length) == [1, 3, 1, 1])
    #expect(message.positiveDelta == [1, 1, -2, 1, 2, -2])
    #expect(message.negativeSpan.isEmpty && message.negativeDelta.isEmpty)
    #expect(message.hasCreatedTimestamp)
  }

  @Test(
    "spans: gaps of up to two buckets are filled with zeros, larger gaps start a span",
    arguments: [
      ([], [], []),
      ([(0, 1)], [(0, 1)], [1]),
      ([(-3, 1), (-2, 2), (0, 1), (5, 3)], [(-3, 4), (4, 1)], [1, 1, -2, 1, 2]),
      ([(1, 5), (4, 5)], [(1, 4)], [5, -5, 0, 5]),
      ([(1, 5), (5, 5)], [(1, 1), (3, 1)], [5, 0]),
    ] as [([(Int, UInt64)], [(Int32, UInt32)], [Int64])])
  func spans(buckets: [(Int, UInt64)], spans: [(Int32, UInt32)], deltas: [Int64]) {
    let (encodedSpans, encodedDeltas) = ProtobufFormat.spansAndDeltas(
      buckets.map { NativeHistogramSnapshot.Bucket(index: $0.0, count: $0.1) })
    #expect(encodedSpans.map(\.offset) == spans.map(\.0))
    #expect(encodedSpans.map(\.length) == spans.map(\.1))
    #expect(encodedDeltas == deltas)
  }

  @Test("an empty native histogram with a zero threshold of 0 gets a no-op span")
  func emptyNative() {
    let snapshot = HistogramSnapshot(
      upperBounds: [1], cumulativeCounts: [0], count: 0, sum: 0,
      native: NativeHistogramSnapshot(schema: 3, zeroThreshold: 0, zeroCount: 0, positive: []))
    let message = ProtobufFormat.histogram(snapshot, created: nil)
    #expect(message.positiveSpan.count == 1)
    #expect(message.positiveSpan.first?.length == 0)
  }

  @Test(
    "varints of message lengths",
    arguments: [
      (0, [0x00]), (1, [0x01]), (127, [0x7f]), (128, [0x80, 0x01]), (300, [0xac, 0x02]),
      (16_384, [0x80, 0x80, 0x01]),
    ] as [(UInt64, [UInt8])])
  func varint(value: UInt64, bytes: [UInt8]) {
    var output: [UInt8] = []
    ProtobufFormat.appendVarint(value, to: &output)
    #expect(output == bytes)
  }

  @Test("a large registry encodes to several delimited messages that all decode")
  func manyFamilies() throws {
    let registry = ExpositionFixtures.populatedRegistry()
    let families = try decodeDelimited(registry.exposition(format: .protobufDelimited))
    #expect(families.map(\.name) == registry.collect().map(\.name))
  }
}
