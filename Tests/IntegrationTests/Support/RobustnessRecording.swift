import EtcdHistoryChecks

/// What one robustness run recorded: every call's history, every watcher's responses, and the faults.
struct RobustnessRecording: Sendable, Codable {
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

  /// Checks the history for linearizability against etcd's KV model, its pending writes resolved by what
  /// the watchers saw, then each watcher against the linearized history, caught up through the final
  /// read's revision.
  func check() -> RobustnessReport {
    var model = EtcdKVModel(initialRevision: initialRevision)
    let events = watchers.flatMap { $0.responses.flatMap(\.events) }
    // A write whose answer was lost but which a watcher saw happened, at the revision it saw; with a
    // watcher from the start caught up through the final read, one nobody saw did not.
    model.highestObservedRevision = events.map(\.kv.modRevision).max()
    let caughtUp = watchers.contains { watcher in
      watcher.startRevision == initialRevision + 1
        && (watcher.responses.last { !$0.events.isEmpty }?.events.last?.kv.modRevision ?? 0) >= finalRevision
    }
    model.pendingWrites = PendingWriteResolution(
      history: history, events: events, watchersSawEveryRevision: caughtUp)
    let checked = model.pendingWrites.removingUnappliedWrites(from: history)
    let linearizability = LinearizabilityChecker(model: model).check(checked)
    var watchViolations: [RobustnessReport.WatchViolation] = []
    if case .linearizable(let order) = linearizability {
      let log = RevisionLog.fromLinearization(order, of: checked, model: model)
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
