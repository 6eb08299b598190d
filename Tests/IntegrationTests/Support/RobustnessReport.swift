import EtcdHistoryChecks

/// What the checks found in a robustness recording.
struct RobustnessReport: Sendable, CustomStringConvertible {
  /// A watch guarantee one watcher broke.
  struct WatchViolation: Sendable {
    /// The watcher's index in the recording.
    let watcher: Int
    let violation: WatchGuaranteeViolation
  }

  let recording: RobustnessRecording
  let linearizability: LinearizabilityResult
  let watchViolations: [WatchViolation]
  /// Where the recording was saved, when a check failed.
  var artifact: String?

  var isLinearizable: Bool {
    if case .linearizable = linearizability { return true }
    return false
  }

  /// Whether the history is linearizable and every watcher kept the guarantees.
  var passed: Bool { isLinearizable && watchViolations.isEmpty }

  var description: String {
    let events = recording.watchers.reduce(0) { $0 + $1.responses.reduce(0) { $0 + $1.events.count } }
    return "\(recording.scenario) (seed \(recording.seed)): \(recording.history.count) operations "
      + "(\(recording.pendingCount) pending: \(recording.failures)), \(recording.faultsInjected) faults, "
      + "revisions up to \(recording.finalRevision), \(recording.watchers.count) watchers with \(events) events; "
      + "\(Self.describe(linearizability)); \(watchViolations.count) watch violations"
      + (artifact.map { "; recording saved in \($0)" } ?? "")
  }

  private static func describe(_ result: LinearizabilityResult) -> String {
    switch result {
    case .linearizable: "linearizable"
    case .violation(let violation): "NOT linearizable: \(violation)"
    case .inconclusive(let steps): "inconclusive after \(steps) steps"
    }
  }
}
