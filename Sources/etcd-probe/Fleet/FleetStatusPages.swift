import EtcdMetrics
import Synchronization

/// `/readyz` and `/status` over every running cluster's ``ProbeStatusBoard``: the fleet updates the list when
/// clusters start and stop, and the metrics server's threads read it.
final class FleetStatusPages: Sendable {
  private let boards = Mutex<[(cluster: String, board: ProbeStatusBoard)]>([])

  /// Replaces the boards shown, in the configuration's order.
  func show(_ boards: [(cluster: String, board: ProbeStatusBoard)]) {
    self.boards.withLock { $0 = boards }
  }

  /// The readiness of the fleet: ready when every cluster completed a round recently (and with no cluster).
  /// Each check's line names its cluster: `[+]prod-a: round ok: …`.
  func readiness(now: ContinuousClock.Instant = .now) -> (isReady: Bool, lines: [String]) {
    let boards = self.boards.withLock { $0 }
    var ready = true
    var lines: [String] = []
    for (cluster, board) in boards {
      let readiness = board.readiness(now: now)
      ready = ready && readiness.isReady
      lines.append(String(readiness.line.prefix(3)) + cluster + ": " + readiness.line.dropFirst(3))
    }
    return (ready, lines)
  }

  /// The pages: `/readyz` (`?verbose` lists each cluster's check) and `/status` (each cluster's last rounds;
  /// `?cluster=NAME` shows one cluster, `?target=host:port` one target).
  var pages: [MetricsServer.Page] {
    [
      .init(path: "/readyz") { query in
        let (ready, lines) = self.readiness()
        let status = ready ? 200 : 503
        guard query["verbose"] != nil else { return .init(status: status, body: ready ? "ok\n" : "not ready\n") }
        return .init(
          status: status,
          body: lines.map { $0 + "\n" }.joined() + "readyz check " + (ready ? "passed" : "failed") + "\n")
      },
      .init(path: "/status") { query in
        let boards = self.boards.withLock { $0 }
        var text = ""
        for (cluster, board) in boards where query["cluster"] == nil || query["cluster"] == cluster {
          if !text.isEmpty { text += "\n" }
          text += "cluster \(cluster)\n"
          text += ProbeStatusBoard.statusText(
            rounds: board.rounds, readiness: board.readiness(), target: query["target"])
        }
        return .init(body: text.isEmpty ? "no cluster is probed\n" : text)
      },
    ]
  }
}
