import CoreMetrics
import Metrics
import Testing

@testable import PrometheusMetrics

/// swift-metrics objects made directly with the factory (never `MetricsSystem.bootstrap`, which
/// may run only once per process).
@Suite("swift-metrics backend")
struct RegistryMetricsFactoryTests {
  @Test("every swift-metrics type shows up in the registry's exposition")
  func allTypes() {
    let registry = MetricsRegistry()
    let factory = RegistryMetricsFactory(registry: registry, histogramBuckets: [1, 10])
    let jobs = Counter(label: "jobs_total", dimensions: [("queue", "mail")], factory: factory)
    jobs.increment()
    jobs.increment(by: 2)
    let bytes = FloatingPointCounter(label: "bytes_total", factory: factory)
    bytes.increment(by: 1.5)
    bytes.increment(by: 0.25)
    let temperature = Recorder(label: "temperature", aggregate: false, factory: factory)
    temperature.record(21.5)
    temperature.record(22)
    let sizes = Recorder(label: "sizes", dimensions: [("kind", "put")], factory: factory)
    sizes.record(0.5)
    sizes.record(5)
    sizes.record(50)
    let connections = Meter(label: "connections", factory: factory)
    connections.set(3)
    connections.increment(by: 2)
    connections.decrement(by: 1)
    let latency = Timer(label: "request_duration_seconds", factory: factory)
    latency.recordNanoseconds(2_500_000)
    latency.recordMilliseconds(300)

    let text = registry.exposition(format: .prometheusText0_0_4).text
    #expect(
      text == """
        # TYPE bytes_total counter
        bytes_total 1.75
        # TYPE connections gauge
        connections 4
        # TYPE jobs_total counter
        jobs_total{queue="mail"} 3
        # TYPE request_duration_seconds histogram
        request_duration_seconds_bucket{le="0.005"} 1
        request_duration_seconds_bucket{le="0.01"} 1
        request_duration_seconds_bucket{le="0.025"} 1
        request_duration_seconds_bucket{le="0.05"} 1
        request_duration_seconds_bucket{le="0.1"} 1
        request_duration_seconds_bucket{le="0.25"} 1
        request_duration_seconds_bucket{le="0.5"} 2
        request_duration_seconds_bucket{le="1"} 2
        request_duration_seconds_bucket{le="2.5"} 2
        request_duration_seconds_bucket{le="5"} 2
        request_duration_seconds_bucket{le="10"} 2
        request_duration_seconds_bucket{le="+Inf"} 2
        request_duration_seconds_sum 0.3025
        request_duration_seconds_count 2
        # TYPE sizes histogram
        sizes_bucket{kind="put",le="1"} 1
        sizes_bucket{kind="put",le="10"} 2
        sizes_bucket{kind="put",le="+Inf"} 3
        sizes_sum{kind="put"} 55.5
        sizes_count{kind="put"} 3
        # TYPE temperature gauge
        temperature 22

        """)
  }

  @Test("dimensions become labels sorted by name; handles with equal dimensions share a series")
  func dimensions() {
    let registry = MetricsRegistry()
    let factory = RegistryMetricsFactory(registry: registry)
    for dimensions in [
      [("method", "Range"), ("code", "OK")], [("code", "OK"), ("method", "Range")],
      [("method", "Put"), ("code", "OK")],
    ] {
      Counter(label: "rpcs_total", dimensions: dimensions, factory: factory).increment()
    }
    let text = registry.exposition(format: .prometheusText0_0_4).text
    #expect(text.contains("rpcs_total{code=\"OK\",method=\"Put\"} 1\n"))
    #expect(text.contains("rpcs_total{code=\"OK\",method=\"Range\"} 2\n"))
  }

  @Test(
    "labels and dimension names are sanitized to Prometheus' charset",
    arguments: [
      ("http.server.requests", "http_server_requests"), ("a:b", "a:b"), ("9lives", "_9lives"),
      ("", "_"), ("größe", "gr__e"), ("ok_name", "ok_name"), ("with space-dash", "with_space_dash"),
    ])
  func metricNames(label: String, name: String) {
    #expect(RegistryMetricsFactory.metricName(label) == name)
    #expect(MetricNames.isValidMetricName(name))
  }

  @Test(
    "dimension names are sanitized to label names",
    arguments: [
      ("http.method", false, "http_method"), ("a:b", false, "a_b"),
      ("__name__", false, "_name__"),
      ("1st", false, "_1st"), ("le", true, "_le"), ("le", false, "le"),
    ])
  func labelNames(dimension: String, histogram: Bool, name: String) {
    #expect(RegistryMetricsFactory.labelName(dimension, histogram: histogram) == name)
    #expect(MetricNames.isValidLabelName(name))
  }

  @Test("destroy removes the series; reset sets a counter to zero")
  func destroyAndReset() {
    let registry = MetricsRegistry()
    let factory = RegistryMetricsFactory(registry: registry)
    let kept = Counter(label: "events_total", dimensions: [("kind", "a")], factory: factory)
    let dropped = Counter(label: "events_total", dimensions: [("kind", "b")], factory: factory)
    kept.increment(by: 5)
    dropped.increment()
    dropped.destroy()
    let timer = Timer(label: "wait_seconds", factory: factory)
    timer.recordSeconds(1)
    timer.destroy()
    let meter = Meter(label: "level", factory: factory)
    meter.set(1)
    meter.destroy()
    var text = registry.exposition(format: .prometheusText0_0_4).text
    #expect(text == "# TYPE events_total counter\nevents_total{kind=\"a\"} 5\n")
    kept.reset()
    text = registry.exposition(format: .prometheusText0_0_4).text
    #expect(text.contains("events_total{kind=\"a\"} 0\n"))
    // A destroyed series starts again from zero when made again.
    Counter(label: "events_total", dimensions: [("kind", "b")], factory: factory).increment()
    text = registry.exposition(format: .prometheusText0_0_4).text
    #expect(text.contains("events_total{kind=\"b\"} 1\n"))
  }

  @Test("timers can keep native buckets")
  func nativeTimer() throws {
    let registry = MetricsRegistry()
    let factory = RegistryMetricsFactory(
      registry: registry, timerNativeHistogram: NativeHistogramOptions())
    Timer(label: "op_seconds", factory: factory).recordNanoseconds(1_000_000_000)
    let family = try #require(registry.collect().first)
    guard case .histogram(let histogram) = family.metrics.first?.value else {
      Issue.record("not a histogram: \(family)")
      return
    }
    #expect(histogram.native?.positive == [.init(index: 0, count: 1)])
  }

  @Test("other dimension names for a metric name stop the process")
  func mismatchedDimensions() async {
    await #expect(processExitsWith: .failure) {
      let factory = RegistryMetricsFactory(registry: MetricsRegistry())
      _ = factory.makeCounter(label: "jobs_total", dimensions: [("queue", "a")])
      _ = factory.makeCounter(label: "jobs_total", dimensions: [("worker", "1")])
    }
  }

  @Test("another kind for a metric name stops the process")
  func mismatchedKind() async {
    await #expect(processExitsWith: .failure) {
      let factory = RegistryMetricsFactory(registry: MetricsRegistry())
      _ = factory.makeCounter(label: "things", dimensions: [])
      _ = factory.makeMeter(label: "things", dimensions: [])
    }
  }
}
