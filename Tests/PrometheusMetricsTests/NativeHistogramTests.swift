import Dispatch
import Synchronization
import Testing

@testable import PrometheusMetrics

@Suite("Native histograms")
struct NativeHistogramTests {
  /// Schema 3's boundaries in client_golang's `nativeHistogramBounds`.
  static let schema3Bounds: [Double] = [
    0.5, 0.5452538663326288, 0.5946035575013605, 0.6484197773255048,
    0.7071067811865475, 0.7711054127039704, 0.8408964152537144, 0.9170040432046711,
  ]

  @Test("the boundary table holds Prometheus' values")
  func boundaryTable() {
    let schema3 = (0..<8).map { NativeHistogramBounds.schema8[$0 * 32] }
    #expect(schema3 == Self.schema3Bounds)
    #expect(NativeHistogramBounds.schema8.count == 256)
    #expect(NativeHistogramBounds.schema8[255] == 0.9972960560854698)
  }

  @Test(
    "bucket indices match Prometheus, boundaries included in the lower bucket",
    arguments: [
      // Schema 3: bucket i is (2^((i-1)/8), 2^(i/8)].
      (1.0, 3, 0), (1.0.nextDown, 3, 0), (1.0.nextUp, 3, 1),
      (2.0, 3, 8), (2.0.nextDown, 3, 8), (2.0.nextUp, 3, 9),
      (0.5, 3, -8), (0.5.nextUp, 3, -7), (4.0, 3, 16), (3.0, 3, 13),
      (2 * 0.5452538663326288, 3, 1), ((2 * 0.5452538663326288).nextUp, 3, 2),
      (0.9170040432046711, 3, -1), (0.9170040432046711.nextUp, 3, 0),
      (1e-6, 3, -159), (100, 3, 54), (0x1p-128, 3, -1024),
      (Double.leastNonzeroMagnitude, 3, -8592),
      (Double.greatestFiniteMagnitude, 3, 8192),
      // Schema 0: powers of two.
      (1.0, 0, 0), (2.0, 0, 1), (3.0, 0, 2), (4.0, 0, 2), (0.5, 0, -1), (0.75, 0, 0),
      // Negative schemas: powers of 4 and of 16.
      (1.0, -1, 0), (2.0, -1, 1), (4.0, -1, 1), (4.0.nextUp, -1, 2), (0.25, -1, -1),
      (0.3, -1, 0), (16, -2, 1), (17, -2, 2), (1.0 / 16, -2, -1),
      // Schema 8.
      (1.0, 8, 0), (1.0.nextUp, 8, 1), (2 * 0.5013556375251013, 8, 1), (2.0, 8, 256),
    ] as [(Double, Int, Int)])
  func index(value: Double, schema: Int, expected: Int) {
    #expect(NativeHistogramLayout.index(of: value, schema: schema) == expected)
  }

  @Test("every value lies in (upperBound(i-1), upperBound(i)] of its bucket", arguments: -4...8)
  func indexAgreesWithBounds(schema: Int) {
    var generator = SystemRandomNumberGenerator()
    for _ in 0..<20_000 {
      let magnitude = Double(
        sign: .plus, exponent: Int.random(in: -60...60, using: &generator),
        significand: Double.random(in: 1..<2, using: &generator))
      let index = NativeHistogramLayout.index(of: magnitude, schema: schema)
      let upper = NativeHistogramLayout.upperBound(of: index, schema: schema)
      let lower = NativeHistogramLayout.upperBound(of: index - 1, schema: schema)
      #expect(lower < magnitude && magnitude <= upper, "\(magnitude) in bucket \(index)")
      // Boundaries themselves belong to the bucket below.
      #expect(NativeHistogramLayout.index(of: upper, schema: schema) == index)
    }
  }

  @Test("the default layout covers 1 µs to 100 s in 214 buckets per sign")
  func defaultLayout() {
    let layout = NativeHistogramLayout(NativeHistogramOptions())
    #expect(layout.schema == 3)
    #expect(layout.lowestIndex == -159)
    #expect(layout.highestIndex == 54)
    #expect(layout.bucketsPerSign == 214)
    // The zero bucket widens to the lower boundary of the lowest kept bucket.
    #expect(layout.zeroThreshold == NativeHistogramLayout.upperBound(of: -160, schema: 3))
    #expect(layout.zeroThreshold < 1e-6)
    #expect(NativeHistogramOptions.defaultZeroThreshold == 2.938735877055719e-39)
  }

