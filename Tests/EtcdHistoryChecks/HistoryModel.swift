/// A sequential specification: the object a history's operations are checked against.
package protocol HistoryModel: Sendable {
  /// The object's state; the checker remembers the states it has visited, so it is hashable.
  associatedtype State: Hashable & Sendable
  /// An operation's request.
  associatedtype Input: Hashable & Sendable
  /// An operation's answer.
  associatedtype Output: Hashable & Sendable

  /// The state before the history's first operation.
  var initialState: State { get }

  /// The states `input` can lead to from `state` when it answers `output` (nil: the operation is
  /// pending, its answer unknown). Empty: not possible.
  func step(_ state: State, _ input: Input, _ output: Output?) -> [State]

  /// Whether `input` never changes the state. The checker leaves pending operations with such
  /// inputs out: with no answer and no effect they constrain nothing.
  func isReadOnly(_ input: Input) -> Bool

  /// Whether no state reachable from `state`, by any operations, lets `input` answer `output`. The
  /// checker abandons a search state as soon as a returned operation it has still to linearize
  /// cannot be explained any more (in etcd: the store has passed the response's revision).
  func cannotAnswer(_ input: Input, _ output: Output, from state: State) -> Bool

  /// The model to check `history` with. A model may learn facts about the whole history here that
  /// prune the search (``EtcdKVModel``: which revisions returned writes created, and the highest
  /// revision any response shows).
  func prepared(for history: [HistoryOperation<Input, Output>]) -> Self
}

extension HistoryModel {
  /// No input is known to be read-only: every operation is checked.
  package func isReadOnly(_ input: Input) -> Bool { false }

  /// Any answer may still come: the checker finds out only by trying.
  package func cannotAnswer(_ input: Input, _ output: Output, from state: State) -> Bool { false }

  /// The model as it is: nothing learnt from the history.
  package func prepared(for history: [HistoryOperation<Input, Output>]) -> Self { self }
}
