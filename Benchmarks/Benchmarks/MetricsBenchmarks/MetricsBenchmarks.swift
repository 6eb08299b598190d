import Benchmark
import EtcdClient
import EtcdMetrics
import Prometheus

/// Latencies between 50 µs and 200 ms, the same for every histogram measured.
private let latencies: [Double] = (0..<1024).map { index in
  0.00005 * Double(1 + (index &* 7919) % 4000)
}

private let latencyBuckets: [Double] = [
  0.00001, 0.00005, 0.0001, 0.0003, 0.0006, 0.0008, 0.001, 0.002, 0.003, 0.004, 0.005, 0.006,
  0.008, 0.01, 0.013, 0.016, 0.02, 0.025, 0.03, 0.04, 0.05, 0.065, 0.08, 0.1, 0.13, 0.16, 0.2,
  0.25, 0.3, 0.4, 0.5, 0.65, 0.8, 1, 2, 5, 10, 20, 50, 100,
]

/// A registry with `series` histogram series and as many counters, for exposition benchmarks.
private func populatedRegistry(series: Int) -> MetricsRegistry {
  let registry = MetricsRegistry()
  let histograms = registry.makeHistogramFamily(
    name: "bench_latency_seconds", help: "Latency.", labelNames: ["method", "endpoint"],
    buckets: [0.001, 0.01, 0.1, 1])
  let counters = registry.makeCounterFamily(
    name: "bench_requests_total", help: "Requests.", labelNames: ["method", "endpoint"])
  for index in 0..<(series / 2) {
    let method = "m\(index % 100)"
    let endpoint = "e\(index / 100)"
    histograms.labels(method, endpoint).observe(0.005)
    counters.labels(method, endpoint).increment()
  }
  return registry
}

let benchmarks: @Sendable () -> Void = {
  Benchmark.defaultConfiguration = .init(
    metrics: [.wallClock, .cpuTotal, .mallocCountTotal, .instructions],
    warmupIterations: 10,
    maxDuration: .seconds(3)
  )

  // MARK: Observation cost, side by side with swift-prometheus on the same input.

  Benchmark(
    "Histogram.observe: EtcdMetrics",
    configuration: .init(scalingFactor: .mega)
  ) { benchmark in
    let histogram = MetricsRegistry().makeHistogram(
      name: "latency_seconds", help: "Latency.", buckets: latencyBuckets)
    benchmark.startMeasurement()
    for index in benchmark.scaledIterations {
      histogram.observe(latencies[index & 1023])
    }
  }

  Benchmark(
    "Histogram.observe: swift-prometheus",
    configuration: .init(scalingFactor: .mega)
  ) { benchmark in
    let histogram = PrometheusCollectorRegistry().makeValueHistogram(
      name: "latency_seconds", buckets: latencyBuckets)
    benchmark.startMeasurement()
    for index in benchmark.scaledIterations {
      histogram.record(latencies[index & 1023])
    }
  }

  Benchmark(
    "Counter.increment: EtcdMetrics",
    configuration: .init(scalingFactor: .mega)
  ) { benchmark in
    let counter = MetricsRegistry().makeCounter(name: "requests_total", help: "Requests.")
    benchmark.startMeasurement()
    for _ in benchmark.scaledIterations { counter.increment() }
  }

  Benchmark(
    "Counter.increment: swift-prometheus",
    configuration: .init(scalingFactor: .mega)
  ) { benchmark in
    let counter = PrometheusCollectorRegistry().makeCounter(name: "requests_total")
    benchmark.startMeasurement()
    for _ in benchmark.scaledIterations { counter.increment() }
  }

  // MARK: Exposition of 1,000 and 10,000 series, into a reused buffer (as a scrape handler can).
  // The series are those of exposition-bench and ../../shared/anchors/goexpo. mallocCountTotal of
  // one exposition should not grow with the series: compare the two sizes.

  for (series, seriesName) in [(1_000, "1,000"), (10_000, "10,000")] {
    for (name, format) in [
      ("text 0.0.4", ExpositionFormat.prometheusText0_0_4),
      ("OpenMetrics 1.0", ExpositionFormat.openMetrics1_0_0),
      ("protobuf (delimited)", ExpositionFormat.protobufDelimited),
    ] {
      Benchmark(
        "Exposition of \(seriesName) series: \(name)",
        configuration: .init(maxIterations: 200)
      ) { benchmark in
        let registry = populatedRegistry(series: series)
        var buffer: [UInt8] = []
        registry.exposition(format: format, into: &buffer)
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
          registry.exposition(format: format, into: &buffer)
          blackHole(buffer)
        }
      }
    }

    Benchmark(
      "Exposition of \(seriesName) series: swift-prometheus text",
      configuration: .init(maxIterations: 200)
    ) { benchmark in
      let registry = PrometheusCollectorRegistry()
      for index in 0..<(series / 2) {
        let labels = [("method", "m\(index % 100)"), ("endpoint", "e\(index / 100)")]
        registry.makeValueHistogram(
          name: "bench_latency_seconds", labels: labels, buckets: [0.001, 0.01, 0.1, 1]
        ).record(0.005)
        registry.makeCounter(name: "bench_requests_total", labels: labels).increment()
      }
      var buffer: [UInt8] = []
      registry.emit(into: &buffer)
      benchmark.startMeasurement()
      for _ in benchmark.scaledIterations {
        buffer.removeAll(keepingCapacity: true)
        registry.emit(into: &buffer)
        blackHole(buffer)
      }
    }
  }

  // MARK: The interceptor's cost per RPC: the five hooks of one unary call, as the client calls them.

  Benchmark(
    "RPCMetricsInterceptor: hooks of one unary call",
    configuration: .init(scalingFactor: .kilo)
  ) { benchmark in
    let interceptor = RPCMetricsInterceptor(registry: MetricsRegistry())
    let endpoint = "127.0.0.1:2379"
    let info = ClientCallInfo(method: RPCMethod.KV.range, endpoint: endpoint, startTime: .now)
    let attempt = ClientAttempt(
      number: 0, endpoint: endpoint, status: .ok, duration: .microseconds(240), bytesSent: 12,
      bytesReceived: 300)
    let outcome = ClientCallOutcome(
      status: .ok, error: nil, duration: .microseconds(250), messagesSent: 1, bytesSent: 12,
      messagesReceived: 1, bytesReceived: 300, endpoint: endpoint)
    benchmark.startMeasurement()
    for _ in benchmark.scaledIterations {
      var metadata = ClientMetadata()
      interceptor.callStarted(info, metadata: &metadata)
      interceptor.messageSent(info, size: 12)
      interceptor.messageReceived(info, size: 300)
      interceptor.attemptFinished(info, attempt: attempt)
      interceptor.callFinished(info, outcome: outcome)
    }
  }
}
