import EtcdHistoryChecks
import Foundation

@testable import EtcdClient

/// One cell of the robustness matrix: a fault injected into a 3-member cluster in network namespaces while
/// several clients run a workload through fault proxies and two watchers follow the keys. The history of every
/// call and what each watcher received are recorded, then checked: linearizability against etcd's KV model,
/// and the watch guarantees against the linearized history. A violation saves the history as an artifact.
struct RobustnessScenario: Sendable, Codable, CustomStringConvertible {
  let fault: InjectedFault
  let workload: RobustnessWorkload

  var description: String { "\(fault) × \(workload)" }

  /// How big a run is: `ROBUSTNESS_SECONDS` (default 4) of workload from `ROBUSTNESS_CLIENTS` (default 4)
  /// clients; `scripts/robustness.sh` runs larger ones.
  struct Scale: Sendable {
    var duration: Duration
    var clients: Int
    var keys = 6

    static var fromEnvironment: Scale {
      let environment = ProcessInfo.processInfo.environment
      let seconds = environment["ROBUSTNESS_SECONDS"].flatMap(Int.init) ?? 4
      let clients = environment["ROBUSTNESS_CLIENTS"].flatMap(Int.init) ?? 4
      return Scale(duration: .seconds(max(seconds, 1)), clients: max(clients, 1))
    }
  }

  /// Runs the scenario and checks what it recorded; a recording that fails a check is saved
  /// (``RobustnessArtifact``).
  func run(scale: Scale = .fromEnvironment, seed: UInt64 = UInt64.random(in: 1...UInt64.max)) async throws
    -> RobustnessReport
  {
    let report = try await record(scale: scale, seed: seed).check()
    guard !report.passed else { return report }
    var saved = report
    saved.artifact = try RobustnessArtifact.save(report)
    return saved
  }

  /// Runs the scenario: what every call and watcher saw while the fault came and went.
  func record(scale: Scale = .fromEnvironment, seed: UInt64 = UInt64.random(in: 1...UInt64.max)) async throws
    -> RobustnessRecording
  {
    let cluster = try await NetworkNamespaceCluster(size: 3)
    defer { cluster.close() }
    var proxies: [FaultProxy] = []
    defer { for proxy in proxies { proxy.close() } }
    for member in 0..<3 {
      proxies.append(try await FaultProxy(upstream: cluster.endpoint(of: member)))
    }

    let prefix = "rb/"
    let prefixEnd = RobustnessWorkload.Client.prefixEnd(of: prefix)
    let control = try EtcdClient(configuration: Self.configuration(endpoints: cluster.endpoints))
    let clients = try (0..<scale.clients).map { index in
      // Each client lists every member, starting from a different one.
      let endpoints = proxies.indices.map { proxies[($0 + index) % proxies.count].endpoint }
      return try EtcdClient(configuration: Self.configuration(endpoints: endpoints))
    }
    defer {
      let all = clients + [control]
      Task { for client in all { await client.close() } }
    }

    let initialRevision = try await control.get(prefix, options: GetOptions(range: .prefix, countOnly: true))
      .header.revision
    let recorder = HistoryRecorder()
    let watchers = [
      RecordedWatcher(client: clients[0], key: prefix, rangeEnd: prefixEnd, startRevision: initialRevision + 1),
      RecordedWatcher(
        client: clients[min(1, clients.count - 1)], key: prefix, rangeEnd: prefixEnd,
        startRevision: initialRevision + 1),
    ]

    let deadline = ContinuousClock.now + scale.duration
    let faultProxies = proxies
    let faults = try await withThrowingTaskGroup(of: Int.self) { group in
      for (index, client) in clients.enumerated() {
        let generator = RobustnessWorkload.Client(
          workload: workload, index: index, prefix: prefix, keyCount: scale.keys, seed: seed)
        group.addTask {
          var generator = generator
          // Bounded by the deadline, and by a count in case calls return at once.
          for _ in 0..<100_000 where ContinuousClock.now < deadline {
            let request = generator.nextRequest()
            if let response = await recorder.execute(
              request, client: client, clientIndex: index, timeout: .seconds(2))
            {
              generator.observe(response)
            }
          }
          return 0
        }
      }
      group.addTask {
        try await inject(into: cluster, proxies: faultProxies, within: scale.duration)
      }
      var faults = 0
      for try await count in group { faults += count }
      return faults
    }
    heal(cluster, proxies)
    _ = try await cluster.leader()
    // A request a member took in before its link went down may still be applied after the heal: let every
    // such proposal settle before the final read fixes the history's end.
    try await Task.sleep(for: .seconds(3))
    var finalRevision: Int64 = initialRevision
    for _ in 0..<20 {
      if case .range(let revision, _)? = await recorder.execute(
        .range(key: prefix, rangeEnd: prefixEnd), client: control, clientIndex: scale.clients, timeout: .seconds(2))
      {
        finalRevision = revision
        break
      }
      try await Task.sleep(for: .milliseconds(500))
    }

    // Progress notifications must never report a revision below what a watcher has delivered.
    try? await clients[0].requestWatchProgress()

    // A watcher resumed from a revision the first one delivered must see the same history from there.
    let delivered = watchers[0].record.responses.flatMap(\.events).map(\.kv.modRevision)
    let resumeFrom = delivered.isEmpty ? initialRevision : delivered[delivered.count / 2]
    let resumed = RecordedWatcher(
      client: control, key: prefix, rangeEnd: prefixEnd, startRevision: resumeFrom + 1)
    var records: [WatcherRecord] = []
    for watcher in watchers + [resumed] {
      _ = await watcher.waitForEvents(through: finalRevision, timeout: .seconds(20))
      records.append(await watcher.stop())
    }

    return RobustnessRecording(
      scenario: self, seed: seed, initialRevision: initialRevision, history: recorder.operations,
      watchers: records, faultsInjected: faults, failures: recorder.failures, finalRevision: finalRevision)
  }

