/// What one request does to an ``EtcdKVState``: the state after it, etcd's response, and the watch
/// events it creates.
package struct EtcdKVExecution: Hashable, Sendable {
  /// The state after the request.
  package var state: EtcdKVState
  /// The response etcd gives. A transaction's nested responses carry the transaction's revision.
  package var response: KVResponse
  /// The events at the new revision, in the order the request made them (empty when the revision
  /// stays).
  package var events: [WatchEventRecord]
}

extension EtcdKVState {
  /// Runs `request` on this state with etcd's semantics (etcd's mvcc store and apply code).
  ///
  /// A put creates a revision; a delete creates one only when it deletes a key; a range changes
  /// nothing; a transaction runs one branch in order within one new revision, created only when an
  /// operation in it changes something, and its nested ranges see its earlier writes.
  package func executing(_ request: KVRequest) -> EtcdKVExecution {
    var store = self
    var events: [WatchEventRecord] = []
    let newRevision = revision + 1
    let nested = store.apply(request, at: newRevision, events: &events)
    let finalRevision = events.isEmpty ? revision : newRevision
    store.revision = finalRevision
    return EtcdKVExecution(
      state: store, response: nested.withRevision(finalRevision), events: events)
  }

  /// Applies `request` to the keys as part of revision `newRevision`, appending its events.
  private mutating func apply(
    _ request: KVRequest, at newRevision: Int64, events: inout [WatchEventRecord]
  ) -> KVResponse {
    switch request {
    case .put(let key, let value):
      let previous = keys[key]
      let record = KeyValueRecord(
        key: key, value: value, createRevision: previous?.createRevision ?? newRevision,
        modRevision: newRevision, version: (previous?.version ?? 0) + 1)
      keys[key] = record
      events.append(WatchEventRecord(kind: .put, kv: record))
      return .put(revision: newRevision)
    case .range(let key, let rangeEnd):
      return .range(revision: revision, kvs: liveKeys(in: KeyRange(key: key, rangeEnd: rangeEnd)))
    case .delete(let key, let rangeEnd):
      let deleted = liveKeys(in: KeyRange(key: key, rangeEnd: rangeEnd))
      for record in deleted {
        keys[record.key] = nil
        events.append(WatchEventRecord.deletion(of: record.key, at: newRevision))
      }
      return .delete(revision: revision, deleted: Int64(deleted.count))
    case .txn(let txn):
      let succeeded = txn.compares.allSatisfy { $0.holds(on: keys[$0.key]) }
      var results: [KVResponse] = []
      for operation in succeeded ? txn.success : txn.failure {
        results.append(apply(operation, at: newRevision, events: &events))
      }
      return .txn(revision: revision, succeeded: succeeded, results: results)
    }
  }
}

extension KVResponse {
  /// This response with `revision` as its header revision, and its nested responses' too.
  fileprivate func withRevision(_ revision: Int64) -> KVResponse {
    switch self {
    case .put: .put(revision: revision)
    case .range(_, let kvs): .range(revision: revision, kvs: kvs)
    case .delete(_, let deleted): .delete(revision: revision, deleted: deleted)
    case .txn(_, let succeeded, let results):
      .txn(
        revision: revision, succeeded: succeeded, results: results.map { $0.withRevision(revision) }
      )
    }
  }
}
