import NIOCore

/// Nanoseconds on the monotonic clock, for the pure state machines' `now: Int64` (balancer backoff, lease
/// renewal times).
///
/// `NIODeadline.now()` reads `CLOCK_MONOTONIC` straight into an integer; `ContinuousClock`'s
/// `duration(to:).components` divides 128 bits on every reading, which once cost a few hundred
/// instructions on each call's endpoint pick.
enum MonotonicClock {
  /// The current reading, in nanoseconds since an arbitrary, fixed point (the system's boot).
  static var nanoseconds: Int64 {
    Int64(truncatingIfNeeded: NIODeadline.now().uptimeNanoseconds)
  }
}
