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
  /// The native (sparse exponential) buckets, when the histogram keeps them.
  public var native: NativeHistogramSnapshot?
  /// The latest exemplar of each classic bucket, the `+Inf` bucket last: empty, or one entry per
  /// upper bound plus one.
  public var exemplars: [Exemplar?]

  /// Creates a histogram snapshot.
  ///
  /// - Parameters:
  ///   - upperBounds: The finite upper bounds, ascending.
  ///   - cumulativeCounts: For each bound, the number of observations less than or equal to it.
  ///   - count: The number of observations.
  ///   - sum: The sum of the observed values.
  ///   - native: The native buckets, if any.
  ///   - exemplars: Empty, or the latest exemplar of each bucket, `+Inf` last.
  public init(
    upperBounds: [Double], cumulativeCounts: [UInt64], count: UInt64, sum: Double,
    native: NativeHistogramSnapshot? = nil, exemplars: [Exemplar?] = []
  ) {
    precondition(upperBounds.count == cumulativeCounts.count, "one cumulative count per bound")
    precondition(
      exemplars.isEmpty || exemplars.count == upperBounds.count + 1,
      "no exemplars or one per bucket including +Inf")
    self.upperBounds = upperBounds
    self.cumulativeCounts = cumulativeCounts
    self.count = count
    self.sum = sum
    self.native = native
    self.exemplars = exemplars
  }

  /// The exemplar of bucket `index` (`upperBounds.count` for `+Inf`), if any.
  func exemplar(at index: Int) -> Exemplar? {
    exemplars.indices.contains(index) ? exemplars[index] : nil
  }
}

/// The native (sparse exponential) buckets of one histogram series at a scrape.
///
/// Bucket `index` holds the magnitudes in `(2^((index-1)·2^-schema), 2^(index·2^-schema)]`.
public struct NativeHistogramSnapshot: Sendable, Hashable {
  /// One non-empty bucket.
  public struct Bucket: Sendable, Hashable {
    /// The bucket index.
    public var index: Int
    /// The observations in it (not cumulative).
    public var count: UInt64

    /// Creates a bucket.
    ///
    /// - Parameters:
    ///   - index: The bucket index.
    ///   - count: The observations in it.
    public init(index: Int, count: UInt64) {
      self.index = index
      self.count = count
    }
  }

  /// The resolution: boundaries are powers of `2^(2^-schema)`.
  public var schema: Int
  /// Observations whose magnitude is at most this are in the zero bucket.
  public var zeroThreshold: Double
  /// The observations in the zero bucket.
  public var zeroCount: UInt64
  /// The non-empty buckets of positive observations, ascending by index.
  public var positive: [Bucket]
  /// The non-empty buckets of negative observations (by magnitude), ascending by index.
  public var negative: [Bucket]

  /// Creates a native histogram snapshot.
  ///
  /// - Parameters:
  ///   - schema: The resolution, -4 through 8.
  ///   - zeroThreshold: The width of the zero bucket.
  ///   - zeroCount: The observations in the zero bucket.
  ///   - positive: The non-empty positive buckets, ascending by index.
  ///   - negative: The non-empty negative buckets, ascending by index.
  public init(
    schema: Int, zeroThreshold: Double, zeroCount: UInt64, positive: [Bucket],
    negative: [Bucket] = []
  ) {
    self.schema = schema
    self.zeroThreshold = zeroThreshold
    self.zeroCount = zeroCount
    self.positive = positive
    self.negative = negative
  }
}
