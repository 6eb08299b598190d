/// One operation of a history: who called what when, and how it ended.
package struct HistoryOperation<Input: Hashable & Sendable, Output: Hashable & Sendable>: Hashable,
  Sendable
{
  /// How an operation ended.
  package enum Outcome: Hashable, Sendable {
    /// The operation answered `Output` at time `at`.
    case returned(Output, at: UInt64)
    /// No answer (timed out, connection lost): the operation may or may not have taken effect, at
    /// any time after `call`.
    case pending
  }

  /// The operation's id, unique within the history; results and reports name operations by it.
  package var id: Int
  /// The client that issued it.
  package var client: Int
  /// The request.
  package var input: Input
  /// When it was invoked (any monotonic clock shared by the history).
  package var call: UInt64
  /// How it ended.
  package var outcome: Outcome

  /// Creates an operation.
  package init(id: Int, client: Int, input: Input, call: UInt64, outcome: Outcome) {
    self.id = id
    self.client = client
    self.input = input
    self.call = call
    self.outcome = outcome
  }

  /// The answer, nil when pending.
  package var output: Output? {
    if case .returned(let output, _) = outcome { return output }
    return nil
  }

  /// When it returned; `UInt64.max` (never) when pending.
  package var returnTime: UInt64 {
    if case .returned(_, let at) = outcome { return at }
    return .max
  }
}

/// An operation of an etcd KV history.
package typealias EtcdHistoryOperation = HistoryOperation<KVRequest, KVResponse>

/// Histories are saved and read back as JSON (a failed run's recording).
extension HistoryOperation: Codable where Input: Codable, Output: Codable {}

extension HistoryOperation.Outcome: Codable where Input: Codable, Output: Codable {}
