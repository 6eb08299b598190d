import Testing

@testable import etcd_probe

/// A member that hashed revision `rev` above compact revision `compact`.
private func hashed(_ hash: UInt32, rev: Int64 = 100, compact: Int64 = 10) -> MemberHashResult {
  .hashed(revision: rev, compactRevision: compact, hash: hash)
}

private let lost: MemberHashResult = .failed(reason: "unavailable")

/// One row: every member's result and the verdict expected for it.
struct HashCase: Sendable, CustomTestStringConvertible {
  var name: String
  var results: [String: MemberHashResult]
  var agreeing: Set<String> = []
  var disagreeing: Set<String> = []
  var notComparable: Set<String> = []
  var failed: Set<String> = []
  var outcome: HashConsistency.Outcome
  var shouldRetry: Bool

  var testDescription: String { name }
}

private let cases: [HashCase] = [
  HashCase(name: "no members", results: [:], outcome: .notComparable, shouldRetry: false),
  HashCase(
    name: "one member alone is never compared", results: ["a": hashed(1)], notComparable: ["a"],
    outcome: .notComparable, shouldRetry: false),
  HashCase(
    name: "one member, revision unavailable", results: ["a": .revisionUnavailable],
    notComparable: ["a"], outcome: .notComparable, shouldRetry: false),
  HashCase(
    name: "one member failed", results: ["a": lost], failed: ["a"], outcome: .error,
    shouldRetry: false),
  HashCase(
    name: "two agree", results: ["a": hashed(1), "b": hashed(1)], agreeing: ["a", "b"],
    outcome: .agreed, shouldRetry: false),
  HashCase(
    name: "two-member tie: both disagree", results: ["a": hashed(1), "b": hashed(2)],
    disagreeing: ["a", "b"], outcome: .mismatch, shouldRetry: false),
  HashCase(
    name: "two members at different compact revisions",
    results: ["a": hashed(1, compact: 10), "b": hashed(2, compact: 5)], notComparable: ["a", "b"],
    outcome: .notComparable, shouldRetry: true),
  HashCase(
    name: "two members, one failed", results: ["a": hashed(1), "b": lost], notComparable: ["a"],
    failed: ["b"], outcome: .error, shouldRetry: false),
  HashCase(
    name: "three agree", results: ["a": hashed(7), "b": hashed(7), "c": hashed(7)],
    agreeing: ["a", "b", "c"], outcome: .agreed, shouldRetry: false),
  HashCase(
    name: "one of three disagrees", results: ["a": hashed(7), "b": hashed(7), "c": hashed(8)],
    agreeing: ["a", "b"], disagreeing: ["c"], outcome: .mismatch, shouldRetry: false),
  HashCase(
    name: "three hashes among three: no majority",
    results: ["a": hashed(1), "b": hashed(2), "c": hashed(3)], disagreeing: ["a", "b", "c"],
    outcome: .mismatch, shouldRetry: false),
  HashCase(
    name: "one of three failed while two agree",
    results: ["a": hashed(7), "b": hashed(7), "c": .failed(reason: "deadline_exceeded")],
    agreeing: ["a", "b"], failed: ["c"], outcome: .error, shouldRetry: false),
  HashCase(
    name: "every member failed", results: ["a": lost, "b": lost, "c": lost],
    failed: ["a", "b", "c"], outcome: .error, shouldRetry: false),
  HashCase(
    name: "a lagging compaction with another hash is not a mismatch",
    results: ["a": hashed(7), "b": hashed(7), "c": hashed(9, compact: 5)], agreeing: ["a", "b"],
    notComparable: ["c"], outcome: .notComparable, shouldRetry: true),
  HashCase(
    name: "revision unavailable on one of three",
    results: ["a": hashed(7), "b": hashed(7), "c": .revisionUnavailable], agreeing: ["a", "b"],
    notComparable: ["c"], outcome: .notComparable, shouldRetry: true),
  HashCase(
    name: "revision unavailable everywhere",
    results: ["a": .revisionUnavailable, "b": .revisionUnavailable, "c": .revisionUnavailable],
    notComparable: ["a", "b", "c"], outcome: .notComparable, shouldRetry: true),
  HashCase(
    name: "failed outranks not comparable, and retrying may still help",
    results: ["a": hashed(7), "b": hashed(7), "c": .revisionUnavailable, "d": lost],
    agreeing: ["a", "b"], notComparable: ["c"], failed: ["d"], outcome: .error, shouldRetry: true),
  HashCase(
    name: "mismatch outranks failed",
    results: ["a": hashed(7), "b": hashed(7), "c": hashed(8), "d": lost], agreeing: ["a", "b"],
    disagreeing: ["c"], failed: ["d"], outcome: .mismatch, shouldRetry: false),
  HashCase(
    name: "five agree",
    results: ["a": hashed(7), "b": hashed(7), "c": hashed(7), "d": hashed(7), "e": hashed(7)],
    agreeing: ["a", "b", "c", "d", "e"], outcome: .agreed, shouldRetry: false),
  HashCase(
    name: "two of five disagree with the same hash",
    results: ["a": hashed(7), "b": hashed(7), "c": hashed(7), "d": hashed(8), "e": hashed(8)],
    agreeing: ["a", "b", "c"], disagreeing: ["d", "e"], outcome: .mismatch, shouldRetry: false),
  HashCase(
    name: "two of five disagree with different hashes",
    results: ["a": hashed(7), "b": hashed(7), "c": hashed(7), "d": hashed(8), "e": hashed(9)],
    agreeing: ["a", "b", "c"], disagreeing: ["d", "e"], outcome: .mismatch, shouldRetry: false),
  HashCase(
    name: "2-2 tie among four plus one at another compact revision",
    results: [
      "a": hashed(1), "b": hashed(1), "c": hashed(2), "d": hashed(2), "e": hashed(1, compact: 5),
    ],
    disagreeing: ["a", "b", "c", "d"], notComparable: ["e"], outcome: .mismatch, shouldRetry: false),
  HashCase(
    name: "2-2 tie plus a third hash in one group of five: no strict majority",
    results: ["a": hashed(1), "b": hashed(1), "c": hashed(2), "d": hashed(2), "e": hashed(3)],
    disagreeing: ["a", "b", "c", "d", "e"], outcome: .mismatch, shouldRetry: false),
  HashCase(
    name: "the larger group disagrees internally while others lag: mismatch wins",
    results: [
      "a": hashed(7), "b": hashed(7), "c": hashed(8), "d": hashed(7, compact: 5),
      "e": hashed(7, compact: 5),
    ],
    agreeing: ["a", "b"], disagreeing: ["c"], notComparable: ["d", "e"], outcome: .mismatch,
    shouldRetry: false),
  HashCase(
    name: "the larger group wins over a higher compact revision",
    results: ["a": hashed(1, compact: 20), "b": hashed(2), "c": hashed(2), "d": hashed(2)],
    agreeing: ["b", "c", "d"], notComparable: ["a"], outcome: .notComparable, shouldRetry: true),
  HashCase(
    name: "equal groups: the higher compact revision is compared",
    results: [
      "a": hashed(1, compact: 20), "b": hashed(2, compact: 20), "c": hashed(3, compact: 10),
      "d": hashed(3, compact: 10),
    ],
    disagreeing: ["a", "b"], notComparable: ["c", "d"], outcome: .mismatch, shouldRetry: false),
  HashCase(
    name: "equal groups at one compact revision: the higher revision is compared",
    results: [
      "a": hashed(1, rev: 100), "b": hashed(1, rev: 100), "c": hashed(2, rev: 101),
      "d": hashed(3, rev: 101),
    ],
    disagreeing: ["c", "d"], notComparable: ["a", "b"], outcome: .mismatch, shouldRetry: false),
]

