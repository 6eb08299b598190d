import Testing

@testable import etcd_probe

@Suite("OperationHealth: one log line per change")
struct OperationHealthTests {
  static let unavailable = OperationFailure(code: "Unavailable", reason: "connection_failed", message: "refused")
  static let timeout = OperationFailure(code: "DeadlineExceeded", reason: "deadline_exceeded", message: "slow")
  static let stale = OperationFailure(code: "OK", reason: "stale_read", message: "older revision")

  @Test func logsTheStartAndTheEndOfAFailureOnce() {
    var health = OperationHealth()
    #expect(health.record(.put, failure: nil) == nil)
    #expect(health.record(.put, failure: Self.unavailable) == .startedFailing(Self.unavailable))
    #expect(health.record(.put, failure: Self.unavailable) == nil)
    #expect(health.record(.put, failure: Self.unavailable) == nil)
    #expect(health.failingOperations == [.put])
    #expect(health.record(.put, failure: nil) == .recovered(failures: 3))
    #expect(health.record(.put, failure: nil) == nil)
    #expect(health.failingOperations.isEmpty)
  }

  @Test func aFirstAttemptThatFailsIsAStart() {
    var health = OperationHealth()
    #expect(health.record(.watch, failure: Self.timeout) == .startedFailing(Self.timeout))
  }

  @Test func anotherReasonIsLoggedButAnotherMessageIsNot() {
    var health = OperationHealth()
    _ = health.record(.get, failure: Self.unavailable)
    var reworded = Self.unavailable
    reworded.message = "connection reset"
    #expect(health.record(.get, failure: reworded) == nil)
    #expect(health.record(.get, failure: Self.stale) == .failingDifferently(Self.stale))
    #expect(health.record(.get, failure: nil) == .recovered(failures: 3))
  }

  @Test func operationsAreFollowedApart() {
    var health = OperationHealth()
    #expect(health.record(.put, failure: Self.unavailable) != nil)
    #expect(health.record(.get, failure: Self.unavailable) != nil)
    #expect(health.record(.put, failure: nil) == .recovered(failures: 1))
    #expect(health.failingOperations == [.get])
  }
}
