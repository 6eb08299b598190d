#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// A registered metric family: one series per label-value set.
///
/// Resolve a series once with ``labels(_:)-(String...)`` and keep the handle: the handle's updates
/// take no lock. Resolving takes the family's lock and a dictionary lookup, and so does a scrape
/// while it copies the list of series, so avoid resolving on hot paths.
///
/// ```swift
/// let requests = registry.makeCounterFamily(
///   name: "etcd_client_requests_total", help: "RPCs completed.", labelNames: ["method", "code"])
/// let rangeOK = requests.labels("Range", "OK")  // once
/// rangeOK.increment()                           // per RPC
/// ```
///
/// Keeping the number of label-value sets bounded is the caller's job; ``remove(_:)-(String...)``
/// drops a series that is no longer needed.
public final class MetricFamily<Child: AnyObject & Sendable>: Sendable {
  /// The family's name.
  public let name: String
  /// The family's help text.
  public let help: String
  /// The family's label names.
  public let labelNames: [String]
  /// The kind of the family.
  let kind: MetricFamilySnapshot.Kind
  /// For histogram families, the finite upper bounds of every series.
  let upperBounds: [Double]?
  /// For histogram families with native buckets, their layout.
  let nativeLayout: NativeHistogramLayout?
  private let makeChild: @Sendable (_ created: Double) -> Child
  /// The series' reader, for scrapes.
  private let source: @Sendable (Child) -> SeriesSource
  private let children: Mutex<Children>

  /// The series by label values, and their rendering for scrapes until the set changes.
  private struct Children {
    var byLabelValues: [[String]: Child] = [:]
    var exposition: FamilyExposition?

    /// Drops the rendering when series came or went.
    mutating func changed() {
      exposition = nil
    }
  }

  init(
    name: String, help: String, kind: MetricFamilySnapshot.Kind, labelNames: [String],
    upperBounds: [Double]? = nil, nativeLayout: NativeHistogramLayout? = nil,
    makeChild: @escaping @Sendable (_ created: Double) -> Child,
    source: @escaping @Sendable (Child) -> SeriesSource
  ) {
    self.name = name
    self.help = help
    self.kind = kind
    self.labelNames = labelNames
    self.upperBounds = upperBounds
    self.nativeLayout = nativeLayout
    self.makeChild = makeChild
    self.source = source
    self.children = Mutex(Children())
  }

  /// Returns the series for a set of label values, creating it on first use.
  ///
  /// - Parameter values: One value per label name, in the order of ``labelNames``.
  /// - Returns: The series' handle; the same object for equal label values (until removed).
  public func labels(_ values: String...) -> Child {
    labels(values)
  }

  /// Returns the series for a set of label values, creating it on first use.
  ///
  /// - Parameter values: One value per label name, in the order of ``labelNames``.
  /// - Returns: The series' handle; the same object for equal label values (until removed).
  public func labels(_ values: [String]) -> Child {
    precondition(
      values.count == labelNames.count,
      "\(name) has \(labelNames.count) label names (\(labelNames)) but got \(values.count) values")
    return children.withLock { children in
      if let existing = children.byLabelValues[values] {
        return existing
      }
      let child = makeChild(WallClock.secondsSinceEpoch())
      children.byLabelValues[values] = child
      children.changed()
      return child
    }
  }

  /// Removes the series for a set of label values from future scrapes.
  ///
  /// Handles to it keep working but are no longer exported; resolving the same values again creates
  /// a new series starting from zero.
  ///
  /// - Parameter values: One value per label name, in the order of ``labelNames``.
  /// - Returns: Whether such a series existed.
  @discardableResult
  public func remove(_ values: String...) -> Bool {
    remove(values)
  }

  /// Removes the series for a set of label values from future scrapes.
  ///
  /// - Parameter values: One value per label name, in the order of ``labelNames``.
  /// - Returns: Whether such a series existed.
  @discardableResult
  public func remove(_ values: [String]) -> Bool {
    children.withLock { children in
      guard children.byLabelValues.removeValue(forKey: values) != nil else { return false }
      children.changed()
      return true
    }
  }

  /// Removes from future scrapes every series whose label `labelName` has the value `value`, such as every
  /// series of an endpoint that is gone.
  ///
  /// - Parameters:
  ///   - labelName: One of ``labelNames``; a name the family does not have removes nothing.
  ///   - value: The label value whose series go.
  /// - Returns: How many series were removed.
  @discardableResult
  public func removeAll(whereLabel labelName: String, is value: String) -> Int {
    guard let index = labelNames.firstIndex(of: labelName) else { return 0 }
    return removeAll { $0[index] == value }
  }

