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
}
