/// The state of one metric family at a scrape: what the exposition formats encode.
///
/// ``MetricsRegistry/collect()`` produces these, sorted by name; tests and custom collectors can
/// also build them by hand.
public struct MetricFamilySnapshot: Sendable, Hashable {
  /// The kind of a metric family.
  public enum Kind: Sendable, Hashable {
    /// A monotonically increasing value.
    case counter
    /// A value that can go up and down.
    case gauge
    /// Observations counted into buckets with explicit upper bounds.
    case histogram
  }

  /// The family's name, e.g. `etcd_client_requests_total`.
  public var name: String
  /// The help text (unescaped).
  public var help: String
  /// The kind of the family.
  public var kind: Kind
  /// The label names, in the order label values are given.
  public var labelNames: [String]
  /// One entry per label-value set.
  public var metrics: [MetricSnapshot]

  /// Creates a family snapshot.
  ///
  /// - Parameters:
  ///   - name: The family's name.
  ///   - help: The help text.
  ///   - kind: The kind of the family.
  ///   - labelNames: The label names.
  ///   - metrics: One entry per label-value set, each with one label value per label name.
  public init(
    name: String, help: String, kind: Kind, labelNames: [String] = [], metrics: [MetricSnapshot]
  ) {
    self.name = name
    self.help = help
    self.kind = kind
    self.labelNames = labelNames
    self.metrics = metrics
  }
}

/// The state of one series (one label-value set) at a scrape.
public struct MetricSnapshot: Sendable, Hashable {
  /// The value of a series.
  public enum Value: Sendable, Hashable {
    /// The value of a counter.
    case counter(Double)
    /// The value of a gauge.
    case gauge(Double)
    /// The state of a histogram.
    case histogram(HistogramSnapshot)
  }

  /// The label values, in the order of the family's label names.
  public var labelValues: [String]
  /// The value.
  public var value: Value
  /// When the series was created, in seconds since the Unix epoch; OpenMetrics exposes it as the
  /// `_created` sample of counters and histograms.
  public var created: Double?

  /// Creates a series snapshot.
  ///
  /// - Parameters:
  ///   - labelValues: The label values, in the order of the family's label names.
  ///   - value: The value.
  ///   - created: When the series was created, in seconds since the Unix epoch.
  public init(labelValues: [String] = [], value: Value, created: Double? = nil) {
    self.labelValues = labelValues
    self.value = value
    self.created = created
  }
}

/// The state of one histogram series at a scrape.
public struct HistogramSnapshot: Sendable, Hashable {
  /// The finite upper bounds, ascending (the `+Inf` bucket is ``count``).
  public var upperBounds: [Double]
  /// For each upper bound, the number of observations less than or equal to it.
  public var cumulativeCounts: [UInt64]
  /// The number of observations.
  public var count: UInt64
  /// The sum of the observed values.
  public var sum: Double

  /// Creates a histogram snapshot.
  ///
  /// - Parameters:
  ///   - upperBounds: The finite upper bounds, ascending.
  ///   - cumulativeCounts: For each bound, the number of observations less than or equal to it.
  ///   - count: The number of observations.
  ///   - sum: The sum of the observed values.
  public init(upperBounds: [Double], cumulativeCounts: [UInt64], count: UInt64, sum: Double) {
    precondition(upperBounds.count == cumulativeCounts.count, "one cumulative count per bound")
    self.upperBounds = upperBounds
    self.cumulativeCounts = cumulativeCounts
    self.count = count
    self.sum = sum
  }
}
