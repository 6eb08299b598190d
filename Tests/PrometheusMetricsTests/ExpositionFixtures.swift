@testable import PrometheusMetrics

/// Hand-built families covering every kind, labels and escaping, with fixed creation times.
enum ExpositionFixtures {
  static let families: [MetricFamilySnapshot] = [
    MetricFamilySnapshot(
      name: "etcd_requests_total", help: "Requests by method and code.", kind: .counter,
      labelNames: ["method", "code"],
      metrics: [
        MetricSnapshot(labelValues: ["Put", "OK"], value: .counter(2), created: 1_700_000_000.25),
        MetricSnapshot(
          labelValues: ["Range", "OK"], value: .counter(1027), created: 1_700_000_000),
      ]),
    MetricFamilySnapshot(
      name: "queue_depth", help: "A gauge with \"quotes\", a back\\slash and a\nnewline.",
      kind: .gauge, labelNames: ["path", "note"],
      metrics: [
        MetricSnapshot(
          labelValues: ["C:\\dir", "say \"hi\"\nbye"], value: .gauge(-3.5), created: 5)
      ]),
    MetricFamilySnapshot(
      name: "rpc_duration_seconds", help: "RPC latency.", kind: .histogram, labelNames: ["method"],
      metrics: [
        MetricSnapshot(
          labelValues: ["Range"],
          value: .histogram(
            HistogramSnapshot(
              upperBounds: [0.005, 0.1, 1], cumulativeCounts: [1, 3, 4], count: 5, sum: 12.5)),
          created: 1_700_000_000.5)
      ]),
    MetricFamilySnapshot(
      name: "tiny", help: "", kind: .gauge, metrics: [MetricSnapshot(value: .gauge(0.00001))]),
    MetricFamilySnapshot(name: "unused", help: "No series yet.", kind: .counter, metrics: []),
    MetricFamilySnapshot(
      name: "up_seconds", help: "A counter without the _total suffix.", kind: .counter,
      metrics: [MetricSnapshot(value: .counter(1_234_567))]),
  ]

  /// A registry with every kind of metric, labelled and not, for promtool.
  static func populatedRegistry() -> MetricsRegistry {
    let registry = MetricsRegistry()
    let requests = registry.makeCounterFamily(
      name: "etcd_client_requests_total", help: "RPCs completed, by method and code.",
      labelNames: ["method", "code"])
    requests.labels("Range", "OK").increment(by: 41 as UInt64)
    requests.labels("Put", "Unavailable").increment()
    registry.makeCounter(name: "etcd_client_bytes_sent_total", help: "Bytes sent.")
      .increment(by: 1.5e7)
    registry.makeGauge(name: "etcd_client_connections", help: "Open connections.").set(3)
    registry.makeGaugeFamily(
      name: "etcd_client_info", help: "Client version \"0.1\" with a back\\slash.",
      labelNames: ["version"]
    ).labels("0.1.0\n\"dev\"").set(1)
    let latency = registry.makeHistogramFamily(
      name: "etcd_client_request_duration_seconds", help: "RPC latency in seconds.",
      labelNames: ["method"], buckets: HistogramBuckets.defaults)
    for value in [0.0001, 0.003, 0.02, 0.2, 2, 20] { latency.labels("Range").observe(value) }
    registry.makeHistogram(
      name: "etcd_client_message_size_bytes", help: "Message sizes.",
      buckets: HistogramBuckets.exponential(start: 64, factor: 4, count: 6)
    ).observe(1000)
    return registry
  }
}

extension Array where Element == UInt8 {
  /// The bytes as UTF-8 text.
  var text: String { String(decoding: self, as: UTF8.self) }
}
