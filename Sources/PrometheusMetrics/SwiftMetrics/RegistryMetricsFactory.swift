public import CoreMetrics
import Synchronization

/// A swift-metrics backend that records into a ``MetricsRegistry``, so metrics of libraries that
/// use swift-metrics are scraped together with the registry's own.
///
/// ```swift
/// let registry = MetricsRegistry()
/// MetricsSystem.bootstrap(RegistryMetricsFactory(registry: registry))
/// Counter(label: "jobs_total", dimensions: [("queue", "mail")]).increment()
/// ```
///
/// How swift-metrics types map:
///
/// | swift-metrics | registry family | |
/// | --- | --- | --- |
/// | `Counter`, `FloatingPointCounter` | counter | `reset()` sets it to 0 |
/// | `Recorder(aggregate: true)` | histogram | ``histogramBuckets`` |
/// | `Recorder(aggregate: false)`, `Meter` | gauge | the last value |
/// | `Timer` | histogram in seconds | ``timerBuckets``, ``timerNativeHistogram`` |
///
/// - **Names.** A label becomes the metric name with every character outside
///   `[a-zA-Z0-9_:]` replaced by `_` (and `_` in front of a leading digit); nothing is appended
///   (no `_total`, no `_seconds`), so name metrics the Prometheus way. Dimensions become labels,
///   sorted by name, sanitized the same way (without `:`; a leading `__` becomes `_`; `le` on a
///   histogram becomes `_le`).
/// - **One shape per name.** Every metric of one name must have the same kind and the same
///   dimension names (values differ, of course). A second shape for a name is a programmer error
///   and stops the process with a precondition failure, as registering a family twice does: a
///   scrape could not represent both (Prometheus needs one `TYPE` and consistent labels per
///   family). The same holds against families registered directly in the registry.
/// - **Destroying** a metric removes its series (name and dimension values) from scrapes; other
///   swift-metrics handles with the same name and dimensions share that series and stop being
///   exported too, while still accepting updates. The family stays registered, so the name keeps
///   its shape.
/// - **No help text**: swift-metrics has none, so no `# HELP` line is written.
public final class RegistryMetricsFactory: MetricsFactory {
  /// The registry metrics are recorded in.
  public let registry: MetricsRegistry
  /// The upper bounds of histograms made for aggregating `Recorder`s.
  public let histogramBuckets: [Double]
  /// The upper bounds, in seconds, of histograms made for `Timer`s.
  public let timerBuckets: [Double]
  /// Native bucket options for `Timer` histograms, or `nil` for classic buckets only.
  public let timerNativeHistogram: NativeHistogramOptions?

  /// What was made per metric name: the kind and label names it is fixed to.
  private let shapes = Mutex<[String: Shape]>([:])

  private enum Kind: Hashable {
    case counter
    case gauge
    case histogram
    case timer
  }

  private struct Shape {
    var kind: Kind
    var labelNames: [String]
    var family: any Sendable
  }

  /// Creates a backend over a registry.
  ///
  /// - Parameters:
  ///   - registry: The registry to record into.
  ///   - histogramBuckets: The bounds of aggregating recorders. Default:
  ///     ``HistogramBuckets/defaults``.
  ///   - timerBuckets: The bounds of timers, in seconds. Default: ``HistogramBuckets/defaults``.
  ///   - timerNativeHistogram: Native bucket options for timers; `nil` (the default) for classic
  ///     buckets only.
  public init(
    registry: MetricsRegistry, histogramBuckets: [Double] = HistogramBuckets.defaults,
    timerBuckets: [Double] = HistogramBuckets.defaults,
    timerNativeHistogram: NativeHistogramOptions? = nil
  ) {
    self.registry = registry
    self.histogramBuckets = histogramBuckets
    self.timerBuckets = timerBuckets
    self.timerNativeHistogram = timerNativeHistogram
  }

  // MARK: MetricsFactory

  /// Makes a counter series. See ``RegistryMetricsFactory`` for names and shapes.
  ///
  /// - Parameters:
  ///   - label: The swift-metrics label, sanitized into the metric name.
  ///   - dimensions: Become labels.
  /// - Returns: The handler.
  public func makeCounter(label: String, dimensions: [(String, String)]) -> any CounterHandler {
    let (family, values) = series(label, dimensions, .counter) { name, labelNames in
      registry.makeCounterFamilyUnregistered(name: name, help: "", labelNames: labelNames)
    }
    return RegistryCounterHandler(counter: family.labels(values), family: family, values: values)
  }

