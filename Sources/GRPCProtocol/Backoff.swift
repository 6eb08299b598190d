/// A retry pause policy as a pure value: how long to wait after a number of consecutive failures.
///
/// The base delay grows from `initial` (after the first failure) by `multiplier` per further failure, or by
/// `initial` per failure when linear, and never exceeds `maximum`; the jitter then spreads it by up to
/// ±`jitter` (a fraction), so clients that failed together do not retry together. The random number is passed
/// in, so a delay is a function of its inputs.
package struct Backoff: Sendable, Hashable {
  /// How the base delay grows with each consecutive failure.
  package enum Growth: Sendable, Hashable {
    /// `initial × multiplier^(failures − 1)`.
    case exponential(multiplier: Double)
    /// `initial × failures`.
    case linear
  }

  /// The base delay after the first failure.
  package var initial: Duration
  /// The longest base delay.
  package var maximum: Duration
  /// How the base delay grows.
  package var growth: Growth
  /// The largest relative deviation jitter applies, e.g. 0.2 for ±20%.
  package var jitter: Double

  /// Creates a policy.
  package init(initial: Duration, maximum: Duration, growth: Growth, jitter: Double) {
    self.initial = initial
    self.maximum = maximum
    self.growth = growth
    self.jitter = jitter
  }

  /// The delay before retrying after `failures` consecutive failures (at least 1), with `random` in `0...1`
  /// choosing where in the jitter range it falls (0: shortest, 0.5: the base delay, 1: longest).
  package func delay(afterFailures failures: Int, random: Double) -> Duration {
    let clamped = min(max(random, 0), 1)
    return delay(afterFailures: failures, jitterFactor: 1 - jitter + 2 * jitter * clamped)
  }

  /// The delay after `failures` consecutive failures scaled by `jitterFactor`, which is clamped to the
  /// policy's range `1 − jitter ... 1 + jitter`.
  package func delay(afterFailures failures: Int, jitterFactor: Double) -> Duration {
    let factor = min(max(jitterFactor, 1 - jitter), 1 + jitter)
    let scaled = Double(Self.nanoseconds(baseDelay(afterFailures: failures))) * factor
    return .nanoseconds(Int64(min(scaled, Double(Int64.max / 2))))
  }

  /// The delay after `failures` consecutive failures before jitter.
  package func baseDelay(afterFailures failures: Int) -> Duration {
    let initial = Double(Self.nanoseconds(self.initial))
    let maximum = Double(Self.nanoseconds(self.maximum))
    let count = max(failures, 1)
    let base: Double
    switch growth {
    case .linear:
      base = initial * Double(count)
    case .exponential(let multiplier):
      var value = initial
      // Bounded: stops once the cap is reached, and after at most 64 steps.
      var step = 1
      while step < count && step < 64 && value < maximum {
        value *= multiplier
        step += 1
      }
      base = value
    }
    return .nanoseconds(Int64(min(base, maximum)))
  }

  /// A duration in whole nanoseconds.
  package static func nanoseconds(_ duration: Duration) -> Int64 {
    let (seconds, attoseconds) = duration.components
    return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
  }
}
