#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The client's clock: `ContinuousClock`'s own source, read as a plain integer of nanoseconds.
///
/// It times interceptors' calls and attempts, and gives the pure state machines their `now: Int64` (the
/// balancer's backoff, lease renewal times). `ContinuousClock.now` costs about a hundred instructions (a
/// runtime call and 128-bit arithmetic), and `Duration` arithmetic more: a call once read the clock and built
/// durations several times for its hooks, and each endpoint pick divided a 128-bit `Duration`. This reads the
/// same kernel clock (`CLOCK_BOOTTIME` on Linux, as `ContinuousClock` does) with one vDSO call, and keeps
/// times as nanoseconds until an interceptor asks for an `Instant` or a `Duration`.
enum MonotonicClock {
  /// Nanoseconds on the clock `ContinuousClock` uses, since its (arbitrary) zero.
  @inline(__always)
  static func now() -> Int64 {
    var time = timespec()
    #if os(Linux)
    clock_gettime(CLOCK_BOOTTIME, &time)
    #else
    clock_gettime(CLOCK_MONOTONIC_RAW, &time)
    #endif
    return Int64(time.tv_sec) &* 1_000_000_000 &+ Int64(time.tv_nsec)
  }

  /// A `ContinuousClock.Instant` and this clock's reading taken together, to convert between the two.
  ///
  /// Both read the same kernel clock, so the conversion is off by at most the few nanoseconds between the
  /// two readings; durations between two `now()` readings are exact.
  private static let origin = (instant: ContinuousClock.now, nanoseconds: now())

  /// The instant of a reading.
  static func instant(_ nanoseconds: Int64) -> ContinuousClock.Instant {
    origin.instant.advanced(by: .nanoseconds(nanoseconds &- origin.nanoseconds))
  }

  /// The reading of an instant.
  static func nanoseconds(_ instant: ContinuousClock.Instant) -> Int64 {
    origin.nanoseconds &+ nanoseconds(origin.instant.duration(to: instant))
  }

  /// A duration in whole nanoseconds (rounded toward zero; saturating far beyond any call's length).
  static func nanoseconds(_ duration: Duration) -> Int64 {
    let (seconds, attoseconds) = duration.components
    let (whole, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
    guard !overflow else { return seconds < 0 ? .min : .max }
    return whole &+ attoseconds / 1_000_000_000
  }
}
