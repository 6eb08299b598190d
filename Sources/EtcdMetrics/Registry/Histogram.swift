#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// Observations counted into buckets with explicit upper bounds: one series of a histogram family.
///
/// Obtain one from ``MetricsRegistry/makeHistogram(name:help:buckets:)`` or from a labelled family,
/// once, and keep it. ``observe(_:)`` takes no lock, allocates nothing and does no lookup: it finds
/// the bucket by binary search over a contiguous buffer of bounds and updates atomics.
///
/// Scrapes read a consistent state (count, sum and buckets from the same moment) with
/// client_golang's hot/cold scheme: observers write into the "hot" half of the counts, chosen by
/// the top bit of `countAndHotIndex`; a scrape flips that bit, waits until the now-cold half has
/// counted every observation started before the flip, reads it, then folds it into the hot half
/// and clears it.
public final class Histogram: @unchecked Sendable {
  // @unchecked Sendable: the only non-Sendable stored properties are the two buffers. `upperBounds`
  // is written once in init and only read afterwards; `counts` holds `Atomic` values only, which
  // are accessed exclusively through their atomic operations; both are freed in deinit, when no
  // other reference exists.

  /// The number of finite upper bounds (the `+Inf` bucket is implied by the count).
  let bucketCount: Int
  /// The finite upper bounds, sorted strictly ascending.
  private let upperBounds: UnsafeMutablePointer<Double>
  /// Two halves of `2 + bucketCount` atomics each: `[count, sumBits, bucket0, bucket1, ...]`.
  /// `count` counts completed observations; buckets are not cumulative; values above every bound
  /// only count in `count`.
  private let counts: UnsafeMutablePointer<Atomic<UInt64>>
  /// Bits 0...62: observations started. Bit 63: which half of `counts` is hot.
  private let countAndHotIndex = Atomic<UInt64>(0)
  /// Serializes scrapes (never taken by observers).
  private let scrapeLock = Mutex<Void>(())
  /// When the series was created, in seconds since the Unix epoch (OpenMetrics' `_created`).
  let created: Double

  private static let hotBit: UInt64 = 1 << 63

  init(upperBounds bounds: [Double], created: Double) {
    self.bucketCount = bounds.count
    self.created = created
    self.upperBounds = .allocate(capacity: max(bounds.count, 1))
    self.upperBounds.initialize(from: bounds, count: bounds.count)
    let total = 2 * (2 + bounds.count)
    self.counts = .allocate(capacity: total)
    for index in 0..<total {
      (counts + index).initialize(to: Atomic<UInt64>(0))
    }
  }

  deinit {
    counts.deinitialize(count: 2 * (2 + bucketCount))
    counts.deallocate()
    upperBounds.deinitialize(count: bucketCount)
    upperBounds.deallocate()
  }

  @inline(__always)
  private func half(_ index: UInt64) -> UnsafeMutablePointer<Atomic<UInt64>> {
    counts + Int(truncatingIfNeeded: index) &* (2 &+ bucketCount)
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
    hot[1].add(value)
    // Release: a scrape that sees this completion also sees the bucket and sum updates above.
    hot[0].wrappingAdd(1, ordering: .releasing)
  }

  /// Records one observation of a duration, in seconds.
  ///
  /// - Parameter duration: The observed duration.
  @inline(__always)
  public func observe(_ duration: Duration) {
    let (seconds, attoseconds) = duration.components
    observe(Double(seconds) + Double(attoseconds) * 1e-18)
  }

  /// Reads count, sum and buckets from one moment.
  func snapshot() -> HistogramSnapshot {
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
      let sum = Double(bitPattern: cold[1].load(ordering: .relaxed))
      var cumulative = [UInt64](repeating: 0, count: bucketCount)
      var running: UInt64 = 0
      for index in 0..<bucketCount {
        let bucket = cold[2 + index].load(ordering: .relaxed)
        running &+= bucket
        cumulative[index] = running
        // Fold the cold half into the hot one and clear it for the next flip.
        hot[2 + index].wrappingAdd(bucket, ordering: .relaxed)
        cold[2 + index].store(0, ordering: .relaxed)
      }
      hot[1].add(sum)
      cold[1].store(0.0.bitPattern, ordering: .relaxed)
      hot[0].wrappingAdd(count, ordering: .releasing)
      cold[0].store(0, ordering: .releasing)
      let bounds = Array(UnsafeBufferPointer(start: upperBounds, count: bucketCount))
      return HistogramSnapshot(
        upperBounds: bounds, cumulativeCounts: cumulative, count: count, sum: sum)
    }
  }
}
