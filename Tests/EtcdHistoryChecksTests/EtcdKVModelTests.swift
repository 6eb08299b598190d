import EtcdHistoryChecks
import Testing

/// etcd's KV semantics, one model step at a time.
@Suite struct EtcdKVModelTests {
  let model = EtcdKVModel(
    initialRevision: 5, initialKeys: [record("a", "1", create: 2, mod: 4, version: 2)])

  @Test(arguments: [
    // A new key: create = mod = the new revision, version 1.
    (KVRequest.put(key: "b", value: "x"), record("b", "x", create: 6, mod: 6, version: 1)),
    // An existing key keeps its create revision; its version grows.
    (KVRequest.put(key: "a", value: "y"), record("a", "y", create: 2, mod: 6, version: 3)),
  ])
  func putCreatesARevision(_ request: KVRequest, _ expected: KeyValueRecord) {
    let execution = model.initialState.executing(request)
    #expect(execution.response == .put(revision: 6))
    #expect(execution.state.revision == 6)
    #expect(execution.state.keys[expected.key] == expected)
    #expect(execution.events == [putEvent(expected)])
  }

  @Test func putAnsweringAnotherRevisionIsImpossible() {
    #expect(model.step(model.initialState, .put(key: "a", value: "y"), .put(revision: 7)).isEmpty)
    #expect(model.step(model.initialState, .put(key: "a", value: "y"), .put(revision: 5)).isEmpty)
  }

