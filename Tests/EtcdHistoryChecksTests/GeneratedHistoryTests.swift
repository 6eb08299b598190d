import EtcdHistoryChecks
import Testing

/// A 2,000-operation history from 4–8 concurrent clients, generated from a random sequential run of
/// the model.
@Suite struct GeneratedHistoryTests {
  static let generated = GeneratedEtcdHistory(count: 2_000, seed: 0x5EED)
  let checker = LinearizabilityChecker(model: GeneratedEtcdHistory.model)

  @Test func historyHasTheIntendedShape() {
    let history = Self.generated
    #expect((4...8).contains(history.clientCount))
    #expect(history.operations.count == 2_010)
    #expect(history.operations.filter { $0.output == nil }.count > 40)
  }

  @Test func generatedHistoryIsLinearizableAndReplaysToTheTrueLog() {
    let history = Self.generated
    let result = checker.check(history.operations)
    guard case .linearizable(let order) = result else {
      Issue.record("expected linearizable, got \(result)")
      return
    }
    let returned = Set(history.operations.filter { $0.output != nil }.map(\.id))
    #expect(returned.isSubset(of: order))
    let log = RevisionLog.fromLinearization(order, of: history.operations, model: checker.model)
    // Pending writes after the last revision a response shows are left unapplied: the history
    // cannot tell them from writes that never happened.
    let observed = history.operations.compactMap(\.output).map(\.revision).max() ?? 0
    #expect(log.lastRevision == observed)
    for revision in 2...observed {
      #expect(log.events[revision] == history.trueLog.events[revision], "revision \(revision)")
    }
  }

  @Test func watcherOfTheTrueEventsKeepsTheGuarantees() {
    let history = Self.generated
    guard case .linearizable(let order) = checker.check(history.operations) else {
      Issue.record("expected linearizable")
      return
    }
    let log = RevisionLog.fromLinearization(order, of: history.operations, model: checker.model)
    let truth = history.trueLog
    let responses = (2...truth.lastRevision).compactMap { revision in
      truth.events[revision].map { WatchResponseRecord(headerRevision: revision, events: $0) }
    }
    let watcher = WatcherRecord(key: "k", rangeEnd: "l", startRevision: 2, responses: responses)
    #expect(
      WatchGuaranteeChecker(log: log).check(watcher, caughtUpThrough: truth.lastRevision) == [])
    var dropped = watcher
    dropped.responses.remove(at: 700)
    #expect(
      WatchGuaranteeChecker(log: log).check(dropped, caughtUpThrough: truth.lastRevision)
        == [.gap(missingRevisions: [watcher.responses[700].headerRevision])])
  }

  @Test func oneMutatedResponseIsAViolation() {
    var operations = Self.generated.operations
    let mutated = operations.indices.first { index in
      guard index >= 1_000,
        case .returned(.range(_, let kvs), _)? = Optional(operations[index].outcome)
      else {
        return false
      }
      return !kvs.isEmpty
    }
    guard let mutated,
      case .returned(.range(let revision, var kvs), let at) = operations[mutated].outcome
    else {
      Issue.record("no range response to mutate")
      return
    }
    kvs[0].value = "mutated"
    operations[mutated].outcome = .returned(.range(revision: revision, kvs: kvs), at: at)
    let violation = checker.check(operations).violation
    #expect(violation?.unexplainedOperation == operations[mutated].id)
    #expect(violation?.window.contains(operations[mutated].id) == true)
    #expect((violation?.linearizedPrefix.count ?? 0) > 900)
  }
}
