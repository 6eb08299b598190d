#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// Observations counted into buckets with explicit upper bounds: one series of a histogram family.
///
/// Obtain one from ``MetricsRegistry/makeHistogram(name:help:buckets:native:)`` or from a labelled
/// family, once, and keep it. ``observe(_:)-(Double)`` takes no lock, allocates nothing and does no
/// lookup: it finds the bucket by binary search over a contiguous buffer of bounds and updates
/// atomics. With ``NativeHistogramOptions`` the series also counts into native (sparse exponential)
/// buckets: a fixed array of atomics covering the options' value range, so that stays lock-free
/// too.
///
/// Scrapes read a consistent state (count, sum, classic and native buckets from the same moment)
/// with client_golang's hot/cold scheme: observers write into the "hot" half of the counts, chosen
/// by the top bit of `countAndHotIndex`; a scrape flips that bit, waits until the now-cold half has
/// counted every observation started before the flip, reads it, then folds it into the hot half
/// and clears it.
///
/// Exemplars (``observe(_:exemplar:)``) are rare and kept apart: the latest per classic bucket,
/// behind a small lock that plain observations never take. They are read after the counts, so an
/// exemplar can be a little newer than the counts it is shown with.
public final class Histogram: @unchecked Sendable {
  // @unchecked Sendable: the only non-Sendable stored properties are the two buffers. `upperBounds`
  // is written once in init and only read afterwards; `counts` holds `Atomic` values only, which
  // are accessed exclusively through their atomic operations; both are freed in deinit, when no
  // other reference exists.

  /// The number of finite upper bounds (the `+Inf` bucket is implied by the count).
  let bucketCount: Int
  /// The native bucket layout, if the series keeps native buckets.
  let native: NativeHistogramLayout?
  /// The finite upper bounds, sorted strictly ascending.
  private let upperBounds: UnsafeMutablePointer<Double>
  /// Atomics per half: `2 + bucketCount + native.slotCount`.
  private let halfSize: Int
  /// Two halves of `halfSize` atomics each:
  /// `[count, sumBits, bucket0, bucket1, ..., nativeZero, nativePositive..., nativeNegative...]`.
  /// `count` counts completed observations; buckets are not cumulative; values above every bound
  /// only count in `count`.
  private let counts: UnsafeMutablePointer<Atomic<UInt64>>
  /// Bits 0...62: observations started. Bit 63: which half of `counts` is hot.
  private let countAndHotIndex = Atomic<UInt64>(0)
  /// Serializes scrapes (never taken by observers).
  private let scrapeLock = Mutex<Void>(())
  /// The latest exemplar per classic bucket (`+Inf` last); empty until the first exemplar.
  private let latestExemplars = Mutex<[Exemplar?]>([])
  /// When the series was created, in seconds since the Unix epoch (OpenMetrics' `_created`).
  let created: Double

  private static let hotBit: UInt64 = 1 << 63

  init(upperBounds bounds: [Double], native: NativeHistogramLayout? = nil, created: Double) {
    self.bucketCount = bounds.count
    self.native = native
    self.created = created
    self.upperBounds = .allocate(capacity: max(bounds.count, 1))
    self.upperBounds.initialize(from: bounds, count: bounds.count)
    self.halfSize = 2 + bounds.count + (native?.slotCount ?? 0)
    let total = 2 * halfSize
    self.counts = .allocate(capacity: total)
    for index in 0..<total {
      (counts + index).initialize(to: Atomic<UInt64>(0))
    }
  }

  deinit {
    counts.deinitialize(count: 2 * halfSize)
    counts.deallocate()
    upperBounds.deinitialize(count: bucketCount)
    upperBounds.deallocate()
  }

  @inline(__always)
  private func half(_ index: UInt64) -> UnsafeMutablePointer<Atomic<UInt64>> {
    counts + Int(truncatingIfNeeded: index) &* halfSize
  }

  /// The index of the first bound that is greater than or equal to `value`, or `bucketCount` when
  /// there is none (which is also where NaN goes).
  @inline(__always)
  func bucketIndex(for value: Double) -> Int {
    var low = 0
    var high = bucketCount
    while low < high {
      let middle = (low &+ high) >> 1
      if upperBounds[middle] >= value {
        high = middle
      } else {
        low = middle &+ 1
      }
    }
    return low
  }

  /// Records one observation.
  ///
  /// - Parameter value: The observed value, e.g. a duration in seconds.
  @inline(__always)
  public func observe(_ value: Double) {
    let bucket = bucketIndex(for: value)
    // Acquire pairs with the scrape's release of this half after clearing it; the count of started
    // observations lets the scrape know how many completions to wait for.
    let started = countAndHotIndex.wrappingAdd(1, ordering: .acquiringAndReleasing).newValue
    let hot = half(started >> 63)
    if bucket < bucketCount {
      hot[2 &+ bucket].wrappingAdd(1, ordering: .relaxed)
    }
    if let native {
      let slot = native.slot(for: value)
      if slot >= 0 {
        hot[2 &+ bucketCount &+ slot].wrappingAdd(1, ordering: .relaxed)
      }
    }
    hot[1].add(value)
    // Release: a scrape that sees this completion also sees the bucket and sum updates above.
    hot[0].wrappingAdd(1, ordering: .releasing)
  }

  /// Records one observation of a duration, in seconds.
  ///
  /// - Parameter duration: The observed duration.
  @inline(__always)
  public func observe(_ duration: Duration) {
    observe(Self.seconds(duration))
  }