@Suite("HashConsistency")
struct HashConsistencyTests {
  @Test(arguments: cases)
  func verdict(_ row: HashCase) {
    let verdict = HashConsistency(row.results)
    #expect(verdict.agreeing == row.agreeing)
    #expect(verdict.disagreeing == row.disagreeing)
    #expect(verdict.notComparable == row.notComparable)
    #expect(verdict.failed == row.failed)
    #expect(verdict.outcome == row.outcome)
    #expect(verdict.shouldRetry == row.shouldRetry)
  }

  @Test(arguments: cases)
  func everyMemberIsInExactlyOneSet(_ row: HashCase) {
    let verdict = HashConsistency(row.results)
    let sets = [verdict.agreeing, verdict.disagreeing, verdict.notComparable, verdict.failed]
    #expect(sets.map(\.count).reduce(0, +) == row.results.count)
    #expect(sets.reduce(into: Set<String>()) { $0.formUnion($1) } == Set(row.results.keys))
  }

  @Test func outcomeLabels() {
    #expect(
      HashConsistency.Outcome.allCases.map(\.rawValue) == [
        "agreed", "mismatch", "not_comparable", "error",
      ])
  }

  @Test func theFailureReasonDoesNotChangeTheVerdict() {
    let timeout = HashConsistency(["a": hashed(1), "b": hashed(1), "c": .failed(reason: "timeout")])
    let refused = HashConsistency(["a": hashed(1), "b": hashed(1), "c": .failed(reason: "refused")])
    #expect(timeout == refused)
    #expect(timeout != HashConsistency(["a": hashed(1), "b": hashed(1), "c": hashed(1)]))
  }
}

