/// etcd's KV as a sequential specification: the revision and the live keys (value, create revision,
/// mod revision, version), changed by puts, deletes and transactions as
/// ``EtcdKVState/executing(_:)`` describes.
///
/// A returned operation is possible when etcd's response to it from the state equals the recorded
/// one (``KVResponse/agrees(with:)``). A pending write leads to two states, applied or not; a
/// pending read to the same state.
///
/// Prepared for a history (``prepared(for:)``), a pending write is applied only where the revision
/// it creates is free and seen: not created by a returned write (revisions are created once), and
/// not above every response's revision (a write no response ever sees is one that never happened,
/// as far as the history can tell).
package struct EtcdKVModel: HistoryModel {
  /// The store's revision before the history.
  package var initialRevision: Int64
  /// The live keys before the history.
  package var initialKeys: [KeyValueRecord]
  /// The revisions that returned writes created; a pending write cannot create one of them.
  package var revisionsCreatedByReturnedWrites: Set<Int64> = []
  /// The highest revision a response shows, nil when unknown; a pending write creating a later one
  /// is left unapplied. A caller that also recorded watchers sets it to the highest revision they
  /// saw before checking, so that pending writes only watchers saw are applied:
  /// ``prepared(for:)`` keeps the higher of it and the responses'.
  package var highestObservedRevision: Int64?
  /// What watchers saw of the pending writes: those they saw are applied at their revision only
  /// (check the history ``PendingWriteResolution/removingUnappliedWrites(from:)`` returns, so that
  /// those known not to have happened are out of it). Default: nothing known.
  package var pendingWrites = PendingWriteResolution()

  /// Creates the model of a store at `initialRevision` holding `initialKeys`.
  package init(initialRevision: Int64, initialKeys: [KeyValueRecord] = []) {
    self.initialRevision = initialRevision
    self.initialKeys = initialKeys
  }

  /// The store before the history.
  package var initialState: EtcdKVState {
    EtcdKVState(revision: initialRevision, keys: initialKeys)
  }

  /// The states `input` leads to from `state` when etcd answers `output` (nil: pending).
  package func step(_ state: EtcdKVState, _ input: KVRequest, _ output: KVResponse?)
    -> [EtcdKVState]
  {
    // A response's revision tells the only store revision it can come from: rule the rest out
    // before running the request.
    if let output,
      state.revision != (output.createsRevision ? output.revision - 1 : output.revision)
    {
      return []
    }
    let execution = state.executing(input)
    guard let output else {
      let created = execution.state.revision
      if let revision = pendingWrites.appliedAt[input] {
        return created == revision && state.revision == revision - 1 ? [execution.state] : []
      }
      if execution.state == state || revisionsCreatedByReturnedWrites.contains(created)
        || created > highestObservedRevision ?? .max
      {
        return [state]
      }
      return [execution.state, state]
    }
    return execution.response.agrees(with: output) ? [execution.state] : []
  }

  /// Revisions never go back: a response that created revision r needs a store below r, any other
  /// one a store at r.
  package func cannotAnswer(_ input: KVRequest, _ output: KVResponse, from state: EtcdKVState)
    -> Bool
  {
    output.createsRevision ? state.revision >= output.revision : state.revision > output.revision
  }

  /// This model with the revisions `history`'s returned writes created and the highest revision its
  /// responses show (or ``highestObservedRevision``, when set higher).
  package func prepared(for history: [EtcdHistoryOperation]) -> EtcdKVModel {
    let responses = history.compactMap(\.output)
    var prepared = self
    prepared.revisionsCreatedByReturnedWrites = Set(
      responses.filter(\.createsRevision).map(\.revision))
    let seen = responses.map(\.revision).max() ?? initialRevision
    prepared.highestObservedRevision = max(seen, highestObservedRevision ?? seen)
    return prepared
  }

  /// Ranges, and transactions of ranges only, never change the store.
  package func isReadOnly(_ input: KVRequest) -> Bool {
    !input.canWrite
  }
}
