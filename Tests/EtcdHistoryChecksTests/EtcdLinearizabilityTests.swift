import EtcdHistoryChecks
import Testing

/// Hand-made etcd histories that are and are not linearizable, from a store at revision 1.
@Suite struct EtcdLinearizabilityTests {
  let checker = LinearizabilityChecker(model: EtcdKVModel(initialRevision: 1))
  let a1 = record("a", "1", create: 2, mod: 2, version: 1)

  @Test func readAfterPutSeesIt() {
    let history = [
      operation(1, .put(key: "a", value: "1"), 0, 10, .put(revision: 2)),
      operation(2, .range(key: "a", rangeEnd: nil), 20, 30, .range(revision: 2, kvs: [a1])),
    ]
    #expect(checker.check(history).order == [1, 2])
  }

  @Test func staleReadAfterAReturnedPutIsAViolation() {
    let history = [
      operation(1, .put(key: "a", value: "1"), 0, 10, .put(revision: 2)),
      operation(2, .range(key: "a", rangeEnd: nil), 20, 30, .range(revision: 1, kvs: [])),
    ]
    let violation = checker.check(history).violation
    #expect(violation?.linearizedPrefix == [1])
    #expect(violation?.unexplainedOperation == 2)
  }

  @Test func staleReadOverlappingThePutIsLinearizable() {
    let history = [
      operation(1, .put(key: "a", value: "1"), 0, 30, .put(revision: 2)),
      operation(2, .range(key: "a", rangeEnd: nil), 10, 20, .range(revision: 1, kvs: [])),
    ]
    #expect(checker.check(history).order == [2, 1])
  }

  @Test func lostAcknowledgedWriteIsAViolation() {
    let b3 = record("b", "1", create: 3, mod: 3, version: 1)
    let history = [
      operation(1, .put(key: "a", value: "1"), 0, 10, .put(revision: 2)),
      operation(2, .put(key: "b", value: "1"), 20, 30, .put(revision: 3)),
      operation(3, .range(key: "a", rangeEnd: "\0"), 40, 50, .range(revision: 3, kvs: [b3])),
    ]
    #expect(checker.check(history).violation?.unexplainedOperation == 3)
    var complete = history
    complete[2] = operation(
      3, .range(key: "a", rangeEnd: "\0"), 40, 50, .range(revision: 3, kvs: [a1, b3]))
    #expect(checker.check(complete).order == [1, 2, 3])
  }

  @Test(arguments: [Int64(4), 2])
  func revisionThatSkipsOrRepeatsIsAViolation(_ secondRevision: Int64) {
    let history = [
      operation(1, .put(key: "a", value: "1"), 0, 10, .put(revision: 2)),
      operation(2, .put(key: "b", value: "1"), 20, 30, .put(revision: secondRevision)),
    ]
    #expect(checker.check(history).violation?.unexplainedOperation == 2)
  }

  @Test func concurrentPutsAreOrderedByTheirRevisions() {
    let history = [
      operation(1, .put(key: "a", value: "1"), 0, 50, .put(revision: 3), client: 1),
      operation(2, .put(key: "a", value: "2"), 10, 40, .put(revision: 2), client: 2),
      operation(
        3, .range(key: "a", rangeEnd: nil), 60, 70,
        .range(revision: 3, kvs: [record("a", "1", create: 2, mod: 3, version: 2)])),
    ]
    #expect(checker.check(history).order == [2, 1, 3])
  }

  @Test func txnCompareOnAMissingKeyValueTakesTheFailureBranch() {
    let txn = KVTxn(
      compares: [KVCompare(key: "a", target: .value("x"), result: .notEqual)],
      success: [.put(key: "a", value: "1")], failure: [.range(key: "a", rangeEnd: nil)])
    let failed = KVResponse.txn(
      revision: 1, succeeded: false, results: [.range(revision: 1, kvs: [])])
    let succeeded = KVResponse.txn(revision: 2, succeeded: true, results: [.put(revision: 2)])
    #expect(checker.check([operation(1, .txn(txn), 0, 10, failed)]).order == [1])
    #expect(checker.check([operation(1, .txn(txn), 0, 10, succeeded)]).violation != nil)
  }

