import Synchronization

/// A monotonically increasing value: one series of a counter family.
///
/// Obtain one from ``MetricsRegistry/makeCounter(name:help:)`` or from a labelled family with
/// ``MetricFamily/labels(_:)-(String...)``, once, and keep it: updating it takes no lock, allocates
/// nothing and does no lookup.
///
/// Whole increments take an integer fast path (one atomic add); fractional increments use a
/// compare-and-exchange loop on the bit pattern of a `Double`, as client_golang's counter does.
public final class Counter: Sendable {
  /// The sum of the whole increments.
  private let integerPart = Atomic<UInt64>(0)
  /// The bit pattern of the sum of the fractional (`Double`) increments.
  private let floatingPartBits = Atomic<UInt64>(0)
  /// When the series was created, in seconds since the Unix epoch (OpenMetrics' `_created`).
  let created: Double

  init(created: Double) {
    self.created = created
  }

  /// Adds one.
  @inline(__always)
  public func increment() {
    integerPart.wrappingAdd(1, ordering: .relaxed)
  }

  /// Adds a whole amount.
  ///
  /// - Parameter amount: The amount to add.
  @inline(__always)
  public func increment(by amount: UInt64) {
    integerPart.wrappingAdd(amount, ordering: .relaxed)
  }

  /// Adds a non-negative amount.
  ///
  /// - Parameter amount: The amount to add; must not be negative (a counter never goes down).
  public func increment(by amount: Double) {
    precondition(!(amount < 0), "a counter cannot be decreased (increment by \(amount))")
    if let whole = UInt64(exactly: amount) {
      integerPart.wrappingAdd(whole, ordering: .relaxed)
      return
    }
    floatingPartBits.add(amount)
  }

  /// Sets the value back to zero (for swift-metrics' `Counter.reset()`; Prometheus sees a reset).
  func reset() {
    integerPart.store(0, ordering: .relaxed)
    floatingPartBits.store(0.0.bitPattern, ordering: .relaxed)
  }

  /// The current value.
  public var value: Double {
    Double(integerPart.load(ordering: .relaxed))
      + Double(bitPattern: floatingPartBits.load(ordering: .relaxed))
  }
}

extension Atomic where Value == UInt64 {
  /// Adds `amount` to the `Double` whose bit pattern this atomic holds.
  @inline(__always)
  func add(_ amount: Double) {
    var expected = load(ordering: .relaxed)
    while true {
      let desired = (Double(bitPattern: expected) + amount).bitPattern
      let (exchanged, original) = weakCompareExchange(
        expected: expected, desired: desired, ordering: .relaxed)
      if exchanged { return }
      expected = original
    }
  }
}
