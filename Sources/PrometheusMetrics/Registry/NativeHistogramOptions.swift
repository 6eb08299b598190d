/// How a histogram also keeps native (sparse exponential) buckets, for Prometheus' native
/// histograms.
///
/// A native histogram's bucket boundaries are the powers of `2^(2^-schema)`: at schema 3 each
/// power of two is split into 8 buckets, so neighbouring boundaries differ by a factor of about
/// 1.09 (client_golang picks schema 3 for its `NativeHistogramBucketFactor` 1.1). Bucket `i` holds
/// the values in `(2^((i-1)·2^-schema), 2^(i·2^-schema)]`, upper bound included, as in Prometheus.
///
/// **Bounded memory instead of schema reduction.** client_golang keeps its sparse buckets in a map
/// and halves the resolution when there are too many. Here every series owns a fixed array of
/// atomics, so observing stays lock-free and allocation-free: ``valueRange`` fixes which buckets
/// exist. Magnitudes below its lower end fall into the zero bucket (whose exposed width grows to
/// the lower boundary of the lowest bucket, so the exposition stays exact); magnitudes above its
/// upper end, and infinities, are counted in the highest bucket (so that bucket's upper bound is
/// then understated). The default, 1 µs to 100 s, suits latencies in seconds: at schema 3 that is
/// 214 buckets per sign, about 7 KiB per series. There is no maximum bucket count or schema
/// reduction at run time.
///
/// ```swift
/// let latency = registry.makeHistogram(
///   name: "etcd_client_rpc_duration_seconds", help: "RPC latency.",
///   buckets: HistogramBuckets.defaults, native: NativeHistogramOptions())
/// ```
public struct NativeHistogramOptions: Sendable, Hashable {
  /// client_golang's `DefNativeHistogramZeroThreshold`: 2^-128, a bucket boundary at every schema.
  public static let defaultZeroThreshold: Double = 0x1p-128

  /// The resolution: each power of two is split into `2^schema` buckets; -4 through 8. Default: 3.
  public var schema: Int = 3
  /// Observations whose magnitude is at most this count in the zero bucket. Default: 2^-128.
  ///
  /// The exposed zero threshold is the larger of this and the lower boundary of the lowest bucket
  /// that ``valueRange`` keeps.
  public var zeroThreshold: Double = defaultZeroThreshold
  /// The magnitudes that get their own buckets, for positive and negative values alike; both ends
  /// positive and finite. Default: 1e-6...100 (1 µs to 100 s).
  public var valueRange: ClosedRange<Double> = 1e-6...100

  /// Creates options with the defaults: schema 3, zero threshold 2^-128, buckets for 1e-6...100.
  public init() {}

  /// Creates options.
  ///
  /// - Parameters:
  ///   - schema: The resolution, -4 through 8.
  ///   - zeroThreshold: The width of the zero bucket; not negative.
  ///   - valueRange: The magnitudes that get their own buckets; positive and finite.
  public init(
    schema: Int = 3, zeroThreshold: Double = defaultZeroThreshold,
    valueRange: ClosedRange<Double> = 1e-6...100
  ) {
    self.schema = schema
    self.zeroThreshold = zeroThreshold
    self.valueRange = valueRange
  }
}

/// The resolved bucket layout of a native histogram: which bucket indices exist and the effective
/// zero threshold. Pure index arithmetic, shared by observers and tests.
struct NativeHistogramLayout: Sendable, Hashable {
  /// The most buckets per sign a layout may have (a guard against a mistyped range).
  static let maxBucketsPerSign = 8192

  let schema: Int
  /// Magnitudes at most this count in the zero bucket.
  let zeroThreshold: Double
  /// The bucket index of the lowest kept bucket.
  let lowestIndex: Int
  /// The bucket index of the highest kept bucket.
  let highestIndex: Int

  /// Buckets per sign.
  var bucketsPerSign: Int { highestIndex - lowestIndex + 1 }
  /// Atomics per half of a histogram's counts: the zero bucket, then positive, then negative.
  var slotCount: Int { 1 + 2 * bucketsPerSign }

