import EtcdClient
import Testing

@testable import etcd_probe

@Suite("The probe's answer checks")
struct AnswerChecksTests {
  static let key = Array("/etcd-probe/a/probe-1".utf8)

  static func kv(_ revision: Int64, _ value: [UInt8]) -> KeyValue {
    KeyValue(key: key, value: value, createRevision: revision, modRevision: revision, version: 1, lease: LeaseID(7))
  }

  static func write(_ sequence: UInt64, at revision: Int64, size: Int = 32) -> ProbeWrite {
    ProbeWrite(sequence: sequence, revision: revision, value: ProbeValue.make(sequence: sequence, size: size))
  }

  @Test func valuesDifferFromPutToPutAndHaveTheirSize() {
    #expect(ProbeValue.make(sequence: 1, size: 32) != ProbeValue.make(sequence: 2, size: 32))
    #expect(ProbeValue.make(sequence: 12, size: 17) == Array("etcd-probe 12 ppp".utf8))
    #expect(ProbeValue.make(sequence: 12, size: 5) == Array("etcd-".utf8))
    #expect(ProbeValue.make(sequence: 1, size: 0) == [])
    #expect(ProbeValue.make(sequence: 3, size: 1000).count == 1000)
  }

  @Test(arguments: [
    // (kv revision or nil, kv sequence, header revision, expected)
    (Int64?(100), UInt64(5), Int64(100), AnswerFailure?.none),
    (100, 5, 130, nil),  // other writes since: the key is still the probe's
    (nil, 5, 100, .missingKey),
    (90, 4, 100, .staleRead),  // the previous put's key
    (100, 5, 99, .staleRead),  // the answer predates the put
    (100, 6, 100, .wrongValue),
    (101, 5, 101, .overwritten),
  ] as [(Int64?, UInt64, Int64, AnswerFailure?)])
  func linearizableRead(revision: Int64?, sequence: UInt64, header: Int64, expected: AnswerFailure?) {
    let write = Self.write(5, at: 100)
    let kv = revision.map { Self.kv($0, ProbeValue.make(sequence: sequence, size: 32)) }
    #expect(AnswerChecks.linearizableRead(kv: kv, headerRevision: header, after: write) == expected)
  }

  static var history: ProbeWriteHistory {
    var history = ProbeWriteHistory(capacity: 4)
    for (sequence, revision) in [(1, 10), (2, 20), (3, 30), (4, 40), (5, 50)] as [(UInt64, Int64)] {
      history.record(write(sequence, at: revision))
    }
    return history  // remembers revisions 20...50
  }

  @Test(arguments: [
    // (kv revision or nil, kv sequence, header revision, upper bound, expected lag, expected failure)
    (Int64?(50), UInt64(5), Int64(50), Int64?(51), Int64(0), AnswerFailure?.none),  // caught up
    (nil, 5, 45, 51, 5, nil),  // lags: the put is not applied yet, the last delete is
    (30, 3, 35, 51, 15, nil),  // lags: an older put of the probe, with its value
    (5, 0, 8, 51, 42, nil),  // older than anything remembered: cannot judge, lag only
    (30, 4, 35, 51, 15, .wrongValue),  // the older put's revision with another put's value
    (25, 2, 35, 51, 15, .unknownValue),  // a revision in the remembered range the probe never wrote
    (nil, 5, 52, 51, 0, .futureRevision),  // answered from past what the cluster had reached
    (50, 5, 49, 51, 1, .futureRevision),  // a key newer than the answer's own revision
    (nil, 5, 60, nil, 0, nil),  // no upper bound known (the delete failed): no ahead check
  ] as [(Int64?, UInt64, Int64, Int64?, Int64, AnswerFailure?)])
  func serializableRead(
    revision: Int64?, sequence: UInt64, header: Int64, upperBound: Int64?, lag: Int64,
    failure: AnswerFailure?
  ) {
    let kv = revision.map { Self.kv($0, ProbeValue.make(sequence: sequence, size: 32)) }
    let verdict = AnswerChecks.serializableRead(
      kv: kv, headerRevision: header, after: Self.write(5, at: 50), history: Self.history, valueSize: 32,
      upperBound: upperBound)
    #expect(verdict == SerializableReadVerdict(lagRevisions: lag, failure: failure))
  }

