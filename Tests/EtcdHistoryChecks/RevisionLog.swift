/// What happened at each revision of a store: the events each revision made, in the order the
/// request made them. Derived from a linearization (or from a reference watcher); the truth that
/// ``WatchGuaranteeChecker`` compares watchers with.
package struct RevisionLog: Sendable {
  /// The events by revision.
  package var events: [Int64: [WatchEventRecord]]
  /// The last revision the log describes.
  package var lastRevision: Int64
  /// The first revision the log describes; revisions before it are unknown, and watch events at
  /// them are not checked.
  package var firstRevision: Int64

  /// Creates a log of `events` describing revisions `firstRevision...lastRevision`; a revision in
  /// that span with no entry has no events.
  package init(
    events: [Int64: [WatchEventRecord]], through lastRevision: Int64, from firstRevision: Int64 = 1
  ) {
    self.events = events
    self.lastRevision = lastRevision
    self.firstRevision = firstRevision
  }

  /// The log of `history` executed in `order` (operation ids, as
  /// ``LinearizabilityResult/linearizable(order:)`` gives them) from `model`'s initial state.
  ///
  /// Ids not in `history` are skipped; a pending operation in `order` counts as applied.
  package static func fromLinearization(
    _ order: [Int], of history: [EtcdHistoryOperation], model: EtcdKVModel
  ) -> RevisionLog {
    let operations = Dictionary(
      history.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
    var state = model.initialState
    var events: [Int64: [WatchEventRecord]] = [:]
    for id in order {
      guard let operation = operations[id] else { continue }
      let execution = state.executing(operation.input)
      if !execution.events.isEmpty {
        events[execution.state.revision] = execution.events
      }
      state = execution.state
    }
    return RevisionLog(events: events, through: state.revision, from: model.initialRevision + 1)
  }

  /// The events of `revision` on keys in `range`, in order.
  package func events(at revision: Int64, in range: KeyRange) -> [WatchEventRecord] {
    (events[revision] ?? []).filter { range.contains($0.kv.key) }
  }
}