  /// Makes a counter series that takes fractional increments.
  ///
  /// - Parameters:
  ///   - label: The swift-metrics label, sanitized into the metric name.
  ///   - dimensions: Become labels.
  /// - Returns: The handler.
  public func makeFloatingPointCounter(
    label: String, dimensions: [(String, String)]
  ) -> any FloatingPointCounterHandler {
    let (family, values) = series(label, dimensions, .counter) { name, labelNames in
      registry.makeCounterFamilyUnregistered(name: name, help: "", labelNames: labelNames)
    }
    return RegistryCounterHandler(counter: family.labels(values), family: family, values: values)
  }

  /// Makes a recorder: a histogram series when aggregating, else a gauge series.
  ///
  /// - Parameters:
  ///   - label: The swift-metrics label, sanitized into the metric name.
  ///   - dimensions: Become labels.
  ///   - aggregate: Whether to keep the distribution (histogram) or only the last value (gauge).
  /// - Returns: The handler.
  public func makeRecorder(
    label: String, dimensions: [(String, String)], aggregate: Bool
  ) -> any RecorderHandler {
    guard aggregate else {
      return makeGaugeHandler(label: label, dimensions: dimensions)
    }
    let (family, values) = series(label, dimensions, .histogram) { name, labelNames in
      registry.makeHistogramFamilyUnregistered(
        name: name, help: "", labelNames: labelNames, buckets: histogramBuckets)
    }
    return RegistryHistogramHandler(
      histogram: family.labels(values), family: family, values: values)
  }

  /// Makes a meter: a gauge series.
  ///
  /// - Parameters:
  ///   - label: The swift-metrics label, sanitized into the metric name.
  ///   - dimensions: Become labels.
  /// - Returns: The handler.
  public func makeMeter(label: String, dimensions: [(String, String)]) -> any MeterHandler {
    makeGaugeHandler(label: label, dimensions: dimensions)
  }

  /// Makes a timer: a histogram series in seconds.
  ///
  /// - Parameters:
  ///   - label: The swift-metrics label, sanitized into the metric name.
  ///   - dimensions: Become labels.
  /// - Returns: The handler.
  public func makeTimer(label: String, dimensions: [(String, String)]) -> any TimerHandler {
    let (family, values) = series(label, dimensions, .timer) { name, labelNames in
      registry.makeHistogramFamilyUnregistered(
        name: name, help: "", labelNames: labelNames, buckets: timerBuckets,
        native: timerNativeHistogram)
    }
    return RegistryHistogramHandler(
      histogram: family.labels(values), family: family, values: values)
  }

  /// Removes the counter's series from scrapes.
  ///
  /// - Parameter handler: A handler this factory made.
  public func destroyCounter(_ handler: any CounterHandler) {
    (handler as? any RegistrySeriesHandler)?.removeSeries()
  }

  /// Removes the counter's series from scrapes.
  ///
  /// - Parameter handler: A handler this factory made.
  public func destroyFloatingPointCounter(_ handler: any FloatingPointCounterHandler) {
    (handler as? any RegistrySeriesHandler)?.removeSeries()
  }

  /// Removes the recorder's series from scrapes.
  ///
  /// - Parameter handler: A handler this factory made.
  public func destroyRecorder(_ handler: any RecorderHandler) {
    (handler as? any RegistrySeriesHandler)?.removeSeries()
  }

  /// Removes the meter's series from scrapes.
  ///
  /// - Parameter handler: A handler this factory made.
  public func destroyMeter(_ handler: any MeterHandler) {
    (handler as? any RegistrySeriesHandler)?.removeSeries()
  }

  /// Removes the timer's series from scrapes.
  ///
  /// - Parameter handler: A handler this factory made.
  public func destroyTimer(_ handler: any TimerHandler) {
    (handler as? any RegistrySeriesHandler)?.removeSeries()
  }

  // MARK: Families

  private func makeGaugeHandler(
    label: String, dimensions: [(String, String)]
  ) -> RegistryGaugeHandler {
    let (family, values) = series(label, dimensions, .gauge) { name, labelNames in
      registry.makeGaugeFamilyUnregistered(name: name, help: "", labelNames: labelNames)
    }
    return RegistryGaugeHandler(gauge: family.labels(values), family: family, values: values)
  }