  @Test func aPutWhoseCallFailedMayStillBeRead() {
    var history = Self.history
    history.recordUncertain(sequence: 6)  // failed, yet applied at revision 55
    let kv = Self.kv(55, ProbeValue.make(sequence: 6, size: 32))
    let verdict = AnswerChecks.serializableRead(
      kv: kv, headerRevision: 56, after: Self.write(5, at: 50), history: history, valueSize: 32,
      upperBound: 60)
    #expect(verdict == SerializableReadVerdict(lagRevisions: 0, failure: nil))
    // Without the failed put on record the same answer is a write nobody acknowledged.
    let unknown = AnswerChecks.serializableRead(
      kv: kv, headerRevision: 56, after: Self.write(5, at: 50), history: Self.history, valueSize: 32,
      upperBound: 60)
    #expect(unknown.failure == .overwritten)
    #expect(history.latest == Self.write(5, at: 50))
  }

  @Test func historyForgetsTheOldestPastItsCapacity() {
    let history = Self.history
    #expect(history.oldestRevision == 20)
    #expect(history.sequence(at: 10) == nil)
    #expect(history.sequence(at: 20) == 2)
    #expect(history.sequence(at: 50) == 5)
  }

  @Test(arguments: [(Int64(1), AnswerFailure?.none), (0, .wrongDeleteCount), (2, .wrongDeleteCount)])
  func deleteRemovesExactlyTheProbesKey(deleted: Int64, expected: AnswerFailure?) {
    #expect(AnswerChecks.delete(deleted: deleted) == expected)
  }

  @Test func theWatchEventCarriesThePutsValueAndRevision() {
    let write = Self.write(5, at: 100)
    let event = { (type: WatchEvent.EventType, revision: Int64, sequence: UInt64) in
      WatchEvent(type: type, kv: Self.kv(revision, ProbeValue.make(sequence: sequence, size: 32)), prevKV: nil)
    }
    #expect(AnswerChecks.watchEvent(event(.put, 100, 5), of: write) == nil)
    #expect(AnswerChecks.watchEvent(event(.put, 100, 4), of: write) == .wrongValue)
    #expect(AnswerChecks.watchEvent(event(.put, 99, 5), of: write) == .wrongValue)
    #expect(AnswerChecks.watchEvent(event(.delete, 100, 5), of: write) == .wrongValue)
  }

  @Test func theLedgerNotesDuplicatedAndReorderedEventsOnly() {
    let event = { (key: String, type: WatchEvent.EventType, revision: Int64) in
      WatchEvent(
        type: type,
        kv: KeyValue(
          key: Array(key.utf8), value: [], createRevision: revision, modRevision: revision, version: 1,
          lease: nil),
        prevKV: nil)
    }
    var ledger = WatchEventLedger()
    // In order, and a transaction's two keys at one revision: nothing to note.
    ledger.received([event("a", .put, 10), event("a", .delete, 11)])
    ledger.received([event("a", .put, 12), event("b", .put, 12)])
    #expect(ledger.takeAnomaly() == nil)
    #expect(ledger.lastRevision == 12)
    ledger.received([event("b", .put, 12)])
    ledger.received([event("a", .put, 9), event("a", .put, 13)])
    #expect(ledger.takeAnomaly() == .duplicateEvent)
    #expect(ledger.takeAnomaly() == .outOfOrderEvent)
    #expect(ledger.takeAnomaly() == nil)
    // A new history (another cluster) starts its revisions anew without an anomaly.
    ledger.historyReset()
    ledger.received([event("a", .put, 2)])
    #expect(ledger.takeAnomaly() == nil)
    // Anomalies are bounded.
    for _ in 0..<100 { ledger.received([event("a", .put, 2)]) }
    #expect(ledger.anomalies.count == 16)
  }
}
