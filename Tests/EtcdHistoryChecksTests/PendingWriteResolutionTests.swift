import EtcdHistoryChecks
import Testing

/// Pending writes resolved by what watchers saw: applied at the revision a watcher saw them at and nowhere
/// else, or, when the watchers saw every revision, not applied when nobody saw their value.
@Suite struct PendingWriteResolutionTests {
  /// Twenty puts sent at once whose answers were lost; one of them, `late`, was applied seconds later at
  /// revision 12, between returned puts; a final read shows it.
  func lateWriteHistory(lateRevision: Int64 = 12) -> (history: [EtcdHistoryOperation], events: [WatchEventRecord]) {
    var history: [EtcdHistoryOperation] = []
    var events: [WatchEventRecord] = []
    for index in 0..<20 {
      history.append(operation(index, .put(key: "p", value: "lost-\(index)"), 0, 0, nil, client: index))
    }
    var revision: Int64 = 1
    var time: UInt64 = 100
    var live: [String: KeyValueRecord] = [:]
    func apply(_ key: String, _ value: String) {
      revision += 1
      let previous = live[key]
      let kv = record(
        key, value, create: previous?.createRevision ?? revision, mod: revision,
        version: (previous?.version ?? 0) + 1)
      live[key] = kv
      events.append(putEvent(kv))
    }
    for step in 0..<20 {
      if revision + 1 == lateRevision { apply("p", "lost-7") }
      let key = "q\(step % 3)"
      let value = "q-\(step)"
      history.append(operation(100 + step, .put(key: key, value: value), time, time + 5, nil, client: 30))
      apply(key, value)
      history[history.count - 1].outcome = .returned(.put(revision: revision), at: time + 5)
      time += 10
    }
    let all = live.values.sorted { $0.key < $1.key }
    history.append(
      operation(200, .range(key: "", rangeEnd: "\0"), time, time + 5, .range(revision: revision, kvs: all), client: 31))
    return (history, events)
  }

  @Test func aWriteAWatcherSawIsAppliedAtItsRevisionAndTheOthersNotAtAll() {
    let (history, events) = lateWriteHistory()
    let resolution = PendingWriteResolution(history: history, events: events, watchersSawEveryRevision: true)
    #expect(resolution.appliedAt == [.put(key: "p", value: "lost-7"): 12])
    #expect(resolution.notApplied.count == 19)
    var model = EtcdKVModel(initialRevision: 1)
    model.pendingWrites = resolution
    let checked = resolution.removingUnappliedWrites(from: history)
    #expect(checked.count == history.count - 19)
    let order = LinearizabilityChecker(model: model).check(checked).order
    #expect(order?.contains(7) == true)
    #expect(order?.filter { $0 < 20 } == [7])
  }

  @Test func withoutEveryRevisionTheUnseenWritesStayUndecided() {
    let (history, events) = lateWriteHistory()
    let resolution = PendingWriteResolution(history: history, events: events, watchersSawEveryRevision: false)
    #expect(resolution.appliedAt.count == 1)
    #expect(resolution.notApplied.isEmpty)
  }

  @Test func aWatcherPlacingTheWriteWhereAnotherWriteIsMakesAViolation() throws {
    let (history, events) = lateWriteHistory()
    // Revision 5 was created by a returned put: the late write cannot have created it too.
    var moved = events
    let index = try #require(moved.firstIndex { $0.kv.value == "lost-7" })
    moved[index].kv.modRevision = 5
    var model = EtcdKVModel(initialRevision: 1)
    model.pendingWrites = PendingWriteResolution(history: history, events: moved, watchersSawEveryRevision: true)
    let checked = model.pendingWrites.removingUnappliedWrites(from: history)
    #expect(LinearizabilityChecker(model: model).check(checked).violation != nil)
  }

  @Test func aTransactionThatMayHaveDeletedInsteadIsNotRuledOut() {
    let deleteOrPut = KVRequest.txn(
      KVTxn(
        compares: [KVCompare(key: "a", target: .version(0), result: .greater)],
        success: [.delete(key: "a", rangeEnd: nil)], failure: [.put(key: "a", value: "v")]))
    let casOrRead = KVRequest.txn(
      KVTxn(
        compares: [KVCompare(key: "b", target: .modRevision(0), result: .equal)],
        success: [.put(key: "b", value: "w")], failure: [.range(key: "b", rangeEnd: nil)]))
    let history = [operation(1, deleteOrPut, 0, 0, nil), operation(2, casOrRead, 0, 0, nil)]
    let resolution = PendingWriteResolution(history: history, events: [], watchersSawEveryRevision: true)
    #expect(resolution.notApplied == [casOrRead])
    #expect(resolution.appliedAt.isEmpty)
  }

  /// Two keys put, then two deletes of them sent at once whose answers were lost; a final read finds neither.
  /// By the history alone they may have been applied in either order.
  func lostDeletesHistory(extra: [EtcdHistoryOperation] = []) -> [EtcdHistoryOperation] {
    [
      operation(0, .put(key: "k3", value: "a"), 0, 5, .put(revision: 2)),
      operation(1, .put(key: "k4", value: "b"), 10, 15, .put(revision: 3)),
      operation(2, .delete(key: "k3", rangeEnd: nil), 20, 0, nil, client: 1),
      operation(3, .delete(key: "k4", rangeEnd: nil), 20, 0, nil, client: 2),
      operation(4, .range(key: "k", rangeEnd: "l"), 100, 105, .range(revision: 5, kvs: []), client: 3),
    ] + extra
  }

  /// The watchers' events: the puts, then k4 deleted at 4 and k3 at 5.
  let lostDeletesEvents = [
    putEvent(record("k3", "a", create: 2, mod: 2, version: 1)),
    putEvent(record("k4", "b", create: 3, mod: 3, version: 1)),
    WatchEventRecord(kind: .delete, kv: record("k4", "", create: 0, mod: 4, version: 0)),
    WatchEventRecord(kind: .delete, kv: record("k3", "", create: 0, mod: 5, version: 0)),
  ]

  @Test func pendingDeletesAreAppliedWhereTheWatchersSawTheirKeysDeleted() throws {
    let history = lostDeletesHistory()
    let resolution = PendingWriteResolution(
      history: history, events: lostDeletesEvents, watchersSawEveryRevision: true)
    #expect(resolution.appliedAt == [.delete(key: "k4", rangeEnd: nil): 4, .delete(key: "k3", rangeEnd: nil): 5])
    var model = EtcdKVModel(initialRevision: 1)
    model.pendingWrites = resolution
    let order = try #require(LinearizabilityChecker(model: model).check(history).order)
    let k4 = try #require(order.firstIndex(of: 3))
    let k3 = try #require(order.firstIndex(of: 2))
    #expect(k4 < k3, "\(order)")
  }

  @Test func aDeleteAnotherPendingWriteMayHaveMadeIsNotPlaced() {
    // A transaction whose answer was lost too, which deletes k3 when it succeeds.
    let txn = KVRequest.txn(
      KVTxn(
        compares: [KVCompare(key: "k3", target: .version(0), result: .greater)],
        success: [.delete(key: "k3", rangeEnd: nil)], failure: []))
    let history = lostDeletesHistory(extra: [operation(5, txn, 20, 0, nil, client: 4)])
    let resolution = PendingWriteResolution(
      history: history, events: lostDeletesEvents, watchersSawEveryRevision: true)
    #expect(resolution.appliedAt == [.delete(key: "k4", rangeEnd: nil): 4])
  }
}
