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
        await runRound(hashCheck: due.hashCheck)
        completed += 1
        if rounds != 0 && completed >= rounds { break }
      }
      try? await Task.sleep(for: schedule.delay(now: ContinuousClock.now - start))
    }
  }

  private func runRound(hashCheck: Bool) async {
    let probers = await targets.all
    await withTaskGroup(of: Void.self) { group in
      for prober in probers { group.addTask { await prober.runRound() } }
    }
    var statuses: [String: StatusResponse] = [:]
    for prober in await targets.memberProbers {
      if let status = await prober.lastStatus { statuses[prober.name] = status }
    }
    let members = await checks.run(statuses: statuses)
    if hashCheck {
      let hashTargets = await targets.hashTargets()
      if hashTargets.count > 1 { await checks.checkHashes(members: hashTargets) }
    }
    if discovers, let members, !Task.isCancelled {
      for name in await targets.follow(members) { await checks.forget(member: name) }
    }
    metrics.rounds.increment()
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
