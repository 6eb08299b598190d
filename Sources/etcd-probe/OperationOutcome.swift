import EtcdClient

/// Why one probe operation failed, as the probe records and logs it.
struct OperationFailure: Sendable, Equatable, CustomStringConvertible {
  /// The gRPC code in Go's spelling (`Unavailable`, `DeadlineExceeded`), or `OK` when the RPC succeeded but
  /// its answer was wrong: the `code` label.
  var code: String
  /// etcd's typed error (`no_leader`, `deadline_exceeded`) or the failed answer check (`stale_read`): the
  /// `reason` label.
  var reason: String
  /// The human-readable detail, for logs and the status page; never a label.
  var message: String

  init(code: String, reason: String, message: String) {
    self.code = code
    self.reason = reason
    self.message = message
  }

  /// A failed call.
  init(_ error: EtcdError) {
    self.init(code: error.status.code.goName, reason: error.code.name, message: error.message)
  }

  /// A failed call, from any error: an `EtcdError` as above, anything else as `Unknown`/`rpc_failed`.
  init(_ error: any Error) {
    if let error = error as? EtcdError {
      self.init(error)
    } else {
      self.init(code: "Unknown", reason: EtcdError.Code.rpcFailed.name, message: "\(error)")
    }
  }

  /// A call that returned OK with a wrong answer.
  init(_ failure: AnswerFailure, _ message: String) {
    self.init(code: "OK", reason: failure.rawValue, message: message)
  }

  var description: String { "\(code)/\(reason): \(message)" }
}

/// Follows whether each operation of one target succeeds, so that a target going from succeeding to failing,
/// and back, is logged once per change instead of once per failed call. Pure.
struct OperationHealth: Sendable, Equatable {
  /// A change worth one log line.
  enum Transition: Sendable, Equatable {
    /// The operation failed after succeeding (or on its first attempt).
    case startedFailing(OperationFailure)
    /// The operation succeeded after `failures` failed attempts in a row.
    case recovered(failures: Int)
    /// The operation still fails, now for another reason (code or reason label changed).
    case failingDifferently(OperationFailure)
  }

  /// An operation's current failure and how many attempts in a row failed.
  private struct Failing: Sendable, Equatable {
    var failure: OperationFailure
    var count: Int
  }

  private var failing: [ProbeMetrics.Operation: Failing] = [:]

  /// Records one outcome; returns the transition it makes, if any.
  mutating func record(_ op: ProbeMetrics.Operation, failure: OperationFailure?) -> Transition? {
    switch (failing[op], failure) {
    case (nil, nil):
      return nil
    case (nil, let failure?):
      failing[op] = Failing(failure: failure, count: 1)
      return .startedFailing(failure)
    case (let previous?, nil):
      failing[op] = nil
      return .recovered(failures: previous.count)
    case (let previous?, let failure?):
      failing[op] = Failing(failure: failure, count: previous.count + 1)
      let same = previous.failure.code == failure.code && previous.failure.reason == failure.reason
      return same ? nil : .failingDifferently(failure)
    }
  }

  /// The operations failing now.
  var failingOperations: Set<ProbeMetrics.Operation> { Set(failing.keys) }
}
