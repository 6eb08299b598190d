import GRPCProtocol

/// Chooses the endpoint of each call: round robin over the healthy ones, as clientv3 does. A pure value with
/// time passed in.
///
/// An endpoint whose connection failed is taken out for a backoff that doubles with each consecutive failure
/// (100 ms up to 5 s, with ±20% jitter); once the backoff has passed it is eligible again, and the next call
/// sent there reconnects. A success puts it back for good. When every endpoint is out, the one whose backoff
/// ends first is used anyway, so a client whose endpoints all died recovers by itself as soon as one is back.
struct EndpointBalancer: Sendable {
  /// The health of one endpoint.
  struct Health: Sendable, Hashable {
    /// Consecutive failures.
    var failures = 0
    /// When the endpoint may be used again (nanoseconds on the caller's monotonic clock); nil when healthy.
    var retryAt: Int64?
  }

  private(set) var health: [Health]
  private var cursor = 0

  /// How long a failed endpoint is out: 100 ms doubled per consecutive failure, up to 5 s, ±20%.
  static let backoff = Backoff(
    initial: .milliseconds(100), maximum: .seconds(5), growth: .exponential(multiplier: 2), jitter: 0.2)

  /// Creates a balancer over `count` endpoints, all healthy.
  init(count: Int) {
    health = Array(repeating: Health(), count: count)
  }

  /// The number of endpoints.
  var count: Int { health.count }

  /// Whether the endpoint is in use (not backing off) at `now`.
  func isAvailable(_ index: Int, now: Int64) -> Bool {
    guard let retryAt = health[index].retryAt else { return true }
    return now >= retryAt
  }

  /// The endpoint for the next attempt, avoiding those in `excluding` (already tried by this call) when
  /// another is available. Returns nil only when there is no endpoint.
  mutating func pick(now: Int64, excluding: Set<Int> = []) -> Int? {
    guard !health.isEmpty else { return nil }
    let count = health.count
    for step in 0..<count {
      let index = (cursor + step) % count
      if !excluding.contains(index) && isAvailable(index, now: now) {
        cursor = (index + 1) % count
        return index
      }
    }
    // Nothing available and untried: the endpoint whose backoff ends first, preferring untried ones.
    let candidates = health.indices.filter { !excluding.contains($0) }
    let pool = candidates.isEmpty ? Array(health.indices) : candidates
    return pool.min { (health[$0].retryAt ?? .min) < (health[$1].retryAt ?? .min) }
  }

  /// A call on the endpoint succeeded.
  mutating func succeeded(_ index: Int) {
    guard index < health.count else { return }
    health[index] = Health()
  }

  /// The endpoint's connection failed at `now`; `jitter` (0.8...1.2) spreads clients' retries.
  mutating func failed(_ index: Int, now: Int64, jitter: Double) {
    guard index < health.count else { return }
    let failures = health[index].failures + 1
    let delay = Self.backoff.delay(afterFailures: failures, jitterFactor: jitter)
    health[index] = Health(failures: failures, retryAt: now + Backoff.nanoseconds(delay))
  }

  /// Replaces the endpoint set (after an auto-sync), keeping the health of endpoints that remain.
  mutating func replace(keeping kept: [Int?]) {
    health = kept.map { old in old.map { health[$0] } ?? Health() }
    cursor = 0
  }
}

/// Which calls may be repeated after a failure, as etcd's clientv3 decides (`client/v3/retry.go`).
enum RetryPolicy {
  /// Whether a call that failed with `error` may be sent again (to another endpoint).
  ///
  /// Repeatable (read-only) calls are retried on any UNAVAILABLE status; calls that change state only when
  /// the request provably never reached a server.
  static func mayRetry(_ method: RPCMethod, after error: EtcdError, neverProcessed: Bool) -> Bool {
    if neverProcessed { return true }
    guard method.isRepeatable else { return false }
    return error.status.code == .unavailable && error.code != .clientClosed
  }

  /// The pause before retry `attempt` (1-based): 25 ms per attempt with ±10% jitter, as clientv3's
  /// `backoffLinearWithJitter(25ms, 0.1)` (capped at the pause of the last of `maximumAttempts`).
  static let pause = Backoff(
    initial: .milliseconds(25), maximum: .milliseconds(25 * maximumAttempts), growth: .linear, jitter: 0.1)

  /// The most attempts of one call (clientv3's default is 100 for unary calls; the deadline usually ends
  /// them first).
  static let maximumAttempts = 100
}
