import EtcdHistoryChecks
import Testing

/// The search budget and the violation report's prefix and window.
@Suite struct LinearizabilitySearchTests {
  /// Eight concurrent writes and a read of a value none wrote: refuting it visits every subset of
  /// the writes.
  let unexplainableRead: [RegisterOperation] =
    (1...8).map { write($0, $0, UInt64($0), 100, client: $0) } + [read(9, 99, 50, 60, client: 9)]

  @Test func budgetTooSmallIsInconclusive() {
    let result = LinearizabilityChecker(model: RegisterModel(), maxSteps: 5).check(
      unexplainableRead)
    guard case .inconclusive(let steps) = result else {
      Issue.record("expected inconclusive, got \(result)")
      return
    }
    #expect(steps == 5)
  }

  @Test func enoughBudgetRefutes() {
    let violation = LinearizabilityChecker(model: RegisterModel()).check(unexplainableRead)
      .violation
    #expect(violation?.unexplainedOperation == 9)
    #expect(violation?.linearizedPrefix.count == 8)
    #expect(violation?.window == [9])
  }

  @Test func windowHoldsTheUnlinearizedOperationsCalledBeforeTheStuckReturn() {
    // Operation 2 reads a value never written and stays open; operation 4 reads 1 after write(2)
    // returned. The deepest prefix is [1, 3]; operation 4's return is the first that cannot be
    // explained, and operation 2, called before it and not linearized, is in the window too.
    let history = [
      write(1, 1, 0, 10), read(2, 7, 20, 300), write(3, 2, 30, 40), read(4, 1, 45, 50),
      read(5, 2, 400, 410),
    ]
    let violation = LinearizabilityChecker(model: RegisterModel()).check(history).violation
    #expect(violation?.linearizedPrefix == [1, 3])
    #expect(violation?.unexplainedOperation == 4)
    #expect(violation?.window == [2, 4])
    #expect(violation?.windowOperations.count == 2)
    let description = violation.map(String.init(describing:)) ?? ""
    #expect(description.contains("#2 client 0 [20, 300] read -> value(7)"))
    #expect(description.contains("#4 client 0 [45, 50] read -> value(1)"))
  }
}
