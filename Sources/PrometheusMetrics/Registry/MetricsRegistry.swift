import Synchronization

/// A set of metric families, scraped together.
///
/// Register every family once, at start-up, and keep the handles: registering a name twice or
/// giving bad histogram buckets is a programmer error and stops the process (as client_golang's
/// `MustRegister` and `NewHistogram` panic).
///
/// ```swift
/// let registry = MetricsRegistry()
/// let rpcs = registry.makeCounterFamily(
///   name: "etcd_client_rpcs_total", help: "RPCs completed.", labelNames: ["method", "code"])
/// let latency = registry.makeHistogram(
///   name: "etcd_client_rpc_duration_seconds", help: "RPC latency.",
///   buckets: HistogramBuckets.defaults)
/// rpcs.labels("Range", "OK").increment()
/// latency.observe(0.0042)
/// let body = registry.exposition(format: .prometheusText0_0_4)
/// ```
public final class MetricsRegistry: Sendable {
  private let families = Mutex(Families())
  /// The size of the latest body of each format, to reserve that much for the next.
  private let latestSizes = Mutex([ExpositionFormat: Int]())

  /// The families by name, and sorted by name until one comes or goes.
  private struct Families {
    var byName: [String: any CollectableFamily] = [:]
    var sortedCache: [any CollectableFamily]?

    mutating func sorted() -> [any CollectableFamily] {
      if let sortedCache { return sortedCache }
      let sorted = byName.values.sorted { $0.name < $1.name }
      sortedCache = sorted
      return sorted
    }

    mutating func set(_ family: (any CollectableFamily)?, for name: String) {
      byName[name] = family
      sortedCache = nil
    }
  }

  /// Creates an empty registry.
  public init() {}

  // MARK: Families

  /// Registers a counter family.
  ///
  /// - Parameters:
  ///   - name: The metric name (`[a-zA-Z_:][a-zA-Z0-9_:]*`); counters should end in `_total`.
  ///   - help: The help text.
  ///   - labelNames: The label names (`[a-zA-Z_][a-zA-Z0-9_]*`, not starting with `__`).
  /// - Returns: The family; resolve series with ``MetricFamily/labels(_:)-(String...)``.
  public func makeCounterFamily(
    name: String, help: String, labelNames: [String]
  ) -> MetricFamily<Counter> {
    register(makeCounterFamilyUnregistered(name: name, help: help, labelNames: labelNames))
  }

  /// Registers a gauge family.
  ///
  /// - Parameters:
  ///   - name: The metric name (`[a-zA-Z_:][a-zA-Z0-9_:]*`).
  ///   - help: The help text.
  ///   - labelNames: The label names (`[a-zA-Z_][a-zA-Z0-9_]*`, not starting with `__`).
  /// - Returns: The family; resolve series with ``MetricFamily/labels(_:)-(String...)``.
  public func makeGaugeFamily(
    name: String, help: String, labelNames: [String]
  ) -> MetricFamily<Gauge> {
    register(makeGaugeFamilyUnregistered(name: name, help: help, labelNames: labelNames))
  }

  /// Registers a histogram family.
  ///
  /// - Parameters:
  ///   - name: The metric name (`[a-zA-Z_:][a-zA-Z0-9_:]*`).
  ///   - help: The help text.
  ///   - labelNames: The label names (`[a-zA-Z_][a-zA-Z0-9_]*`, not `le`, not starting with `__`).
  ///   - buckets: The upper bounds: non-empty, strictly ascending, no NaN; a trailing `+Inf` is
  ///     implied and may be omitted.
  ///   - native: With options, each series also keeps native (sparse exponential) buckets, which
  ///     the protobuf exposition sends for Prometheus' native histograms; `nil` (the default) for
  ///     classic buckets only.
  /// - Returns: The family; resolve series with ``MetricFamily/labels(_:)-(String...)``.
  public func makeHistogramFamily(
    name: String, help: String, labelNames: [String], buckets: [Double],
    native: NativeHistogramOptions? = nil
  ) -> MetricFamily<Histogram> {
    register(
      makeHistogramFamilyUnregistered(
        name: name, help: help, labelNames: labelNames, buckets: buckets, native: native))
  }