  @Test("a zero threshold above the range's lower end wins")
  func wideZeroBucket() {
    let layout = NativeHistogramLayout(
      NativeHistogramOptions(schema: 0, zeroThreshold: 0.001, valueRange: 1e-6...8))
    #expect(layout.zeroThreshold == 0.001)
    #expect(layout.lowestIndex == -9)  // (2^-10, 2^-9] holds 0.001...
    #expect(layout.slot(for: 0.001) == 0)
    #expect(layout.slot(for: 0.0011) == 1)
    #expect(layout.highestIndex == 3)
  }

  @Test("observations land in the zero, positive and negative buckets; outliers are clamped")
  func observe() throws {
    let histogram = Histogram(
      upperBounds: [1, 10], native: NativeHistogramLayout(NativeHistogramOptions()), created: 0)
    for value in [0, 1e-9, -1e-9, 1.0, 1.0, 2.0, 1.5, -1.5, 1e6, .infinity, -.infinity, .nan] {
      histogram.observe(value)
    }
    let snapshot = histogram.snapshot()
    #expect(snapshot.count == 12)
    #expect(snapshot.cumulativeCounts == [7, 9])  // -∞, ±1e-9, 0, -1.5, 1, 1 ≤ 1; 1.5, 2 ≤ 10
    let native = try #require(snapshot.native)
    #expect(native.schema == 3)
    #expect(native.zeroCount == 3)
    #expect(
      native.positive == [
        .init(index: 0, count: 2), .init(index: 5, count: 1), .init(index: 8, count: 1),
        .init(index: 54, count: 2),
      ])
    #expect(native.negative == [.init(index: 5, count: 1), .init(index: 54, count: 1)])
    // A second scrape reads the same state back from the other half.
    #expect(histogram.snapshot().native == native)
  }

  @Test("a histogram without native options has no native snapshot")
  func classicOnly() {
    let histogram = Histogram(upperBounds: [1], created: 0)
    histogram.observe(0.5)
    #expect(histogram.snapshot().native == nil)
  }

  @Test("scrapes stay consistent for native buckets under concurrent observers")
  func concurrentObservers() async {
    // Every consistent snapshot has count == zero + positive + negative (no NaN observed), and the
    // classic bucket le=1 equals the native buckets up to index 0 plus zero and negative ones.
    let histogram = Histogram(
      upperBounds: [1], native: NativeHistogramLayout(NativeHistogramOptions()), created: 0)
    let tasks = 4
    let perTask = 100_000
    let values: [Double] = [0, 0.5, 3, -2]
    let finished = AtomicCounter()
    let scraperResult = Mutex<(inconsistent: Int, scrapes: Int)?>(nil)
    let scraperDone = DispatchSemaphore(value: 0)
    DispatchQueue.global().async {
      var bad = 0
      var scrapes = 0
      while finished.value.load(ordering: .acquiring) < tasks && scrapes < 1_000_000 {
        let snapshot = histogram.snapshot()
        scrapes += 1
        guard let native = snapshot.native else {
          bad += 1
          continue
        }
        let positive = native.positive.reduce(0) { $0 + $1.count }
        let negative = native.negative.reduce(0) { $0 + $1.count }
        let atMostOne = native.positive.filter { $0.index <= 0 }.reduce(0) { $0 + $1.count }
        if snapshot.count != native.zeroCount + positive + negative { bad += 1 }
        if snapshot.cumulativeCounts[0] != native.zeroCount + negative + atMostOne { bad += 1 }
      }
      scraperResult.withLock { $0 = (bad, scrapes) }
      scraperDone.signal()
    }
    await withTaskGroup(of: Void.self) { group in
      for _ in 0..<tasks {
        group.addTask {
          for index in 0..<perTask { histogram.observe(values[index % 4]) }
          finished.value.add(1, ordering: .releasing)
        }
      }
    }
    #expect(scraperDone.wait(timeout: .now() + 60) == .success)
    let (inconsistent, scrapes) = scraperResult.withLock { $0 } ?? (-1, 0)
    #expect(scrapes > 0)
    #expect(inconsistent == 0)
    let final = histogram.snapshot()
    let each = UInt64(tasks * perTask / 4)
    #expect(final.count == 4 * each)
    #expect(final.native?.zeroCount == each)
    #expect(
      final.native?.positive == [
        .init(index: -8, count: each), .init(index: 13, count: each),
      ])
    #expect(final.native?.negative == [.init(index: 8, count: each)])
  }
}
