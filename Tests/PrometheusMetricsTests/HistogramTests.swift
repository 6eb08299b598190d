import Dispatch
import Synchronization
import Testing

@testable import PrometheusMetrics

@Suite("Histogram")
struct HistogramTests {
  @Test(
    "observations land in the first bucket whose bound is at least the value",
    arguments: [
      (0.0, 0), (0.5, 0), (1.0, 0), (1.5, 1), (2.0, 1), (4.0, 2), (5.0, 2), (5.1, 3),
      (-.infinity, 0), (.infinity, 3), (.nan, 3),
    ] as [(Double, Int)])
  func bucketIndex(value: Double, index: Int) {
    let histogram = Histogram(upperBounds: [1, 2, 5], created: 0)
    #expect(histogram.bucketIndex(for: value) == index)
  }

  @Test("the search agrees with a linear scan for every bucket count and at every bound", arguments: 1...24)
  func bucketIndexMatchesLinearScan(bucketCount: Int) {
    let bounds = (0..<bucketCount).map { Double($0) * 1.5 + 0.25 }
    let histogram = Histogram(upperBounds: bounds, created: 0)
    var values: [Double] = [-.infinity, .infinity, .nan, -1, 0]
    for bound in bounds { values += [bound.nextDown, bound, bound.nextUp] }
    for value in values {
      let expected = bounds.firstIndex { $0 >= value } ?? bucketCount
      #expect(histogram.bucketIndex(for: value) == expected, "value \(value)")
    }
  }

  @Test("snapshots are cumulative and +Inf is the count")
  func snapshot() {
    let histogram = Histogram(upperBounds: [1, 2, 5], created: 0)
    for value in [0.5, 1, 1.5, 3, 10] { histogram.observe(value) }
    let first = histogram.snapshot()
    #expect(
      first
        == HistogramSnapshot(
          upperBounds: [1, 2, 5], cumulativeCounts: [2, 3, 4], count: 5, sum: 16))
    // A second scrape reads the state folded back into the other half.
    histogram.observe(2)
    #expect(
      histogram.snapshot()
        == HistogramSnapshot(
          upperBounds: [1, 2, 5], cumulativeCounts: [2, 4, 5], count: 6, sum: 18))
    #expect(histogram.snapshot().count == 6)
  }

  @Test("durations are observed in seconds")
  func duration() {
    let histogram = Histogram(upperBounds: [0.001, 1], created: 0)
    histogram.observe(Duration.milliseconds(500))
    #expect(histogram.snapshot().sum == 0.5)
    #expect(histogram.snapshot().cumulativeCounts == [0, 1])
  }

  @Test("scrapes stay consistent under concurrent observers, and totals are exact")
  func concurrentObservers() async {
    // Each task observes 1 (bucket le=1), 3 (le=5) and 100 (+Inf only) in turn, so every
    // consistent snapshot satisfies sum == 1·n1 + 3·n3 + 100·n100 with count == n1 + n3 + n100.
    let histogram = Histogram(upperBounds: [1, 5], created: 0)
    let tasks = 4
    let perTask = 100_000
    let values: [Double] = [1, 3, 100]
    let finished = AtomicCounter()
    // The scraper runs on its own thread so that it really interleaves with the observers (the
    // cooperative pool has as many threads as cores).
    let scraperResult = Mutex<(inconsistent: Int, scrapes: Int)?>(nil)
    let scraperDone = DispatchSemaphore(value: 0)
    DispatchQueue.global().async {
      var bad = 0
      var scrapes = 0
      while finished.value.load(ordering: .acquiring) < tasks && scrapes < 1_000_000 {
        let snapshot = histogram.snapshot()
        scrapes += 1
        let n1 = snapshot.cumulativeCounts[0]
        let n3 = snapshot.cumulativeCounts[1] - n1
        let n100 = snapshot.count - snapshot.cumulativeCounts[1]
        if snapshot.sum != Double(n1) + 3 * Double(n3) + 100 * Double(n100) { bad += 1 }
      }
      scraperResult.withLock { $0 = (bad, scrapes) }
      scraperDone.signal()
    }
    await withTaskGroup(of: Void.self) { group in
      for _ in 0..<tasks {
        group.addTask {
          for index in 0..<perTask { histogram.observe(values[index % 3]) }
          finished.value.add(1, ordering: .releasing)
        }
      }
    }
    #expect(scraperDone.wait(timeout: .now() + 60) == .success)
    let (inconsistent, scrapes) = scraperResult.withLock { $0 } ?? (-1, 0)
    #expect(scrapes > 0)
    #expect(inconsistent == 0)
    let final = histogram.snapshot()
    let total = UInt64(tasks * perTask)
    #expect(final.count == total)
    // perTask % 3 == 1: each task made one more observation of 1 than of 3 and of 100.
    let ones = UInt64(tasks * (perTask / 3 + 1))
    let threes = UInt64(tasks * (perTask / 3))
    #expect(final.cumulativeCounts == [ones, ones + threes])
    #expect(final.sum == Double(ones) + 3 * Double(threes) + 100 * Double(total - ones - threes))
  }
}

/// An atomic shared by the tasks of a test (escaping closures cannot capture an `Atomic` itself).
final class AtomicCounter: Sendable {
  let value = Atomic<Int>(0)
}
