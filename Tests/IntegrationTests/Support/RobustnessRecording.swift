import EtcdHistoryChecks

/// What one robustness run recorded: every call's history, every watcher's responses, and the faults.
struct RobustnessRecording: Sendable {
  let scenario: RobustnessScenario
  let seed: UInt64
  /// The store's revision before the first call (no key under the scenario's prefix existed then).
  let initialRevision: Int64
  var history: [EtcdHistoryOperation]
  var watchers: [WatcherRecord]
  let faultsInjected: Int
  /// How many calls failed, by error code.
  let failures: [String: Int]
  /// The revision of the final read, made once every fault was healed.
  let finalRevision: Int64

  /// The operations whose outcome is unknown.
  var pendingCount: Int { history.filter { $0.outcome == .pending }.count }

  /// Checks the history for linearizability against etcd's KV model, then each watcher against the
  /// linearized history, caught up through the final read's revision.
  func check() -> RobustnessReport {
    var model = EtcdKVModel(initialRevision: initialRevision)
    // A write whose answer was lost but which a watcher saw happened: let the checker apply it.
    model.highestObservedRevision = watchers.flatMap { $0.responses.flatMap(\.events) }.map(\.kv.modRevision).max()
    let linearizability = LinearizabilityChecker(model: model).check(history)
    var watchViolations: [RobustnessReport.WatchViolation] = []
    if case .linearizable(let order) = linearizability {
      let log = RevisionLog.fromLinearization(order, of: history, model: model)
      let checker = WatchGuaranteeChecker(log: log)
      for (index, watcher) in watchers.enumerated() {
        for violation in checker.check(watcher, caughtUpThrough: finalRevision) {
          watchViolations.append(RobustnessReport.WatchViolation(watcher: index, violation: violation))
        }
      }
    }
    return RobustnessReport(recording: self, linearizability: linearizability, watchViolations: watchViolations)
  }
}