/// One retry-driver row: the results returned at each attempt (the last one repeats), the bound, and
/// the expected attempts and final outcome.
struct RetryCase: Sendable, CustomTestStringConvertible {
  var name: String
  var rounds: [[String: MemberHashResult]]
  var maxAttempts: Int
  var attempts: Int
  var outcome: HashConsistency.Outcome

  var testDescription: String { name }
}

private let lagging: [String: MemberHashResult] = [
  "a": hashed(7), "b": hashed(7), "c": hashed(9, compact: 5),
]
private let agreed: [String: MemberHashResult] = ["a": hashed(7), "b": hashed(7), "c": hashed(7)]
private let diverged: [String: MemberHashResult] = ["a": hashed(7), "b": hashed(7), "c": hashed(8)]

private let retryCases: [RetryCase] = [
  RetryCase(
    name: "retries until comparable", rounds: [lagging, lagging, agreed], maxAttempts: 5,
    attempts: 3, outcome: .agreed),
  RetryCase(
    name: "retries until a mismatch shows", rounds: [lagging, diverged], maxAttempts: 5, attempts: 2,
    outcome: .mismatch),
  RetryCase(
    name: "stops at maxAttempts", rounds: [lagging], maxAttempts: 3, attempts: 3,
    outcome: .notComparable),
  RetryCase(
    name: "one attempt allowed", rounds: [lagging, agreed], maxAttempts: 1, attempts: 1,
    outcome: .notComparable),
  RetryCase(
    name: "no retry after agreement", rounds: [agreed, diverged], maxAttempts: 5, attempts: 1,
    outcome: .agreed),
  RetryCase(
    name: "no retry after a mismatch", rounds: [diverged, agreed], maxAttempts: 5, attempts: 1,
    outcome: .mismatch),
  RetryCase(
    name: "no retry when a member only failed",
    rounds: [["a": hashed(7), "b": hashed(7), "c": lost], agreed], maxAttempts: 5, attempts: 1,
    outcome: .error),
  RetryCase(
    name: "no retry for a lone member", rounds: [["a": hashed(7)], agreed], maxAttempts: 5,
    attempts: 1, outcome: .notComparable),
]

@Suite("HashConsistency retries")
struct HashConsistencyRetryTests {
  @Test(arguments: retryCases)
  func driver(_ row: RetryCase) async {
    var asked: [Int] = []
    let (verdict, attempts) = await HashConsistency.check(maxAttempts: row.maxAttempts) { attempt in
      asked.append(attempt)
      return row.rounds[min(attempt, row.rounds.count - 1)]
    }
    #expect(attempts == row.attempts)
    #expect(asked == Array(0..<row.attempts))
    #expect(verdict.outcome == row.outcome)
    #expect(verdict == HashConsistency(row.rounds[min(row.attempts - 1, row.rounds.count - 1)]))
  }

  @Test func stopsRetryingOnceCancelled() async {
    let task = Task {
      await HashConsistency.check(maxAttempts: 5) { attempt in
        if attempt == 0 { withUnsafeCurrentTask { $0?.cancel() } }
        return lagging
      }
    }
    let (verdict, attempts) = await task.value
    #expect(attempts == 1)
    #expect(verdict.shouldRetry)
  }
}
