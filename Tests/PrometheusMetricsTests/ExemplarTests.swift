import PrometheusProto
import ServiceContextModule
import Testing

@testable import PrometheusMetrics

private enum TraceIDKey: ServiceContextKey {
  typealias Value = String
}

@Suite("Exemplars")
struct ExemplarTests {
  @Test("the latest exemplar per bucket is kept, +Inf included")
  func latestPerBucket() {
    let histogram = Histogram(upperBounds: [0.01, 1], created: 0)
    histogram.observe(0.005)
    #expect(histogram.snapshot().exemplars.isEmpty)
    #expect(histogram.observe(0.004, exemplar: ["trace_id": "a"]))
    #expect(histogram.observe(0.0042, exemplar: ["trace_id": "b"]))
    #expect(histogram.observe(5, exemplar: ["trace_id": "c"]))
    let snapshot = histogram.snapshot()
    #expect(snapshot.count == 4)
    #expect(snapshot.exemplars.count == 3)
    #expect(snapshot.exemplars[0]?.labels == ["trace_id": "b"])
    #expect(snapshot.exemplars[0]?.value == 0.0042)
    #expect(snapshot.exemplars[1] == nil)
    #expect(snapshot.exemplars[2]?.labels == ["trace_id": "c"])
    #expect((snapshot.exemplars[2]?.timestamp ?? 0) > 1_600_000_000)
  }

  @Test(
    "invalid exemplar labels drop the exemplar, not the observation",
    arguments: [
      ["bad-name": "x"], ["__reserved": "x"], ["trace_id": String(repeating: "a", count: 121)],
    ])
  func invalid(labels: [String: String]) {
    let histogram = Histogram(upperBounds: [1], created: 0)
    #expect(!histogram.observe(0.5, exemplar: labels))
    #expect(histogram.snapshot().count == 1)
    #expect(histogram.snapshot().exemplars.isEmpty)
    // 8 + 120 characters is exactly the limit.
    #expect(histogram.observe(0.5, exemplar: ["trace_id": String(repeating: "a", count: 120)]))
  }

  static let exemplarFamily = MetricFamilySnapshot(
    name: "rpc_seconds", help: "RPC latency.", kind: .histogram, labelNames: ["method"],
    metrics: [
      MetricSnapshot(
        labelValues: ["Range"],
        value: .histogram(
          HistogramSnapshot(
            upperBounds: [0.01, 0.1], cumulativeCounts: [3, 4], count: 5, sum: 2.5,
            exemplars: [
              Exemplar(
                labels: ["trace_id": "abc", "span_id": "1"], value: 0.0042,
                timestamp: 1_700_000_000.123),
              nil,
              Exemplar(labels: [:], value: 2, timestamp: 1_700_000_001),
            ])),
        created: 1_700_000_000)
    ])

  @Test("OpenMetrics shows exemplars after their bucket lines")
  func openMetrics() {
    #expect(
      OpenMetricsTextFormat.encode([Self.exemplarFamily]).text == """
        # HELP rpc_seconds RPC latency.
        # TYPE rpc_seconds histogram
        rpc_seconds_bucket{method="Range",le="0.01"} 3 # {span_id="1",trace_id="abc"} 0.0042 \
        1.700000000123e+09
        rpc_seconds_bucket{method="Range",le="0.1"} 4
        rpc_seconds_bucket{method="Range",le="+Inf"} 5 # {} 2.0 1.700000001e+09
        rpc_seconds_sum{method="Range"} 2.5
        rpc_seconds_count{method="Range"} 5
        rpc_seconds_created{method="Range"} 1.7e+09
        # EOF

        """)
    // The 0.0.4 text format has no exemplars.
    #expect(!PrometheusTextFormat.encode([Self.exemplarFamily]).text.contains("#  {"))
    #expect(!PrometheusTextFormat.encode([Self.exemplarFamily]).text.contains("trace_id"))
  }

  @Test("protobuf carries exemplars in the buckets, +Inf as an extra bucket")
  func protobuf() throws {
    let families = try decodeDelimited(ProtobufFormat.encode([Self.exemplarFamily]))
    let histogram = try #require(families.first?.metric.first).histogram
    #expect(histogram.bucket.map(\.upperBound) == [0.01, 0.1, .infinity])
    #expect(histogram.bucket.map(\.cumulativeCount) == [3, 4, 5])
    let first = histogram.bucket[0].exemplar
    #expect(first.label.map(\.name) == ["span_id", "trace_id"])
    #expect(first.label.map(\.value) == ["1", "abc"])
    #expect(first.value == 0.0042)
    #expect(first.timestamp.seconds == 1_700_000_000)
    #expect(abs(Int(first.timestamp.nanos) - 123_000_000) < 1_000)
    #expect(!histogram.bucket[1].hasExemplar)
    #expect(histogram.bucket[2].exemplar.value == 2)
    // Classic only: the native exemplar list stays empty.
    #expect(histogram.exemplars.isEmpty)
  }

  @Test("exemplars recorded on a native histogram are also sent as native exemplars")
  func nativeExemplars() throws {
    let registry = MetricsRegistry()
    let histogram = registry.makeHistogram(
      name: "op_seconds", help: "", buckets: [1], native: NativeHistogramOptions())
    histogram.observe(0.5, exemplar: ["trace_id": "t1"])
    let message = try #require(
      decodeDelimited(registry.exposition(format: .protobufDelimited)).first?.metric.first
    ).histogram
    #expect(message.exemplars.map(\.value) == [0.5])
    #expect(message.exemplars.first?.hasTimestamp == true)
    #expect(message.bucket[0].exemplar.label.first?.value == "t1")
  }

  @Test("a service-context provider reads the trace ID of the current task")
  func serviceContextProvider() {
    let provider = ExemplarProvider.serviceContext(TraceIDKey.self)
    #expect(provider() == nil)
    let histogram = Histogram(upperBounds: [1], created: 0)
    histogram.observe(0.1, exemplarFrom: provider)
    #expect(histogram.snapshot().exemplars.isEmpty)

    var context = ServiceContext.topLevel
    context[TraceIDKey.self] = "4bf92f3577b34da6a3ce929d0e0e4736"
    ServiceContext.withValue(context) {
      #expect(provider() == ["trace_id": "4bf92f3577b34da6a3ce929d0e0e4736"])
      histogram.observe(0.2, exemplarFrom: provider)
    }
    let snapshot = histogram.snapshot()
    #expect(snapshot.count == 2)
    #expect(snapshot.exemplars[0]?.labels == ["trace_id": "4bf92f3577b34da6a3ce929d0e0e4736"])
    #expect(snapshot.exemplars[0]?.value == 0.2)

    let custom = ExemplarProvider.serviceContext { context in
      context[TraceIDKey.self].map { ["trace": $0, "sampled": "1"] }
    }
    ServiceContext.withValue(context) {
      #expect(custom()?["sampled"] == "1")
    }
    #expect(ExemplarProvider.none() == nil)
  }
}