  /// Removes from future scrapes every series whose label values match.
  ///
  /// - Parameter matches: Called under the family's lock with each series' label values, in the order
  ///   of ``labelNames``; it must not use the family.
  /// - Returns: How many series were removed.
  @discardableResult
  public func removeAll(where matches: ([String]) -> Bool) -> Int {
    children.withLock { children in
      let before = children.byLabelValues.count
      children.byLabelValues = children.byLabelValues.filter { !matches($0.key) }
      let removed = before - children.byLabelValues.count
      if removed > 0 { children.changed() }
      return removed
    }
  }

  /// Removes every series from future scrapes.
  public func removeAll() {
    children.withLock { children in
      children.byLabelValues.removeAll()
      children.changed()
    }
  }
}

/// A registered family, seen by the registry without its child type.
protocol CollectableFamily: AnyObject, Sendable {
  /// The family's name.
  var name: String { get }
  /// Reads every series.
  func collect() -> MetricFamilySnapshot
  /// The series sorted by label values and their rendering, made again after series came or went.
  func currentExposition() -> FamilyExposition
}

/// One series, as scrapes read it.
enum SeriesSource: Sendable {
  case counter(Counter)
  case gauge(Gauge)
  case histogram(Histogram)

  /// When the series was created, in seconds since the Unix epoch.
  var created: Double {
    switch self {
    case .counter(let counter): counter.created
    case .gauge(let gauge): gauge.created
    case .histogram(let histogram): histogram.created
    }
  }

  /// Calls `body` with the series' current values.
  @inline(__always)
  func withValue(_ body: (SeriesValue) -> Void) {
    switch self {
    case .counter(let counter): body(.counter(counter.value))
    case .gauge(let gauge): body(.gauge(gauge.value))
    case .histogram(let histogram):
      histogram.withReading { reading in
        var reading = reading
        // Every series of a registered family has the family's bounds.
        reading.hasFamilyBounds = true
        body(.histogram(reading))
      }
    }
  }
}

/// A family's series, sorted by label values, with their rendering: kept until the set changes.
final class FamilyExposition: Sendable {
  let rendering: FamilyRendering
  let series: [SeriesSource]

  init(rendering: FamilyRendering, series: [SeriesSource]) {
    self.rendering = rendering
    self.series = series
  }
}

extension MetricFamily: CollectableFamily {
  func collect() -> MetricFamilySnapshot {
    // Copy the series under the lock, read them outside it: observers never take this lock, and
    // resolving new series waits only for the copy.
    let series = children.withLock { children in Array(children.byLabelValues) }
    var metrics = series.map { labelValues, child in
      var value: MetricSnapshot.Value = .counter(0)
      let series = source(child)
      series.withValue { read in
        switch read {
        case .counter(let number): value = .counter(number)
        case .gauge(let number): value = .gauge(number)
        case .histogram(let histogram): value = .histogram(histogram.snapshot)
        }
      }
      return MetricSnapshot(labelValues: labelValues, value: value, created: series.created)
    }
    metrics.sort { $0.labelValues.lexicographicallyPrecedes($1.labelValues) }
    return MetricFamilySnapshot(
      name: name, help: help, kind: kind, labelNames: labelNames, metrics: metrics)
  }
}

extension MetricFamily {
  func currentExposition() -> FamilyExposition {
    children.withLock { children in
      if let exposition = children.exposition { return exposition }
      let sorted = children.byLabelValues.sorted { $0.key.lexicographicallyPrecedes($1.key) }
      let series = sorted.map { source($0.value) }
      let rendering = FamilyRendering(
        name: name, help: help, kind: kind, labelNames: labelNames,
        upperBounds: upperBounds ?? [],
        series: zip(sorted, series).lazy.map { (labelValues: $0.0.key, created: $0.1.created) })
      let exposition = FamilyExposition(rendering: rendering, series: series)
      children.exposition = exposition
      return exposition
    }
  }
}

/// The wall clock, for `_created` timestamps.
enum WallClock {
  /// Seconds since the Unix epoch.
  static func secondsSinceEpoch() -> Double {
    var now = timespec()
    clock_gettime(CLOCK_REALTIME, &now)
    return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
  }
}