  /// Records one observation and keeps it as the exemplar of its classic bucket.
  ///
  /// Takes a small lock (per series) for the exemplar, so call it only for the observations that
  /// should carry one, e.g. those of traced requests.
  ///
  /// - Parameters:
  ///   - value: The observed value.
  ///   - labels: The exemplar's labels, e.g. `["trace_id": "4bf92f35..."]`: valid label names, at
  ///     most ``Exemplar/maxLabelCharacters`` characters in all.
  /// - Returns: Whether the exemplar was kept; invalid labels drop the exemplar (the observation
  ///   is recorded either way).
  @discardableResult
  public func observe(_ value: Double, exemplar labels: [String: String]) -> Bool {
    observe(value)
    guard Exemplar.isValid(labels: labels) else { return false }
    let exemplar = Exemplar(labels: labels, value: value, timestamp: WallClock.secondsSinceEpoch())
    let bucket = bucketIndex(for: value)
    latestExemplars.withLock { exemplars in
      if exemplars.isEmpty {
        exemplars = Array(repeating: nil, count: bucketCount + 1)
      }
      exemplars[bucket] = exemplar
    }
    return true
  }

  /// Records one observation with the exemplar a provider gives, if any.
  ///
  /// - Parameters:
  ///   - value: The observed value.
  ///   - provider: Gives the exemplar's labels (e.g. the current trace ID), or `nil` for none.
  @inline(__always)
  public func observe(_ value: Double, exemplarFrom provider: ExemplarProvider) {
    if let labels = provider() {
      observe(value, exemplar: labels)
    } else {
      observe(value)
    }
  }

  /// Records one observation of a duration, in seconds, with the exemplar a provider gives.
  ///
  /// - Parameters:
  ///   - duration: The observed duration.
  ///   - provider: Gives the exemplar's labels, or `nil` for none.
  @inline(__always)
  public func observe(_ duration: Duration, exemplarFrom provider: ExemplarProvider) {
    observe(Self.seconds(duration), exemplarFrom: provider)
  }

  @inline(__always)
  private static func seconds(_ duration: Duration) -> Double {
    let (seconds, attoseconds) = duration.components
    return Double(seconds) + Double(attoseconds) * 1e-18
  }

  /// Reads count, sum and buckets from one moment, and the latest exemplars.
  func snapshot() -> HistogramSnapshot {
    withReading { $0.snapshot }
  }

  /// Reads count, sum and buckets from one moment, and the latest exemplars, and calls `body` with
  /// them; allocates nothing for histograms without native buckets.
  func withReading<Result>(_ body: (HistogramReading) -> Result) -> Result {
    withUnsafeTemporaryAllocation(of: UInt64.self, capacity: max(bucketCount, 1)) { cumulative in
      let (count, sum, native) = read(cumulativeInto: cumulative)
      let exemplars = latestExemplars.withLock { $0 }
      return body(
        HistogramReading(
          upperBounds: UnsafeBufferPointer(start: upperBounds, count: bucketCount),
          cumulativeCounts: UnsafeBufferPointer(rebasing: cumulative[..<bucketCount]),
          count: count, sum: sum, native: native, exemplars: exemplars))
    }
  }

  /// Flips the hot half, reads the cold one (cumulative classic counts into `cumulative`) and
  /// folds it into the hot half.
  private func read(cumulativeInto cumulative: UnsafeMutableBufferPointer<UInt64>)
    -> (count: UInt64, sum: Double, native: NativeHistogramSnapshot?)
  {
    scrapeLock.withLock { _ in
      // Flip the hot bit; the value returned counts every observation started so far.
      let flipped = countAndHotIndex.wrappingAdd(Self.hotBit, ordering: .acquiringAndReleasing)
        .newValue
      let count = flipped & ~Self.hotBit
      let hot = half(flipped >> 63)
      let cold = half((~flipped) >> 63)
      // Wait for observations that started writing into the cold half before the flip.
      while cold[0].load(ordering: .acquiring) != count {
        sched_yield()
      }
      /// Reads a cold bucket, folds it into the hot half and clears it for the next flip.
      func drain(_ index: Int) -> UInt64 {
        let value = cold[index].load(ordering: .relaxed)
        if value != 0 {
          hot[index].wrappingAdd(value, ordering: .relaxed)
          cold[index].store(0, ordering: .relaxed)
        }
        return value
      }
      let sum = Double(bitPattern: cold[1].load(ordering: .relaxed))
      var running: UInt64 = 0
      for index in 0..<bucketCount {
        running &+= drain(2 + index)
        cumulative[index] = running
      }
      var nativeSnapshot: NativeHistogramSnapshot? = nil
      if let native {
        let base = 2 + bucketCount
        let perSign = native.bucketsPerSign
        var positive: [NativeHistogramSnapshot.Bucket] = []
        var negative: [NativeHistogramSnapshot.Bucket] = []
        let zeroCount = drain(base)
        for offset in 0..<perSign {
          let index = native.lowestIndex + offset
          let up = drain(base + 1 + offset)
          if up != 0 { positive.append(.init(index: index, count: up)) }
          let down = drain(base + 1 + perSign + offset)
          if down != 0 { negative.append(.init(index: index, count: down)) }
        }
        nativeSnapshot = NativeHistogramSnapshot(
          schema: native.schema, zeroThreshold: native.zeroThreshold, zeroCount: zeroCount,
          positive: positive, negative: negative)
      }
      hot[1].add(sum)
      cold[1].store(0.0.bitPattern, ordering: .relaxed)
      hot[0].wrappingAdd(count, ordering: .releasing)
      cold[0].store(0, ordering: .releasing)
      return (count, sum, nativeSnapshot)
    }
  }
}