  // MARK: Single series

  /// Registers a counter without labels.
  ///
  /// - Parameters:
  ///   - name: The metric name; counters should end in `_total`.
  ///   - help: The help text.
  /// - Returns: The counter.
  public func makeCounter(name: String, help: String) -> Counter {
    makeCounterFamily(name: name, help: help, labelNames: []).labels()
  }

  /// Registers a gauge without labels.
  ///
  /// - Parameters:
  ///   - name: The metric name.
  ///   - help: The help text.
  /// - Returns: The gauge.
  public func makeGauge(name: String, help: String) -> Gauge {
    makeGaugeFamily(name: name, help: help, labelNames: []).labels()
  }

  /// Registers a histogram without labels.
  ///
  /// - Parameters:
  ///   - name: The metric name.
  ///   - help: The help text.
  ///   - buckets: The upper bounds: non-empty, strictly ascending, no NaN.
  ///   - native: With options, the histogram also keeps native (sparse exponential) buckets;
  ///     `nil` (the default) for classic buckets only.
  /// - Returns: The histogram.
  public func makeHistogram(
    name: String, help: String, buckets: [Double], native: NativeHistogramOptions? = nil
  ) -> Histogram {
    makeHistogramFamily(
      name: name, help: help, labelNames: [], buckets: buckets, native: native
    ).labels()
  }

  // MARK: Registration

  /// Removes a family from future scrapes.
  ///
  /// Handles to its series keep working but are no longer exported; the name can be registered
  /// again.
  ///
  /// - Parameter name: The family's name.
  /// - Returns: Whether such a family was registered.
  @discardableResult
  public func unregister(name: String) -> Bool {
    families.withLock { families in
      guard families.byName[name] != nil else { return false }
      families.set(nil, for: name)
      return true
    }
  }

  /// Whether a family with this name is registered.
  ///
  /// - Parameter name: The family's name.
  /// - Returns: Whether it is registered.
  public func isRegistered(name: String) -> Bool {
    families.withLock { $0.byName[name] != nil }
  }

  /// Reads every family, sorted by name, each family's series sorted by label values.
  ///
  /// - Returns: The snapshots the exposition formats encode.
  public func collect() -> [MetricFamilySnapshot] {
    families.withLock { $0.sorted() }.map { $0.collect() }
  }

  /// Writes every family, sorted by name, with `encoder`.
  func expose<Encoder: SeriesEncoder>(into encoder: inout Encoder) {
    for family in families.withLock({ $0.sorted() }) {
      let exposition = family.currentExposition()
      guard !exposition.series.isEmpty else { continue }
      let rendering = exposition.rendering
      encoder.beginFamily(rendering)
      for (index, series) in exposition.series.enumerated() {
        series.withValue { encoder.writeSeries(rendering, index, $0) }
      }
      encoder.endFamily(rendering)
    }
    encoder.finish()
  }

  /// The size of the latest body in `format`, or 0.
  func latestSize(of format: ExpositionFormat) -> Int {
    latestSizes.withLock { $0[format] ?? 0 }
  }

  func setLatestSize(_ size: Int, of format: ExpositionFormat) {
    latestSizes.withLock { $0[format] = size }
  }

  /// Returns the registered family of this name if it has the same shape, else registers `family`.
  ///
  /// For components that may be started more than once against one registry (the metrics server
  /// instruments itself): a family of the same name but another kind, labels or buckets is still a
  /// programmer error.
  func registerOrReuse<Child>(_ family: MetricFamily<Child>) -> MetricFamily<Child> {
    families.withLock { families in
      if let existing = families.byName[family.name] {
        guard let same = existing as? MetricFamily<Child>, same.kind == family.kind,
          same.labelNames == family.labelNames, same.upperBounds == family.upperBounds,
          same.nativeLayout == family.nativeLayout
        else {
          preconditionFailure("metric \(family.name) is already registered with another shape")
        }
        return same
      }
      families.set(family, for: family.name)
      return family
    }
  }

