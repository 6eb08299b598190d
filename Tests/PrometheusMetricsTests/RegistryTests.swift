import Testing

@testable import PrometheusMetrics

@Suite("MetricsRegistry")
struct RegistryTests {
  @Test("counters add whole and fractional increments")
  func counter() {
    let registry = MetricsRegistry()
    let counter = registry.makeCounter(name: "things_total", help: "Things.")
    counter.increment()
    counter.increment(by: 2 as UInt64)
    counter.increment(by: 0.5)
    counter.increment(by: 3.0)
    #expect(counter.value == 6.5)
    #expect(registry.collect().first?.metrics.first?.value == .counter(6.5))
  }

  @Test("gauges set, add and subtract")
  func gauge() {
    let registry = MetricsRegistry()
    let gauge = registry.makeGauge(name: "level", help: "Level.")
    gauge.set(10)
    gauge.add(-2.5)
    gauge.increment()
    gauge.decrement()
    gauge.decrement()
    #expect(gauge.value == 6.5)
  }

  @Test("a label-value set resolves to one handle until removed")
  func labelledHandles() {
    let registry = MetricsRegistry()
    let family = registry.makeCounterFamily(
      name: "rpcs_total", help: "RPCs.", labelNames: ["method", "code"])
    let first = family.labels("Range", "OK")
    #expect(first === family.labels(["Range", "OK"]))
    #expect(first !== family.labels("Range", "Unavailable"))
    first.increment()
    #expect(registry.collect()[0].metrics.count == 2)
    #expect(family.remove("Range", "OK"))
    #expect(!family.remove("Range", "OK"))
    let snapshot = registry.collect()[0]
    #expect(snapshot.metrics.map(\.labelValues) == [["Range", "Unavailable"]])
    #expect(family.labels("Range", "OK") !== first)
    family.removeAll()
    #expect(registry.collect()[0].metrics.isEmpty)
  }

  @Test("every series with one label value can be removed at once")
  func removeByLabelValue() {
    let registry = MetricsRegistry()
    let family = registry.makeCounterFamily(
      name: "probes_total", help: "Probes.", labelNames: ["endpoint", "op"])
    for endpoint in ["a:1", "b:1"] {
      for op in ["put", "get"] { family.labels(endpoint, op).increment() }
    }
    _ = family.labels("put", "a:1")  // the value under another label stays
    #expect(family.removeAll(whereLabel: "endpoint", is: "a:1") == 2)
    #expect(family.removeAll(whereLabel: "endpoint", is: "a:1") == 0)
    #expect(family.removeAll(whereLabel: "instance", is: "b:1") == 0)
    #expect(
      registry.collect()[0].metrics.map(\.labelValues) == [["b:1", "get"], ["b:1", "put"], ["put", "a:1"]])
    #expect(family.removeAll { $0 == ["b:1", "put"] } == 1)
    #expect(registry.collect()[0].metrics.map(\.labelValues) == [["b:1", "get"], ["put", "a:1"]])
  }

  @Test("collect sorts families by name and series by label values")
  func collectOrder() {
    let registry = MetricsRegistry()
    let b = registry.makeGaugeFamily(name: "b", help: "B.", labelNames: ["x"])
    _ = registry.makeGauge(name: "a", help: "A.")
    _ = b.labels("z")
    _ = b.labels("m")
    _ = b.labels("a")
    let families = registry.collect()
    #expect(families.map(\.name) == ["a", "b"])
    #expect(families[1].metrics.map(\.labelValues) == [["a"], ["m"], ["z"]])
  }

  @Test("series carry a creation time")
  func createdTimestamps() {
    let before = WallClock.secondsSinceEpoch()
    let registry = MetricsRegistry()
    _ = registry.makeCounter(name: "c_total", help: "C.")
    let after = WallClock.secondsSinceEpoch()
    let created = registry.collect()[0].metrics[0].created
    #expect(created.map { $0 >= before && $0 <= after } == true)
  }

  @Test("unregister frees the name")
  func unregister() {
    let registry = MetricsRegistry()
    _ = registry.makeGauge(name: "g", help: "G.")
    #expect(registry.isRegistered(name: "g"))
    #expect(registry.unregister(name: "g"))
    #expect(!registry.isRegistered(name: "g"))
    _ = registry.makeCounter(name: "g", help: "Now a counter.")
    #expect(registry.collect()[0].kind == .counter)
  }

  @Test("registerOrReuse returns the family registered before")
  func reuse() {
    let registry = MetricsRegistry()
    let first = registry.registerOrReuse(
      registry.makeCounterFamilyUnregistered(name: "x_total", help: "X.", labelNames: ["code"]))
    let second = registry.registerOrReuse(
      registry.makeCounterFamilyUnregistered(name: "x_total", help: "X.", labelNames: ["code"]))
    #expect(first === second)
  }

  @Test(
    "name checks",
    arguments: [
      ("etcd_client_requests_total", true), ("a:b_c", true), ("_x", true), ("", false),
      ("1abc", false), ("a-b", false), ("a b", false), ("é", false),
    ])
  func metricNames(name: String, valid: Bool) {
    #expect(MetricNames.isValidMetricName(name) == valid)
  }

  @Test(
    "label name checks",
    arguments: [("method", true), ("_x", true), ("__name__", false), ("a:b", false), ("0", false)])
  func labelNames(name: String, valid: Bool) {
    #expect(MetricNames.isValidLabelName(name) == valid)
  }

  @Test("bucket helpers")
  func bucketHelpers() {
    #expect(HistogramBuckets.exponential(start: 1, factor: 2, count: 4) == [1, 2, 4, 8])
    #expect(HistogramBuckets.linear(start: 0.5, width: 0.5, count: 3) == [0.5, 1, 1.5])
    #expect(MetricsRegistry.validatedUpperBounds([1, 2, .infinity], name: "h") == [1, 2])
  }

  @Test("registering a name twice stops the process")
  func duplicateName() async {
    await #expect(processExitsWith: .failure) {
      let registry = MetricsRegistry()
      _ = registry.makeCounter(name: "dup_total", help: "Once.")
      _ = registry.makeGauge(name: "dup_total", help: "Twice.")
    }
  }

  @Test(
    "bad buckets stop the process",
    // Written as text: exit tests capture values as JSON, which has no NaN or infinity.
    arguments: ["", "2 1", "1 1", "nan", "inf", "1 nan"])
  func badBuckets(buckets: String) async {
    await #expect(processExitsWith: .failure) { [buckets] in
      let bounds = buckets.split(separator: " ").map { Double(String($0))! }
      _ = MetricsRegistry().makeHistogram(name: "h", help: "H.", buckets: bounds)
    }
  }

  @Test("a wrong number of label values stops the process")
  func wrongLabelCount() async {
    await #expect(processExitsWith: .failure) {
      let registry = MetricsRegistry()
      _ = registry.makeCounterFamily(name: "c_total", help: "C.", labelNames: ["a", "b"])
        .labels("only one")
    }
  }
}