  @Test func deleteOfNothingKeepsTheRevision() {
    let history = [
      operation(1, .delete(key: "a", rangeEnd: nil), 0, 10, .delete(revision: 1, deleted: 0)),
      operation(2, .put(key: "a", value: "1"), 20, 30, .put(revision: 2)),
    ]
    #expect(checker.check(history).order == [1, 2])
    var bumped = history
    bumped[0] = operation(
      1, .delete(key: "a", rangeEnd: nil), 0, 10, .delete(revision: 2, deleted: 0))
    #expect(checker.check(bumped).violation?.unexplainedOperation == 1)
  }

  @Test func txnWithPutAndDeleteIsOneRevision() {
    let txn = KVTxn(
      compares: [], success: [.put(key: "b", value: "1"), .delete(key: "a", rangeEnd: nil)],
      failure: [])
    let b3 = record("b", "1", create: 3, mod: 3, version: 1)
    let history = [
      operation(1, .put(key: "a", value: "1"), 0, 10, .put(revision: 2)),
      operation(
        2, .txn(txn), 20, 30,
        .txn(
          revision: 3, succeeded: true,
          results: [.put(revision: 3), .delete(revision: 3, deleted: 1)])),
      operation(3, .range(key: "\0", rangeEnd: "\0"), 40, 50, .range(revision: 3, kvs: [b3])),
      operation(4, .put(key: "c", value: "1"), 60, 70, .put(revision: 4)),
    ]
    let order = checker.check(history).order
    #expect(order == [1, 2, 3, 4])
    let log = RevisionLog.fromLinearization(order ?? [], of: history, model: checker.model)
    #expect(log.lastRevision == 4)
    #expect(log.events[3] == [putEvent(b3), .deletion(of: "a", at: 3)])
  }

  @Test func pendingPutObservedByALaterRead() {
    let history = [
      operation(1, .put(key: "a", value: "1"), 0, 0, nil),
      operation(2, .range(key: "a", rangeEnd: nil), 10, 20, .range(revision: 2, kvs: [a1])),
    ]
    #expect(checker.check(history).order == [1, 2])
  }

  @Test func readOfAValueNeverWrittenIsAViolation() {
    let history = [
      operation(1, .put(key: "a", value: "1"), 0, 0, nil),
      operation(
        2, .range(key: "a", rangeEnd: nil), 10, 20,
        .range(revision: 2, kvs: [record("a", "never", create: 2, mod: 2, version: 1)])),
    ]
    let violation = checker.check(history).violation
    // The deepest prefix applies the pending put; the read still cannot follow it.
    #expect(violation?.linearizedPrefix == [1])
    #expect(violation?.unexplainedOperation == 2)
    #expect(violation?.window == [2])
  }

  @Test func pendingPutSeenOnlyByAWatcherIsAppliedWhenTheCallerSaysSo() {
    let history = [
      operation(1, .put(key: "a", value: "1"), 0, 10, .put(revision: 2)),
      operation(2, .put(key: "a", value: "2"), 20, 0, nil),
    ]
    #expect(checker.check(history).order == [1])
    var watched = checker.model
    watched.highestObservedRevision = 3
    let order = LinearizabilityChecker(model: watched).check(history).order
    #expect(order == [1, 2])
    let log = RevisionLog.fromLinearization(order ?? [], of: history, model: watched)
    #expect(log.events[3] == [putEvent(record("a", "2", create: 2, mod: 3, version: 2))])
  }

  @Test func pendingPutNeverObservedIsLeftOutOfTheOrder() {
    let history = [
      operation(1, .put(key: "a", value: "lost"), 0, 0, nil),
      operation(2, .put(key: "a", value: "1"), 10, 20, .put(revision: 2)),
      operation(3, .range(key: "a", rangeEnd: nil), 30, 40, .range(revision: 2, kvs: [a1])),
    ]
    #expect(checker.check(history).order == [2, 3])
  }
}