  /// The family for a label (registered on first use) and the label values for the dimensions.
  private func series<Child>(
    _ label: String, _ dimensions: [(String, String)], _ kind: Kind,
    make: (_ name: String, _ labelNames: [String]) -> MetricFamily<Child>
  ) -> (MetricFamily<Child>, [String]) {
    let name = Self.metricName(label)
    let isHistogram = kind == .histogram || kind == .timer
    let labels = dimensions.map { (Self.labelName($0.0, histogram: isHistogram), $0.1) }
      .sorted { $0.0 < $1.0 }
    let labelNames = labels.map(\.0)
    let family = shapes.withLock { shapes -> MetricFamily<Child> in
      if let shape = shapes[name] {
        guard shape.kind == kind, shape.labelNames == labelNames,
          let family = shape.family as? MetricFamily<Child>
        else {
          preconditionFailure(
            "swift-metrics \(kind) \"\(label)\" with dimensions \(labelNames) cannot share the "
              + "metric name \(name) with the \(shape.kind) made before with \(shape.labelNames)")
        }
        return family
      }
      let family = registry.registerOrReuse(make(name, labelNames))
      shapes[name] = Shape(kind: kind, labelNames: labelNames, family: family)
      return family
    }
    return (family, labels.map(\.1))
  }

  /// A swift-metrics label as a Prometheus metric name: `[a-zA-Z_:][a-zA-Z0-9_:]*`.
  static func metricName(_ label: String) -> String {
    sanitize(label, allowColon: true)
  }

  /// A dimension name as a Prometheus label name: `[a-zA-Z_][a-zA-Z0-9_]*`, no leading `__`, and
  /// not `le` on histograms.
  static func labelName(_ dimension: String, histogram: Bool) -> String {
    var name = sanitize(dimension, allowColon: false)
    if name.hasPrefix("__") {
      name = "_" + name.drop { $0 == "_" }
    }
    if histogram && name == "le" {
      name = "_le"
    }
    return name
  }

  /// Replaces every Unicode scalar outside `[a-zA-Z0-9_]` (and `:` when allowed) with `_`, and
  /// puts `_` before a leading digit.
  private static func sanitize(_ text: String, allowColon: Bool) -> String {
    var result = String.UnicodeScalarView()
    for scalar in text.unicodeScalars {
      switch scalar {
      case "a"..."z", "A"..."Z", "0"..."9", "_":
        result.append(scalar)
      case ":" where allowColon:
        result.append(scalar)
      default:
        result.append("_")
      }
    }
    if result.isEmpty || ("0"..."9").contains(result.first!) {
      result.insert("_", at: result.startIndex)
    }
    return String(result)
  }
}

/// A handler that can remove its series.
protocol RegistrySeriesHandler: AnyObject, Sendable {
  func removeSeries()
}

/// `Counter` and `FloatingPointCounter`.
final class RegistryCounterHandler: CounterHandler, FloatingPointCounterHandler,
  RegistrySeriesHandler
{
  let counter: Counter
  private let family: MetricFamily<Counter>
  private let values: [String]

  init(counter: Counter, family: MetricFamily<Counter>, values: [String]) {
    self.counter = counter
    self.family = family
    self.values = values
  }

  func increment(by amount: Int64) {
    // swift-metrics counters only go up; a negative amount is ignored.
    if amount > 0 { counter.increment(by: UInt64(amount)) }
  }

  func increment(by amount: Double) {
    if amount > 0 { counter.increment(by: amount) }
  }

  func reset() {
    counter.reset()
  }

  func removeSeries() {
    family.remove(values)
  }
}

/// `Meter` and non-aggregating `Recorder`.
final class RegistryGaugeHandler: MeterHandler, RecorderHandler, RegistrySeriesHandler {
  let gauge: Gauge
  private let family: MetricFamily<Gauge>
  private let values: [String]

  init(gauge: Gauge, family: MetricFamily<Gauge>, values: [String]) {
    self.gauge = gauge
    self.family = family
    self.values = values
  }

  func set(_ value: Int64) { gauge.set(Double(value)) }
  func set(_ value: Double) { gauge.set(value) }
  func increment(by amount: Double) { gauge.add(amount) }
  func decrement(by amount: Double) { gauge.add(-amount) }
  func record(_ value: Int64) { gauge.set(Double(value)) }
  func record(_ value: Double) { gauge.set(value) }

  func removeSeries() {
    family.remove(values)
  }
}

/// Aggregating `Recorder` and `Timer`.
final class RegistryHistogramHandler: RecorderHandler, TimerHandler, RegistrySeriesHandler {
  let histogram: Histogram
  private let family: MetricFamily<Histogram>
  private let values: [String]

  init(histogram: Histogram, family: MetricFamily<Histogram>, values: [String]) {
    self.histogram = histogram
    self.family = family
    self.values = values
  }

  func record(_ value: Int64) { histogram.observe(Double(value)) }
  func record(_ value: Double) { histogram.observe(value) }
  func recordNanoseconds(_ duration: Int64) { histogram.observe(Double(duration) / 1e9) }

  func removeSeries() {
    family.remove(values)
  }
}
