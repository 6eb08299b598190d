import EtcdHistoryChecks

/// A register holding one integer, 0 at first: writes set it, reads return it. The classic object
/// of the linearizability papers' examples.
struct RegisterModel: HistoryModel {
  /// A register operation.
  enum Input: Hashable, Sendable {
    case write(Int)
    case read
  }

  /// A register answer.
  enum Output: Hashable, Sendable {
    case written
    case value(Int)
  }

  var initialState: Int { 0 }

  func step(_ state: Int, _ input: Input, _ output: Output?) -> [Int] {
    switch (input, output) {
    case (.write(let value), nil): value == state ? [state] : [value, state]
    case (.write(let value), .written?): [value]
    case (.read, nil): [state]
    case (.read, .value(let value)?): value == state ? [state] : []
    default: []
    }
  }

  func isReadOnly(_ input: Input) -> Bool { input == .read }
}

/// An operation of a register history.
typealias RegisterOperation = HistoryOperation<RegisterModel.Input, RegisterModel.Output>

/// `write(value)` by `client`, called at `call`, answered at `returned` (nil: pending).
func write(_ id: Int, _ value: Int, _ call: UInt64, _ returned: UInt64?, client: Int = 0)
  -> RegisterOperation
{
  RegisterOperation(
    id: id, client: client, input: .write(value), call: call,
    outcome: returned.map { .returned(.written, at: $0) } ?? .pending)
}

/// `read()` answering `value` (nil: pending), called at `call`, answered at `returned`.
func read(_ id: Int, _ value: Int?, _ call: UInt64, _ returned: UInt64, client: Int = 0)
  -> RegisterOperation
{
  RegisterOperation(
    id: id, client: client, input: .read, call: call,
    outcome: value.map { .returned(.value($0), at: returned) } ?? .pending)
}

extension LinearizabilityResult {
  /// The order of a linearizable result, nil otherwise.
  var order: [Int]? {
    if case .linearizable(let order) = self { return order }
    return nil
  }

  /// The report of a violation, nil otherwise.
  var violation: LinearizabilityViolation? {
    if case .violation(let violation) = self { return violation }
    return nil
  }
}
