import EtcdHistoryChecks
import Testing

/// The register histories of Herlihy & Wing's, Wing & Gong's and Lowe's papers.
@Suite struct RegisterLinearizabilityTests {
  let checker = LinearizabilityChecker(model: RegisterModel())

  @Test func sequentialWriteThenRead() {
    let history = [write(1, 1, 0, 10), read(2, 1, 20, 30)]
    #expect(checker.check(history).order == [1, 2])
  }

  @Test func readOverlappingAWriteMaySeeEitherValue() {
    #expect(checker.check([write(1, 1, 0, 100), read(2, 1, 10, 20)]).order == [1, 2])
    #expect(checker.check([write(1, 1, 0, 100), read(2, 0, 10, 20)]).order == [2, 1])
  }

  @Test func writeOverlappingReadsOfNewThenOldIsNotLinearizable() {
    // The new-old inversion: a read sees the new value, a later read the old one.
    let history = [
      write(1, 1, 0, 100, client: 0), read(2, 1, 10, 20, client: 1), read(3, 0, 30, 40, client: 2),
    ]
    let violation = checker.check(history).violation
    #expect(violation?.linearizedPrefix == [1, 2])
    #expect(violation?.unexplainedOperation == 3)
    #expect(violation?.window == [3])
  }

  @Test func writeOverlappingReadsOfOldThenNewIsLinearizable() {
    let history = [write(1, 1, 0, 100), read(2, 0, 10, 20), read(3, 1, 30, 40)]
    #expect(checker.check(history).order == [2, 1, 3])
  }

  @Test func overlappingWritesOrderedByLaterReads() {
    // Two concurrent writes: the reads after both must agree on one order.
    let consistent = [
      write(1, 1, 0, 10), write(2, 2, 5, 15), read(3, 1, 11, 13), read(4, 2, 20, 25),
    ]
    #expect(checker.check(consistent).order == [1, 3, 2, 4])
    let inconsistent = [
      write(1, 1, 0, 10), write(2, 2, 5, 15), read(3, 2, 20, 25), read(4, 1, 30, 35),
    ]
    #expect(checker.check(inconsistent).violation?.unexplainedOperation == 4)
  }

  @Test func staleReadAfterAReturnedWriteIsNotLinearizable() {
    let violation = checker.check([write(1, 1, 0, 10), read(2, 0, 20, 30)]).violation
    #expect(violation?.linearizedPrefix == [1])
    #expect(violation?.window == [2])
  }

  @Test func pendingWriteExplainsALaterRead() {
    #expect(checker.check([write(1, 1, 0, nil), read(2, 1, 10, 20)]).order == [1, 2])
  }

  @Test func pendingWriteNeverObservedIsLeftOut() {
    let history = [write(1, 5, 0, nil), read(2, 0, 10, 20), read(3, 0, 30, 40)]
    #expect(checker.check(history).order == [2, 3])
  }

  @Test func pendingWriteCannotExplainAReadBeforeItsCall() {
    let history = [read(1, 1, 0, 10), write(2, 1, 20, nil)]
    #expect(checker.check(history).violation?.unexplainedOperation == 1)
  }

  @Test func pendingReadsAreLeftOut() {
    let history = [write(1, 1, 0, 10), read(2, nil, 5, 0), read(3, 1, 20, 30)]
    #expect(checker.check(history).order == [1, 3])
  }

  @Test func operationsThatTouchOverlap() {
    // The read is called at the write's return time: either order.
    #expect(checker.check([write(1, 1, 0, 10), read(2, 0, 10, 20)]).order == [2, 1])
  }

  @Test func emptyHistoryIsLinearizable() {
    #expect(checker.check([]).order == [])
  }
}