  /// Injects the fault at a quarter of the run and heals it at 60%; returns how many faults it injected.
  private func inject(into cluster: NetworkNamespaceCluster, proxies: [FaultProxy], within duration: Duration)
    async throws -> Int
  {
    try await Task.sleep(for: duration * 0.25)
    let leader = try await cluster.leader()
    let healAfter = duration * 0.35
    switch fault {
    case .none:
      return 0
    case .leaderIsolatedFromPeers:
      try cluster.isolateFromPeers(leader)
      try await Task.sleep(for: healAfter)
      try cluster.rejoinPeers(leader)
      return 1
    case .followerIsolatedFromPeers:
      let follower = (leader + 1) % 3
      try cluster.isolateFromPeers(follower)
      try await Task.sleep(for: healAfter)
      try cluster.rejoinPeers(follower)
      return 1
    case .clientCutFromLeader:
      try cluster.disconnectClient(from: leader)
      try await Task.sleep(for: healAfter)
      try cluster.reconnectClient(to: leader)
      return 1
    case .flappingLeaderPeerLink:
      let count = 4
      try await cluster.flapPeerLink(of: leader, period: healAfter / count, count: count)
      return count
    case .leaderKilled:
      cluster.kill(leader)
      try await Task.sleep(for: healAfter)
      try await cluster.restart(leader)
      return 1
    case .responsesLostFromLeader:
      proxies[leader].set(.dropResponses)
      try await Task.sleep(for: healAfter)
      proxies[leader].set(.pass)
      return 1
    case .leaderDelayed:
      proxies[leader].set(.delay(.milliseconds(300)))
      try await Task.sleep(for: healAfter)
      proxies[leader].set(.pass)
      return 1
    }
  }

  /// Undoes every fault (links up, proxies passing), whatever the run got to.
  private func heal(_ cluster: NetworkNamespaceCluster, _ proxies: [FaultProxy]) {
    for member in 0..<3 {
      try? cluster.rejoinPeers(member)
      try? cluster.reconnectClient(to: member)
    }
    for proxy in proxies { proxy.set(.pass) }
  }

  /// Short timeouts, so a cut link is noticed within a couple of seconds.
  private static func configuration(endpoints: [String]) -> EtcdClient.Configuration {
    var configuration = EtcdClient.Configuration(endpoints: endpoints)
    configuration.dialTimeout = .seconds(1)
    configuration.keepalive = .init(interval: .seconds(1), timeout: .seconds(1))
    return configuration
  }
}
