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
  private let readChild: @Sendable (Child) -> MetricSnapshot
  private let children: Mutex<[[String]: Child]>

  init(
    name: String, help: String, kind: MetricFamilySnapshot.Kind, labelNames: [String],
    upperBounds: [Double]? = nil, nativeLayout: NativeHistogramLayout? = nil,
    makeChild: @escaping @Sendable (_ created: Double) -> Child,
    readChild: @escaping @Sendable (Child) -> MetricSnapshot
  ) {
    self.name = name
    self.help = help
    self.kind = kind
    self.labelNames = labelNames
    self.upperBounds = upperBounds
    self.nativeLayout = nativeLayout
    self.makeChild = makeChild
    self.readChild = readChild
    self.children = Mutex([:])
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
      if let existing = children[values] {
        return existing
      }
      let child = makeChild(WallClock.secondsSinceEpoch())
      children[values] = child
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
    children.withLock { $0.removeValue(forKey: values) != nil }
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
      let before = children.count
      children = children.filter { !matches($0.key) }
      return before - children.count
    }
  }

  /// Removes every series from future scrapes.
  public func removeAll() {
    children.withLock { $0.removeAll() }
  }
}

/// A registered family, seen by the registry without its child type.
protocol CollectableFamily: AnyObject, Sendable {
  /// The family's name.
  var name: String { get }
  /// Reads every series.
  func collect() -> MetricFamilySnapshot
}

extension MetricFamily: CollectableFamily {
  func collect() -> MetricFamilySnapshot {
    // Copy the series under the lock, read them outside it: observers never take this lock, and
    // resolving new series waits only for the copy.
    let series = children.withLock { children in Array(children) }
    var metrics = series.map { labelValues, child in
      var snapshot = readChild(child)
      snapshot.labelValues = labelValues
      return snapshot
    }
    metrics.sort { $0.labelValues.lexicographicallyPrecedes($1.labelValues) }
    return MetricFamilySnapshot(
      name: name, help: help, kind: kind, labelNames: labelNames, metrics: metrics)
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