  @Test func deleteOfNothingKeepsTheRevision() {
    let request = KVRequest.delete(key: "zzz", rangeEnd: nil)
    #expect(
      model.step(model.initialState, request, .delete(revision: 5, deleted: 0)) == [
        model.initialState
      ])
    #expect(model.step(model.initialState, request, .delete(revision: 6, deleted: 0)).isEmpty)
  }

  @Test func deleteOfARangeCountsAndCreatesOneRevision() {
    var state = model.initialState
    state = state.executing(.put(key: "b", value: "2")).state
    state = state.executing(.put(key: "c", value: "3")).state
    let execution = state.executing(.delete(key: "a", rangeEnd: "c"))
    #expect(execution.response == .delete(revision: 8, deleted: 2))
    #expect(execution.state.keys.keys.sorted() == ["c"])
    #expect(execution.events == [.deletion(of: "a", at: 8), .deletion(of: "b", at: 8)])
  }

  @Test(arguments: [
    (KeyRange(key: "a", rangeEnd: nil), ["a"]),
    (KeyRange(key: "a", rangeEnd: "b"), ["a", "ab"]),
    (KeyRange(key: "ab", rangeEnd: "\0"), ["ab", "b", "é"]),
    (KeyRange(key: "b", rangeEnd: "a"), []),
    (KeyRange(key: "\0", rangeEnd: "\0"), ["a", "ab", "b", "é"]),
  ])
  func rangeReturnsLiveKeysInByteOrder(_ range: KeyRange, _ keys: [String]) {
    var state = EtcdKVState(revision: 1, keys: [])
    for key in ["é", "b", "ab", "a"] { state = state.executing(.put(key: key, value: key)).state }
    let response = state.executing(.range(key: range.key, rangeEnd: range.rangeEnd)).response
    guard case .range(let revision, let kvs) = response else {
      Issue.record("not a range response: \(response)")
      return
    }
    #expect(revision == 5)
    #expect(kvs.map(\.key) == keys)
  }

  @Test(arguments: [
    // A value compare on a missing key is false whatever the relation.
    (KVCompare(key: "missing", target: .value("x"), result: .notEqual), false),
    (KVCompare(key: "missing", target: .value(""), result: .equal), false),
    // Other targets compare a missing key's field as 0.
    (KVCompare(key: "missing", target: .version(0), result: .equal), true),
    (KVCompare(key: "missing", target: .createRevision(1), result: .less), true),
    (KVCompare(key: "missing", target: .modRevision(0), result: .greater), false),
    (KVCompare(key: "a", target: .value("1"), result: .equal), true),
    (KVCompare(key: "a", target: .value("10"), result: .less), true),
    (KVCompare(key: "a", target: .version(2), result: .equal), true),
    (KVCompare(key: "a", target: .createRevision(2), result: .notEqual), false),
    (KVCompare(key: "a", target: .modRevision(3), result: .greater), true),
  ])
  func txnCompares(_ compare: KVCompare, _ holds: Bool) {
    let txn = KVTxn(
      compares: [compare], success: [.range(key: "a", rangeEnd: nil)], failure: [])
    let response = model.initialState.executing(.txn(txn)).response
    guard case .txn(let revision, let succeeded, let results) = response else {
      Issue.record("not a txn response: \(response)")
      return
    }
    #expect(revision == 5)
    #expect(succeeded == holds)
    #expect(results.count == (holds ? 1 : 0))
  }

  @Test func txnWithPutAndDeleteIsOneRevisionAndItsRangeSeesItsWrites() {
    let txn = KVTxn(
      compares: [],
      success: [
        .put(key: "b", value: "x"), .delete(key: "a", rangeEnd: nil),
        .range(key: "a", rangeEnd: "c"),
      ],
      failure: [])
    let execution = model.initialState.executing(.txn(txn))
    let b = record("b", "x", create: 6, mod: 6, version: 1)
    #expect(
      execution.response
        == .txn(
          revision: 6, succeeded: true,
          results: [
            .put(revision: 6), .delete(revision: 6, deleted: 1), .range(revision: 6, kvs: [b]),
          ]))
    #expect(execution.state.revision == 6)
    #expect(execution.events == [putEvent(b), .deletion(of: "a", at: 6)])
  }

  @Test func txnOfReadsAndEmptyDeletesKeepsTheRevision() {
    let txn = KVTxn(
      compares: [], success: [.range(key: "a", rangeEnd: nil), .delete(key: "zzz", rangeEnd: nil)],
      failure: [])
    let execution = model.initialState.executing(.txn(txn))
    #expect(execution.response.revision == 5)
    #expect(execution.state == model.initialState)
    #expect(model.isReadOnly(.txn(txn)) == false)
    #expect(
      model.isReadOnly(
        .txn(KVTxn(compares: [], success: [.range(key: "a", rangeEnd: nil)], failure: []))))
  }

  @Test func txnResponsesAgreeWhateverTheirNestedRevisions() {
    let txn = KVTxn(compares: [], success: [.put(key: "a", value: "2")], failure: [])
    let state = model.initialState
    #expect(
      model.step(state, .txn(txn), .txn(revision: 6, succeeded: true, results: [.put(revision: 0)]))
        .count == 1)
    #expect(
      model.step(
        state, .txn(txn), .txn(revision: 6, succeeded: false, results: [.put(revision: 6)])
      ).isEmpty)
    #expect(model.step(state, .txn(txn), .txn(revision: 6, succeeded: true, results: [])).isEmpty)
  }

  @Test func preparedModelAppliesPendingWritesOnlyAtFreeSeenRevisions() {
    let history = [
      operation(1, .put(key: "b", value: "1"), 0, 10, .put(revision: 7)),
      operation(2, .range(key: "b", rangeEnd: nil), 20, 30, .range(revision: 8, kvs: [])),
    ]
    let prepared = model.prepared(for: history)
    #expect(prepared.revisionsCreatedByReturnedWrites == [7])
    #expect(prepared.highestObservedRevision == 8)
    let put = KVRequest.put(key: "a", value: "2")
    let at5 = model.initialState
    let at6 = at5.executing(.put(key: "c", value: "1")).state
    let at7 = at6.executing(.put(key: "c", value: "2")).state
    // Revision 6 is free, 7 belongs to operation 1, 9 is above every response.
    #expect(prepared.step(at5, put, nil) == [at5.executing(put).state, at5])
    #expect(prepared.step(at6, put, nil) == [at6])
    #expect(prepared.step(at7, put, nil) == [at7.executing(put).state, at7])
    #expect(prepared.step(at7.executing(put).state, put, nil) == [at7.executing(put).state])
  }

  @Test func pendingWriteBranchesAndPendingReadDoesNot() {
    let state = model.initialState
    let applied = state.executing(.put(key: "a", value: "2")).state
    #expect(model.step(state, .put(key: "a", value: "2"), nil) == [applied, state])
    #expect(model.step(state, .range(key: "a", rangeEnd: nil), nil) == [state])
    #expect(model.step(state, .delete(key: "zzz", rangeEnd: nil), nil) == [state])
  }
}
