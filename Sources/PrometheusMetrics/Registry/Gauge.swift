import Synchronization

/// A value that can go up and down: one series of a gauge family.
///
/// Obtain one from ``MetricsRegistry/makeGauge(name:help:)`` or from a labelled family, once, and
/// keep it: updating it takes no lock, allocates nothing and does no lookup. The value is a
/// `Double` stored as its bit pattern in an atomic; additions are compare-and-exchange loops.
public final class Gauge: Sendable {
  private let bits = Atomic<UInt64>(0.0.bitPattern)
  /// When the series was created, in seconds since the Unix epoch.
  let created: Double

  init(created: Double) {
    self.created = created
  }

  /// Sets the value.
  ///
  /// - Parameter value: The new value.
  @inline(__always)
  public func set(_ value: Double) {
    bits.store(value.bitPattern, ordering: .relaxed)
  }

  /// Adds an amount, which may be negative.
  ///
  /// - Parameter amount: The amount to add.
  @inline(__always)
  public func add(_ amount: Double) {
    bits.add(amount)
  }

  /// Adds one.
  @inline(__always)
  public func increment() {
    bits.add(1)
  }

  /// Subtracts one.
  @inline(__always)
  public func decrement() {
    bits.add(-1)
  }

  /// The current value.
  public var value: Double {
    Double(bitPattern: bits.load(ordering: .relaxed))
  }
}
