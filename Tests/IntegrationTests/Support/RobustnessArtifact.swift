import EtcdHistoryChecks
import Foundation

/// Saves a robustness run whose checks failed, so it can be read and checked again: the report, every
/// operation of the history (one line each, in invocation order), each watcher's responses, and the whole
/// recording as JSON, which ``load(_:)`` reads back (`scripts/robustness.sh --recheck FOLDER` checks it
/// again).
///
/// The directory is `ROBUSTNESS_ARTIFACTS` when set, else `robustness-artifacts/` under the system's
/// temporary directory; each run gets a folder named after its scenario, seed and time.
enum RobustnessArtifact {
  /// The recording's file in a saved folder.
  static let recordingFile = "recording.json"

  /// The recording saved in `folder`.
  static func load(_ folder: String) throws -> RobustnessRecording {
    let data = try Data(contentsOf: URL(fileURLWithPath: folder).appendingPathComponent(recordingFile))
    return try JSONDecoder().decode(RobustnessRecording.self, from: data)
  }

  /// Writes the run's files and returns their folder.
  static func save(_ report: RobustnessReport) throws -> String {
    let root =
      ProcessInfo.processInfo.environment["ROBUSTNESS_ARTIFACTS"]
      ?? FileManager.default.temporaryDirectory.appendingPathComponent("robustness-artifacts").path
    let recording = report.recording
    let name = "\(recording.scenario.fault)-\(recording.scenario.workload)-\(recording.seed)-\(Int(Date().timeIntervalSince1970))"
    let folder = URL(fileURLWithPath: root).appendingPathComponent(name)
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)

    var history = ""
    for operation in recording.history {
      let outcome: String
      switch operation.outcome {
      case .returned(let response, let at): outcome = "returned \(at) \(response)"
      case .pending: outcome = "pending"
      }
      history += "\(operation.id) client=\(operation.client) call=\(operation.call) \(operation.input) \(outcome)\n"
    }
    try history.write(to: folder.appendingPathComponent("history.txt"), atomically: true, encoding: .utf8)

    var watches = ""
    for (index, watcher) in recording.watchers.enumerated() {
      watches += "watcher \(index) from \(watcher.startRevision), ending \(watcher.ending)\n"
      for response in watcher.responses { watches += "  \(response)\n" }
    }
    for found in report.watchViolations {
      watches += "violation in watcher \(found.watcher): \(found.violation)\n"
    }
    try watches.write(to: folder.appendingPathComponent("watchers.txt"), atomically: true, encoding: .utf8)
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    try encoder.encode(recording).write(to: folder.appendingPathComponent(recordingFile))
    try report.description.write(
      to: folder.appendingPathComponent("report.txt"), atomically: true, encoding: .utf8)
    return folder.path
  }
}
