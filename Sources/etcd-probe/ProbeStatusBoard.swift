import EtcdMetrics
import Foundation
import Synchronization

/// One finished round: every target's operations, and the consistency check if one ran.
struct RoundRecord: Sendable, Equatable {
  /// One target's results in the round.
  struct Target: Sendable, Equatable {
    /// The `endpoint` label.
    var name: String
    /// Each operation's result, in the probe's operation order.
    var results: [(op: ProbeMetrics.Operation, result: OperationResult)]

    static func == (lhs: Self, rhs: Self) -> Bool {
      lhs.name == rhs.name && lhs.results.map(\.op) == rhs.results.map(\.op)
        && lhs.results.map(\.result) == rhs.results.map(\.result)
    }
  }

  /// The round's number, from 1.
  var number: Int
  /// When it ended (wall clock).
  var ended: Date
  /// How long it took.
  var duration: Duration
  /// Each target's results.
  var targets: [Target]
  /// The consistency check's outcome and details, when one ran in this round.
  var hashCheck: String?
}

/// Whether the probe is ready: it is when a round completed recently enough. Pure.
struct Readiness: Sendable, Equatable {
  /// How long after the last completed round the probe stays ready: three intervals, and at least an
  /// interval plus the six timeouts one round may spend (put, watch, two reads, delete, status).
  static func window(interval: Duration, timeout: Duration) -> Duration {
    max(interval * 3, interval + timeout * 6)
  }

  /// Whether it is ready.
  let isReady: Bool
  /// The check's line for `?verbose`, as etcd and Kubernetes print theirs: `[+]round ok` or `[-]round failed: ...`.
  let line: String

  /// - Parameters:
  ///   - sinceLastRound: Time since the last round completed; nil when none has.
  ///   - window: ``window(interval:timeout:)``.
  init(sinceLastRound: Duration?, window: Duration) {
    guard let sinceLastRound else {
      isReady = false
      line = "[-]round failed: no probe round has completed yet"
      return
    }
    isReady = sinceLastRound <= window
    line =
      isReady
      ? "[+]round ok: the last round completed \(Self.seconds(sinceLastRound)) ago"
      : "[-]round failed: no probe round completed in the last \(Self.seconds(window)) "
        + "(the last \(Self.seconds(sinceLastRound)) ago)"
  }

  /// Ready while a cluster added to a running probe waits for its first round, for at most `remaining`.
  init(firstRoundPendingFor remaining: Duration) {
    isReady = true
    line = "[+]round ok: the first round is due (ready for \(Self.seconds(remaining)) more without one)"
  }

  /// The readiness page: 200 `ok` or 503; with `verbose`, the check's line and a verdict line.
  func page(verbose: Bool) -> MetricsServer.PageResponse {
    let status = isReady ? 200 : 503
    guard verbose else { return .init(status: status, body: isReady ? "ok\n" : "not ready\n") }
    return .init(status: status, body: line + "\nreadyz check " + (isReady ? "passed" : "failed") + "\n")
  }

  static func seconds(_ duration: Duration) -> String {
    let components = duration.components
    let seconds = Double(components.seconds) + Double(components.attoseconds) / 1e18
    return String(format: "%.1fs", seconds)
  }
}

/// The last rounds' results, for `/readyz` and `/status`: written by the probing loop once per round, read
/// by the metrics server's threads.
final class ProbeStatusBoard: Sendable {
  /// How many rounds the status page shows.
  static let capacity = 10

  private struct State {
    var rounds: [RoundRecord] = []
    var lastCompleted: ContinuousClock.Instant?
  }

  private let state = Mutex(State())
  private let window: Duration
  /// Until when a board without a round counts as ready: set for a cluster a reload starts, so adding a
  /// cluster does not make the whole probe unready while its first round is due.
  private let firstRoundGrace: ContinuousClock.Instant?

  /// - Parameter graceFrom: When a cluster added to a running probe started; nil for a probe's first clusters,
  ///   which are not ready before their first round.
  init(interval: Duration, timeout: Duration, graceFrom: ContinuousClock.Instant? = nil) {
    let window = Readiness.window(interval: interval, timeout: timeout)
    self.window = window
    firstRoundGrace = graceFrom.map { $0 + window }
  }

  /// Records a finished round.
  func completed(_ round: RoundRecord, at instant: ContinuousClock.Instant = .now) {
    state.withLock { state in
      state.rounds.append(round)
      if state.rounds.count > Self.capacity { state.rounds.removeFirst() }
      state.lastCompleted = instant
    }
  }

  /// The readiness at `now`.
  func readiness(now: ContinuousClock.Instant = .now) -> Readiness {
    let last = state.withLock { $0.lastCompleted }
    if last == nil, let firstRoundGrace, now <= firstRoundGrace {
      return Readiness(firstRoundPendingFor: firstRoundGrace - now)
    }
    return Readiness(sinceLastRound: last.map { now - $0 }, window: window)
  }

  /// The rounds recorded, oldest first.
  var rounds: [RoundRecord] { state.withLock { $0.rounds } }

  /// The pages: `/readyz` (`?verbose` lists the check) and `/status` (the last rounds, newest first;
  /// `?target=<endpoint>` shows one target).
  var pages: [MetricsServer.Page] {
    [
      .init(path: "/readyz") { query in self.readiness().page(verbose: query["verbose"] != nil) },
      .init(path: "/status") { query in
        .init(body: Self.statusText(rounds: self.rounds, readiness: self.readiness(), target: query["target"]))
      },
    ]
  }

  /// The status page's text: readiness, then each round, newest first, one line per operation with its
  /// duration or its failure's code, reason and message.
  static func statusText(rounds: [RoundRecord], readiness: Readiness, target: String?) -> String {
    var text = "etcd-probe status\n" + readiness.line + "\n"
    if rounds.isEmpty { text += "\nno round has completed yet\n" }
    let formatter = ISO8601DateFormatter()
    formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
    for round in rounds.reversed() {
      text += "\nround \(round.number), ended \(formatter.string(from: round.ended)), "
      text += "took \(milliseconds(round.duration))\n"
      for entry in round.targets where target == nil || entry.name == target {
        for (op, result) in entry.results {
          let name = entry.name.padding(toLength: max(24, entry.name.count), withPad: " ", startingAt: 0)
          let opName = op.rawValue.padding(toLength: 17, withPad: " ", startingAt: 0)
          let timing = String(repeating: " ", count: max(0, 11 - milliseconds(result.duration).count))
            + milliseconds(result.duration)
          if let failure = result.failure {
            text += "  \(name) \(opName) FAILED \(timing)  \(failure.code) \(failure.reason): \(failure.message)\n"
          } else {
            text += "  \(name) \(opName) ok     \(timing)\n"
          }
        }
      }
      if let hashCheck = round.hashCheck, target == nil { text += "  consistency check: \(hashCheck)\n" }
    }
    return text
  }

  /// A duration in milliseconds with one decimal: `2.5ms`.
  static func milliseconds(_ duration: Duration) -> String {
    let components = duration.components
    return String(
      format: "%.1fms", Double(components.seconds) * 1000 + Double(components.attoseconds) / 1e15)
  }
}
