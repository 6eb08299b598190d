/// What watchers saw of a history's pending writes, for histories whose puts each write a value no
/// other put writes (as a robustness workload's do): a watch event `PUT key=value` at revision r
/// names the one write that made it.
///
/// Without it, the checker must try every pending write at every free revision after its call; a
/// request held in a cut link and applied seconds after its client gave up makes that search
/// exponential in the pending writes outstanding meanwhile. With it, each pending write that
/// watchers saw is applied at its revision and nowhere else, and, when the watchers saw every
/// revision, one whose every writing branch puts a value nobody saw is not applied at all. A pending
/// delete of one key is placed the same way when a watcher saw a DELETE of that key that no other
/// write can have made.
package struct PendingWriteResolution: Sendable {
  /// Pending writes a watcher saw, each with the revision it created.
  package var appliedAt: [KVRequest: Int64] = [:]
  /// Pending writes known not to have been applied.
  package var notApplied: Set<KVRequest> = []

  /// Nothing known: every pending write may or may not have been applied.
  package init() {}

  /// Resolves the pending writes of `history` from `events`, every event the watchers delivered.
  ///
  /// - Parameters:
  ///   - watchersSawEveryRevision: Whether `events` hold every revision of the watched keys through
  ///     the history's end (the watchers caught up, and the watch checks hold them to it); only then
  ///     is a write nobody saw known not to have happened.
  package init(
    history: [EtcdHistoryOperation], events: [WatchEventRecord], watchersSawEveryRevision: Bool
  ) {
    var revisionOfPut: [KeyValuePair: Int64] = [:]
    for event in events where event.kind == .put {
      revisionOfPut[KeyValuePair(key: event.kv.key, value: event.kv.value)] = event.kv.modRevision
    }
    for operation in history where operation.outcome == .pending && operation.input.canWrite {
      let branches = Self.writingBranches(of: operation.input)
      let seen = Set(branches.flatMap { $0 }.compactMap { revisionOfPut[$0] })
      if let revision = seen.first, seen.count == 1 {
        appliedAt[operation.input] = revision
      } else if seen.isEmpty, watchersSawEveryRevision, branches.allSatisfy({ !$0.isEmpty }) {
        notApplied.insert(operation.input)
      }
    }
    resolveDeletes(history: history, events: events)
  }

  /// A DELETE event names a key and a revision, no value. A revision a returned write created is that
  /// write's; a DELETE event at any other revision was made by a pending write that can delete its key.
  /// When the watchers saw one such event of a key, and the one pending write that can delete the key is a
  /// delete of that key alone, that delete is applied at the event's revision.
  private mutating func resolveDeletes(history: [EtcdHistoryOperation], events: [WatchEventRecord]) {
    let returnedRevisions = Set(history.compactMap(\.output).filter(\.createsRevision).map(\.revision))
    var unclaimed: [String: Set<Int64>] = [:]
    for event in events where event.kind == .delete && !returnedRevisions.contains(event.kv.modRevision) {
      unclaimed[event.kv.key, default: []].insert(event.kv.modRevision)
    }
    let pendingWrites = history.filter { $0.outcome == .pending && $0.input.canWrite }.map(\.input)
    for (key, revisions) in unclaimed where revisions.count == 1 {
      let deleters = pendingWrites.filter { Self.mayDelete($0, key: key) }
      guard deleters.count == 1, let revision = revisions.first, deleters[0] == .delete(key: key, rangeEnd: nil),
        appliedAt[deleters[0]] == nil
      else { continue }
      appliedAt[deleters[0]] = revision
    }
  }

  /// Whether `request` can delete `key`: a delete whose range holds it, or a transaction with one in either
  /// branch.
  private static func mayDelete(_ request: KVRequest, key: String) -> Bool {
    switch request {
    case .delete(let start, let rangeEnd): KeyRange(key: start, rangeEnd: rangeEnd).contains(key)
    case .put, .range: false
    case .txn(let txn): (txn.success + txn.failure).contains { mayDelete($0, key: key) }
    }
  }

  /// `history` without the pending writes known not to have been applied: they leave no trace, and
  /// each one the search could place anywhere doubles what it must try before it refutes a history.
  package func removingUnappliedWrites(from history: [EtcdHistoryOperation]) -> [EtcdHistoryOperation] {
    history.filter { $0.outcome != .pending || !notApplied.contains($0.input) }
  }

  /// A put's key and value.
  private struct KeyValuePair: Hashable {
    var key: String
    var value: String
  }

  /// The puts of each branch of `request` that can write: one branch for a put or delete, the
  /// writing branches of a transaction. A branch that writes without putting has no puts.
  private static func writingBranches(of request: KVRequest) -> [[KeyValuePair]] {
    switch request {
    case .put(let key, let value):
      return [[KeyValuePair(key: key, value: value)]]
    case .delete:
      return [[]]
    case .range:
      return []
    case .txn(let txn):
      return [txn.success, txn.failure].filter { $0.contains(where: \.canWrite) }.map { branch in
        branch.flatMap { writingBranches(of: $0).flatMap { $0 } }
      }
    }
  }
}
