import PrometheusProto
import SwiftProtobuf
import Testing

@testable import PrometheusMetrics

/// The registry writes each family from its rendered series; encoding the collected snapshots
/// renders them on the way. Both must give the same bytes, and the protobuf encoder the bytes
/// SwiftProtobuf gives for the generated messages.
@Suite("Live exposition")
struct LiveExpositionTests {
  /// The promtool fixture plus exemplars, a native histogram and the server's instruments.
  private func registry() -> MetricsRegistry {
    let registry = ExpositionFixtures.populatedRegistry()
    _ = MetricsServerInstruments(registry: registry)
    let traced = registry.makeHistogramFamily(
      name: "traced_seconds", help: "With exemplars.", labelNames: ["op"], buckets: [0.01, 1])
    traced.labels("get").observe(0.004, exemplar: ["trace_id": "a", "span_id": "b"])
    traced.labels("get").observe(7, exemplar: ["trace_id": "c"])
    traced.labels("put").observe(0.5)
    registry.makeHistogram(
      name: "native_seconds", help: "Native.", buckets: [0.1, 1], native: NativeHistogramOptions()
    ).observe(0.3)
    registry.makeGauge(name: "fraction", help: "Fractions.").set(123_456.789e-9)
    return registry
  }

  /// The length-delimited serialization of the generated messages.
  private func generated(_ families: [MetricFamilySnapshot]) throws -> [UInt8] {
    var output: [UInt8] = []
    for family in families where !family.metrics.isEmpty {
      let bytes: [UInt8] = try ProtobufFormat.metricFamily(family).serializedBytes()
      ProtobufFormat.appendVarint(UInt64(bytes.count), to: &output)
      output += bytes
    }
    return output
  }

  @Test("every format writes what encoding the collected snapshots gives", arguments: ExpositionFormat.allCases)
  func liveMatchesSnapshots(format: ExpositionFormat) {
    let registry = registry()
    // Snapshots take the histograms' counts; collect first, so nothing changes in between.
    let expected = format.encode(registry.collect())
    #expect(registry.exposition(format: format) == expected)
  }

  @Test("a reused buffer gives the same bytes; added and removed series show")
  func reusedBuffer() {
    let registry = registry()
    let family = registry.makeCounterFamily(
      name: "later_total", help: "Later.", labelNames: ["k"])
    var buffer: [UInt8] = []
    for step in 0..<3 {
      if step == 1 { family.labels("b\"\n\\").increment() }
      if step == 2 { family.remove("b\"\n\\") }
      family.labels("a").increment()
      let expected = PrometheusTextFormat.encode(registry.collect())
      registry.exposition(format: .prometheusText0_0_4, into: &buffer)
      #expect(buffer.text == expected.text)
    }
    #expect(buffer.text.contains("later_total{k=\"a\"} 3\n"))
    #expect(!buffer.text.contains("later_total{k=\"b"))
  }

  @Test("the protobuf encoder writes SwiftProtobuf's bytes")
  func protobufMatchesGenerated() throws {
    #expect(try ProtobufFormat.encode(ExpositionFixtures.families) == generated(ExpositionFixtures.families))
    let families = registry().collect()
    #expect(try ProtobufFormat.encode(families) == generated(families))
  }

  @Test("a histogram series with other bounds than the family's first gets its own le labels")
  func otherBounds() {
    let family = MetricFamilySnapshot(
      name: "h", help: "", kind: .histogram, labelNames: ["s"],
      metrics: [
        MetricSnapshot(
          labelValues: ["a"],
          value: .histogram(
            HistogramSnapshot(upperBounds: [1], cumulativeCounts: [1], count: 1, sum: 0.5))),
        MetricSnapshot(
          labelValues: ["b"],
          value: .histogram(
            HistogramSnapshot(upperBounds: [2.5], cumulativeCounts: [0], count: 1, sum: 3))),
      ])
    let expected = #"""
      # TYPE h histogram
      h_bucket{s="a",le="1"} 1
      h_bucket{s="a",le="+Inf"} 1
      h_sum{s="a"} 0.5
      h_count{s="a"} 1
      h_bucket{s="b",le="2.5"} 0
      h_bucket{s="b",le="+Inf"} 1
      h_sum{s="b"} 3
      h_count{s="b"} 1

      """#
    #expect(PrometheusTextFormat.encode([family]).text == expected)
  }
}
