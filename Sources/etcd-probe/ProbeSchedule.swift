/// When the probe does what: a round every `interval`, a consistency check every `hashInterval`. Pure, with
/// time passed in as durations since the probe started.
struct ProbeSchedule: Sendable, Equatable {
  let interval: Duration
  let hashInterval: Duration
  private(set) var nextRound: Duration = .zero
  private(set) var nextHashCheck: Duration = .zero

  init(interval: Duration, hashInterval: Duration) {
    self.interval = interval
    self.hashInterval = hashInterval
  }

  /// What is due at `now`.
  struct Due: Equatable, Sendable {
    var round: Bool
    var hashCheck: Bool
  }

  /// Marks what is due at `now` as started and schedules the next ones. A round that ran late does not cause
  /// a burst: the next one is an interval after `now` when the schedule fell behind.
  mutating func take(now: Duration) -> Due {
    var due = Due(round: false, hashCheck: false)
    if now >= nextRound {
      due.round = true
      nextRound = max(nextRound + interval, now + interval / 2)
    }
    if due.round && now >= nextHashCheck {
      due.hashCheck = true
      nextHashCheck = now + hashInterval
    }
    return due
  }

  /// How long to sleep from `now` until the next round.
  func delay(now: Duration) -> Duration { max(.zero, nextRound - now) }

  /// When the target at `index` of `count` starts its part of a round, from the round's start: the targets
  /// are spread evenly over the first half of the interval, so that their puts do not reach the cluster at
  /// one instant and wait on each other (each target measures the cluster, not the probe's own burst).
  func stagger(index: Int, count: Int) -> Duration {
    guard count > 1, index > 0 else { return .zero }
    return interval / 2 / count * min(index, count - 1)
  }
}