  init(_ options: NativeHistogramOptions, name: String = "") {
    precondition(
      (-4...8).contains(options.schema),
      "histogram \(name): native schema \(options.schema) is outside -4...8")
    precondition(
      options.zeroThreshold >= 0 && options.zeroThreshold.isFinite,
      "histogram \(name): bad native zero threshold \(options.zeroThreshold)")
    let range = options.valueRange
    precondition(
      range.lowerBound > 0 && range.upperBound.isFinite,
      "histogram \(name): native value range \(range) must be positive and finite")
    let schema = options.schema
    var lowest = Self.index(of: range.lowerBound, schema: schema)
    var threshold = Self.upperBound(of: lowest - 1, schema: schema)
    if options.zeroThreshold > threshold {
      threshold = options.zeroThreshold
      lowest = Self.index(of: threshold.nextUp, schema: schema)
    }
    let highest = max(Self.index(of: range.upperBound, schema: schema), lowest)
    precondition(
      highest - lowest < Self.maxBucketsPerSign,
      "histogram \(name): native value range \(range) needs more than \(Self.maxBucketsPerSign) "
        + "buckets per sign at schema \(schema)")
    self.schema = schema
    self.zeroThreshold = threshold
    self.lowestIndex = lowest
    self.highestIndex = highest
  }

  /// The index of the bucket that holds a positive, finite magnitude, as client_golang and
  /// Prometheus compute it: split the value into `frac · 2^exp` with `frac` in [0.5, 1) (frexp),
  /// then search `frac` among the schema's boundaries within one power of two.
  @inline(__always)
  static func index(of magnitude: Double, schema: Int) -> Int {
    // Swift's significand is in [1, 2): frexp's fraction is half of it, its exponent one more.
    let fraction = magnitude.significand * 0.5
    let exponent = Int(magnitude.exponent) &+ 1
    if schema > 0 {
      let count = 1 &<< schema
      let stride = 1 &<< (8 &- schema)
      // The first boundary that is >= fraction (sort.SearchFloat64s).
      var low = 0
      var high = count
      while low < high {
        let middle = (low &+ high) >> 1
        if NativeHistogramBounds.schema8[middle &* stride] >= fraction {
          high = middle
        } else {
          low = middle &+ 1
        }
      }
      return low &+ (exponent &- 1) &* count
    }
    var index = exponent
    if fraction == 0.5 { index &-= 1 }
    let offset = (1 &<< -schema) &- 1
    return (index &+ offset) >> -schema
  }

  /// The upper bound of bucket `index`, as Prometheus computes it (`getBound`).
  static func upperBound(of index: Int, schema: Int) -> Double {
    if schema < 0 {
      let exponent = index << -schema
      if exponent >= 1024 { return .greatestFiniteMagnitude }
      return Double(sign: .plus, exponent: exponent, significand: 1)
    }
    let fractionIndex = index & ((1 << schema) - 1)
    let fraction = NativeHistogramBounds.schema8[fractionIndex << (8 - schema)]
    let exponent = (index >> schema) + 1
    if fraction == 0.5 && exponent == 1025 { return .greatestFiniteMagnitude }
    return Double(sign: .plus, exponent: exponent, significand: fraction)
  }

  /// The slot of an observation within the native part of a half: 0 for the zero bucket, then the
  /// positive buckets, then the negative ones; -1 for NaN, which only counts in count and sum.
  @inline(__always)
  func slot(for value: Double) -> Int {
    let magnitude = value.magnitude
    guard magnitude > zeroThreshold else { return magnitude.isNaN ? -1 : 0 }
    var index =
      magnitude.isFinite ? Self.index(of: magnitude, schema: schema) : highestIndex
    index = min(max(index, lowestIndex), highestIndex)
    let base = value > 0 ? 1 : 1 &+ bucketsPerSign
    return base &+ (index &- lowestIndex)
  }
}
