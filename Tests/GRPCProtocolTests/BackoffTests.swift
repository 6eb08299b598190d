import Testing

import GRPCProtocol

@Suite("Backoff")
struct BackoffTests {
  static let doubling = Backoff(
    initial: .milliseconds(50), maximum: .seconds(2), growth: .exponential(multiplier: 2), jitter: 0.2)
  static let linear = Backoff(
    initial: .milliseconds(25), maximum: .milliseconds(2_500), growth: .linear, jitter: 0.1)

  @Test(
    "exponential base delays double and are capped",
    arguments: [
      (0, Int64(50)), (1, 50), (2, 100), (3, 200), (6, 1_600), (7, 2_000), (30, 2_000), (1_000, 2_000),
      (Int.max, Int64(2_000)),
    ])
  func exponential(failures: Int, milliseconds: Int64) {
    #expect(Self.doubling.baseDelay(afterFailures: failures) == .milliseconds(milliseconds))
  }

  @Test(
    "linear base delays grow by the initial delay and are capped",
    arguments: [(1, Int64(25)), (4, 100), (100, 2_500), (101, 2_500)])
  func linear(failures: Int, milliseconds: Int64) {
    #expect(Self.linear.baseDelay(afterFailures: failures) == .milliseconds(milliseconds))
  }

  @Test(
    "the random number places the delay in the jitter range",
    arguments: [
      (0.0, Int64(80)), (0.5, 100), (1.0, 120), (0.25, 90), (-3.0, 80), (7.0, 120),
    ])
  func jitter(random: Double, milliseconds: Int64) {
    let delay = Self.doubling.delay(afterFailures: 2, random: random)
    #expect(abs(Backoff.nanoseconds(delay) - milliseconds * 1_000_000) <= 1)
  }

  @Test(
    "a jitter factor is clamped to the policy's range",
    arguments: [(1.0, Int64(100)), (1.2, 120), (0.8, 80), (2.0, 120), (0.0, 80)])
  func jitterFactor(factor: Double, milliseconds: Int64) {
    let delay = Self.doubling.delay(afterFailures: 2, jitterFactor: factor)
    #expect(abs(Backoff.nanoseconds(delay) - milliseconds * 1_000_000) <= 1)
  }

  @Test("no jitter gives the base delay")
  func noJitter() {
    let policy = Backoff(
      initial: .milliseconds(100), maximum: .seconds(5), growth: .exponential(multiplier: 3), jitter: 0)
    #expect(policy.delay(afterFailures: 3, random: 0) == .milliseconds(900))
    #expect(policy.delay(afterFailures: 3, random: 1) == .milliseconds(900))
  }
}
