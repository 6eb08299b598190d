import EtcdClient
import EtcdMetrics
import Logging
import ServiceLifecycle

/// The probing loop as a swift-service-lifecycle `Service`: a round every interval, a consistency check every
/// hash interval, until the group shuts down; then every target removes its key and lease.
struct ProbeService: Service {
  let probers: [TargetProber]
  let memberProbers: [TargetProber]
  let checks: ClusterChecks
  let metrics: ProbeMetrics
  let logger: Logger
  let interval: Duration
  let hashInterval: Duration
  /// Stop after this many rounds; 0 runs until shut down.
  let rounds: Int

  func run() async throws {
    await cancelWhenGracefulShutdown { await loop() }
    logger.info("probe stopping: removing its keys and leases")
    await withTaskGroup(of: Void.self) { group in
      for prober in probers { group.addTask { await prober.shutdown() } }
    }
  }

  private func loop() async {
    var schedule = ProbeSchedule(interval: interval, hashInterval: hashInterval)
    let start = ContinuousClock.now
    var completed = 0
    while !Task.isCancelled && (rounds == 0 || completed < rounds) {
      let due = schedule.take(now: ContinuousClock.now - start)
      if due.round {
        await withTaskGroup(of: Void.self) { group in
          for prober in probers { group.addTask { await prober.runRound() } }
        }
        var statuses: [String: StatusResponse] = [:]
        for prober in memberProbers {
          if let status = await prober.lastStatus { statuses[prober.name] = status }
        }
        await checks.run(statuses: statuses)
        if due.hashCheck && memberProbers.count > 1 { await checks.checkHashes() }
        metrics.rounds.increment()
        completed += 1
        if rounds != 0 && completed >= rounds { break }
      }
      try? await Task.sleep(for: schedule.delay(now: ContinuousClock.now - start))
    }
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
