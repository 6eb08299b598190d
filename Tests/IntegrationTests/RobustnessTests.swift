import EtcdHistoryChecks
import Foundation
import Testing

/// The robustness matrix: every injected fault × every workload, against a 3-member cluster whose members run in
/// network namespaces, each run's history checked for linearizability and each watcher for etcd's watch
/// guarantees. CI runs it small (`ROBUSTNESS_SECONDS` 4, 4 clients); `scripts/robustness.sh` runs it longer and
/// repeatedly.
@Suite(
  "Robustness: histories under network and process faults", .serialized,
  .enabled(if: NetworkNamespaceCluster.isAvailable, "needs root and ip netns"))
struct RobustnessTests {
  /// Every fault × every workload, or only the faults `ROBUSTNESS_FAULTS` names (comma-separated).
  static let scenarios: [RobustnessScenario] = {
    let named = ProcessInfo.processInfo.environment["ROBUSTNESS_FAULTS"].map { $0.split(separator: ",") }
    let faults = InjectedFault.allCases.filter { fault in named?.contains { $0 == fault.rawValue } ?? true }
    return faults.flatMap { fault in RobustnessWorkload.allCases.map { RobustnessScenario(fault: fault, workload: $0) } }
  }()

  @Test(arguments: scenarios)
  func theHistoryIsLinearizableAndEveryWatcherKeepsEtcdsGuarantees(_ scenario: RobustnessScenario) async throws {
    let report = try await scenario.run()
    print("robustness: \(report)")
    #expect(report.isLinearizable, "\(report)")
    for found in report.watchViolations {
      Issue.record("watcher \(found.watcher): \(found.violation) (\(report))")
    }
    // The run did something: clients completed operations and, but for the baseline, a fault was injected.
    let recording = report.recording
    #expect(recording.history.count - recording.pendingCount >= 20, "\(report)")
    #expect(recording.faultsInjected > 0 || scenario.fault == .none)
  }

  /// The checks above are live: the same pipeline, given a real recording with one read or one watch response
  /// changed, reports the violation and saves the recording.
  @Test func aTamperedRecordingFailsItsChecksAndIsSaved() async throws {
    let scenario = RobustnessScenario(fault: .none, workload: .keyValue)
    let recording = try await scenario.record(scale: .init(duration: .seconds(2), clients: 3))
    #expect(recording.check().passed, "\(recording.check())")

    // A read that answers a value nobody wrote.
    var staleRead = recording
    let read = try #require(
      staleRead.history.firstIndex {
        if case .range(_, let kvs)? = $0.output { return !kvs.isEmpty }
        return false
      })
    guard case .returned(.range(let revision, var kvs), let at) = staleRead.history[read].outcome else {
      Issue.record("not a read")
      return
    }
    kvs[0].value = "never written"
    staleRead.history[read].outcome = .returned(.range(revision: revision, kvs: kvs), at: at)
    let staleReport = staleRead.check()
    #expect(!staleReport.isLinearizable, "\(staleReport)")

    // A watcher that lost one response in the middle.
    var gap = recording
    let responses = gap.watchers[0].responses.indices.filter { !gap.watchers[0].responses[$0].events.isEmpty }
    let dropped = try #require(responses.dropFirst(responses.count / 2).first)
    let missing = gap.watchers[0].responses[dropped].events[0].kv.modRevision
    gap.watchers[0].responses.remove(at: dropped)
    let gapReport = gap.check()
    #expect(gapReport.isLinearizable)
    let violations = gapReport.watchViolations.filter { $0.watcher == 0 }.map(\.violation)
    #expect(
      violations.contains { if case .gap(let revisions) = $0 { revisions.contains(missing) } else { false } },
      "\(violations)")
    #expect(gapReport.watchViolations.allSatisfy { $0.watcher == 0 })

    // The saved recording holds every operation and the violation.
    let folder = try RobustnessArtifact.save(gapReport)
    defer { try? FileManager.default.removeItem(atPath: folder) }
    let history = try String(contentsOfFile: folder + "/history.txt", encoding: .utf8)
    #expect(history.split(separator: "\n").count == recording.history.count)
    let watchers = try String(contentsOfFile: folder + "/watchers.txt", encoding: .utf8)
    #expect(watchers.contains("violation in watcher 0: "))
    let loaded = try RobustnessArtifact.load(folder)
    #expect(loaded.history == gap.history && loaded.watchers == gap.watchers)
    #expect(loaded.check().watchViolations.count == gapReport.watchViolations.count)
  }

  /// Checks saved recordings again (`scripts/robustness.sh --recheck FOLDER...`): each folder in
  /// `ROBUSTNESS_RECHECK`, separated by colons.
  @Test(
    .enabled(if: ProcessInfo.processInfo.environment["ROBUSTNESS_RECHECK"] != nil, "ROBUSTNESS_RECHECK is not set"))
  func savedRecordingsPassTheirChecks() throws {
    let folders = ProcessInfo.processInfo.environment["ROBUSTNESS_RECHECK", default: ""].split(separator: ":")
    for folder in folders {
      let report = try RobustnessArtifact.load(String(folder)).check()
      print("robustness: \(report)")
      #expect(report.passed, "\(folder): \(report)")
    }
  }
}