  private func register<Child>(_ family: MetricFamily<Child>) -> MetricFamily<Child> {
    families.withLock { families in
      precondition(
        families.byName[family.name] == nil, "metric \(family.name) is already registered")
      families.set(family, for: family.name)
    }
    return family
  }
}

extension MetricsRegistry {
  func makeCounterFamilyUnregistered(
    name: String, help: String, labelNames: [String]
  ) -> MetricFamily<Counter> {
    Self.validate(name: name, labelNames: labelNames)
    return MetricFamily(
      name: name, help: help, kind: .counter, labelNames: labelNames,
      makeChild: { Counter(created: $0) },
      source: { .counter($0) })
  }

  func makeGaugeFamilyUnregistered(
    name: String, help: String, labelNames: [String]
  ) -> MetricFamily<Gauge> {
    Self.validate(name: name, labelNames: labelNames)
    return MetricFamily(
      name: name, help: help, kind: .gauge, labelNames: labelNames,
      makeChild: { Gauge(created: $0) },
      source: { .gauge($0) })
  }

  func makeHistogramFamilyUnregistered(
    name: String, help: String, labelNames: [String], buckets: [Double],
    native: NativeHistogramOptions? = nil
  ) -> MetricFamily<Histogram> {
    Self.validate(name: name, labelNames: labelNames)
    precondition(!labelNames.contains("le"), "histogram \(name) cannot use the label name le")
    let bounds = Self.validatedUpperBounds(buckets, name: name)
    let layout = native.map { NativeHistogramLayout($0, name: name) }
    return MetricFamily(
      name: name, help: help, kind: .histogram, labelNames: labelNames, upperBounds: bounds,
      nativeLayout: layout,
      makeChild: { Histogram(upperBounds: bounds, native: layout, created: $0) },
      source: { .histogram($0) })
  }

  private static func validate(name: String, labelNames: [String]) {
    precondition(MetricNames.isValidMetricName(name), "invalid metric name \"\(name)\"")
    for label in labelNames {
      precondition(
        MetricNames.isValidLabelName(label), "invalid label name \"\(label)\" in \(name)")
    }
    precondition(Set(labelNames).count == labelNames.count, "duplicate label names in \(name)")
  }

  /// The finite bounds, checked: non-empty, strictly ascending, no NaN; a trailing `+Inf` dropped.
  static func validatedUpperBounds(_ buckets: [Double], name: String) -> [Double] {
    var bounds = buckets
    if bounds.last == .infinity {
      bounds.removeLast()
    }
    precondition(!bounds.isEmpty, "histogram \(name) needs at least one finite bucket bound")
    precondition(!bounds.contains(where: \.isNaN), "histogram \(name) has a NaN bucket bound")
    for index in bounds.indices.dropFirst() {
      precondition(
        bounds[index - 1] < bounds[index],
        "histogram \(name) buckets must be strictly ascending: \(buckets)")
    }
    return bounds
  }
}

/// Ready-made histogram bucket layouts.
public enum HistogramBuckets {
  /// client_golang's default buckets, for latencies in seconds (5 ms to 10 s).
  public static let defaults: [Double] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
  ]

  /// `count` bounds starting at `start`, each `factor` times the previous one.
  ///
  /// - Parameters:
  ///   - start: The first bound; must be positive.
  ///   - factor: The growth factor; must be greater than 1.
  ///   - count: The number of bounds; must be positive.
  /// - Returns: The bounds.
  public static func exponential(start: Double, factor: Double, count: Int) -> [Double] {
    precondition(start > 0 && factor > 1 && count > 0, "bad exponential bucket parameters")
    var bounds: [Double] = []
    bounds.reserveCapacity(count)
    var bound = start
    for _ in 0..<count {
      bounds.append(bound)
      bound *= factor
    }
    return bounds
  }

  /// `count` bounds starting at `start`, `width` apart.
  ///
  /// - Parameters:
  ///   - start: The first bound.
  ///   - width: The distance between bounds; must be positive.
  ///   - count: The number of bounds; must be positive.
  /// - Returns: The bounds.
  public static func linear(start: Double, width: Double, count: Int) -> [Double] {
    precondition(width > 0 && count > 0, "bad linear bucket parameters")
    return (0..<count).map { start + Double($0) * width }
  }
}
