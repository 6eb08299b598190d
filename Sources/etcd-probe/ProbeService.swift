import Foundation
import EtcdClient
import EtcdMetrics
import Logging
import ServiceLifecycle

/// The probing loop as a swift-service-lifecycle `Service`: a round every interval, a consistency check every
/// hash interval, until the group shuts down; then every target removes its key and lease.
struct ProbeService: Service {
  let targets: ProbeTargets
  let checks: ClusterChecks
  let metrics: ProbeMetrics
  let board: ProbeStatusBoard
  let logger: Logger
  let interval: Duration
  let hashInterval: Duration
  /// Whether the probed members follow the cluster's member list.
  let discovers: Bool
  /// Stop after this many rounds; 0 runs until shut down.
  let rounds: Int

  func run() async throws {
    await cancelWhenGracefulShutdown { await loop() }
    logger.info("probe stopping: removing its keys and leases")
    await targets.shutdown()
  }

  private func loop() async {
    var schedule = ProbeSchedule(interval: interval, hashInterval: hashInterval)
    let start = ContinuousClock.now
    var completed = 0
    while !Task.isCancelled && (rounds == 0 || completed < rounds) {
      let due = schedule.take(now: ContinuousClock.now - start)
      if due.round {
        completed += 1
        await runRound(number: completed, hashCheck: due.hashCheck)
        if rounds != 0 && completed >= rounds { break }
      }
      try? await Task.sleep(for: schedule.delay(now: ContinuousClock.now - start))
    }
  }

  private func runRound(number: Int, hashCheck: Bool) async {
    let started = ContinuousClock.now
    // The member list first: a member removed since the last round is not probed (and failed) once more,
    // and a new one is probed in this round.
    if let members = await checks.memberList(), discovers, !Task.isCancelled {
      for name in await targets.follow(members) { await checks.forget(member: name) }
    }
    let probers = await targets.all
    let results = await withTaskGroup(of: (Int, RoundRecord.Target).self) { group in
      for (index, prober) in probers.enumerated() {
        group.addTask {
          let results = await prober.runRound()
          let ordered = ProbeMetrics.Operation.allCases.compactMap { op in results[op].map { (op, $0) } }
          return (index, RoundRecord.Target(name: prober.name, results: ordered))
        }
      }
      var targets: [(Int, RoundRecord.Target)] = []
      for await target in group { targets.append(target) }
      return targets.sorted { $0.0 < $1.0 }.map(\.1)
    }
    var statuses: [String: StatusResponse] = [:]
    for prober in await targets.memberProbers {
      if let status = await prober.lastStatus { statuses[prober.name] = status }
    }
    await checks.observe(statuses: statuses)
    var hashSummary: String?
    if hashCheck {
      let hashTargets = await targets.hashTargets()
      if hashTargets.count > 1 { hashSummary = await checks.checkHashes(members: hashTargets) }
    }
    metrics.rounds.increment()
    board.completed(
      RoundRecord(
        number: number, ended: Date(), duration: ContinuousClock.now - started, targets: results,
        hashCheck: hashSummary))
  }
}

/// Keeps the (already started) metrics server up until the group shuts down, then stops it.
struct MetricsServerService: Service {
  let server: MetricsServer

  func run() async throws {
    await cancelWhenGracefulShutdown {
      while !Task.isCancelled { try? await Task.sleep(for: .seconds(3600)) }
    }
    server.stop()
  }
}
