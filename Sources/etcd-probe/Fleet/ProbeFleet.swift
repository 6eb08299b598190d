import EtcdMetrics
import Foundation
import Logging

/// The clusters the probe runs, each in a task of its own, and the changes a new configuration makes to them.
///
/// ``apply(_:)`` makes every new or changed cluster's clients before it changes anything, so a configuration
/// that cannot be run leaves the fleet as it was; then it stops removed clusters (their keys and leases
/// removed, their series gone), restarts changed ones and starts new ones. Unchanged clusters are not
/// touched: their counters keep counting. Changes are applied one at a time.
actor ProbeFleet {
  private struct Running {
    var probe: ClusterProbe
    var task: Task<Void, Never>
  }

  private let shared: ClusterProbe.Shared
  private let pages: FleetStatusPages
  /// Rounds each cluster runs before it stops; 0 runs until stopped.
  private let rounds: Int
  private var running: [String: Running] = [:]
  /// Cluster names in the configuration's order.
  private var order: [String] = []
  /// Whether a change is being applied; the next ones wait in `waiting`, in order.
  private var busy = false
  private var waiting: [CheckedContinuation<Void, Never>] = []
  /// Whether a configuration was applied: clusters of later ones are added to a running probe.
  private var applied = false

  init(shared: ClusterProbe.Shared, pages: FleetStatusPages, rounds: Int) {
    self.shared = shared
    self.pages = pages
    self.rounds = rounds
  }

  /// The running clusters' settings, in order.
  var clusters: [ClusterSettings] { order.compactMap { running[$0]?.probe.settings } }

  /// Changes the running clusters to `configuration`'s.
  ///
  /// - Returns: What changed.
  /// - Throws: `ClusterProbeError` when a new or changed cluster cannot be set up; then nothing changed.
  func apply(_ configuration: FleetConfiguration) async throws(ClusterProbeError) -> FleetPlan {
    await acquire()
    defer { release() }

    let plan = FleetPlan(running: clusters, target: configuration.clusters)
    var made: [String: ClusterProbe] = [:]
    for settings in plan.start + plan.restart {
      do {
        made[settings.name] = try ClusterProbe(settings: settings, shared: shared, added: applied)
      } catch {
        for probe in made.values { await probe.targets.close() }
        throw error
      }
    }
    await withTaskGroup(of: Void.self) { group in
      for name in plan.stop + plan.restart.map(\.name) {
        guard let stopping = running.removeValue(forKey: name) else { continue }
        group.addTask { await Self.stop(stopping, families: self.shared.families) }
      }
    }
    order = configuration.clusters.map(\.name)
    applied = true
    let spread = order.count > 1
    for (name, probe) in made {
      let offset = spread ? Self.offset(of: name, interval: probe.settings.interval) : .zero
      let rounds = self.rounds
      running[name] = Running(probe: probe, task: Task { await probe.run(rounds: rounds, offset: offset) })
    }
    pages.show(order.compactMap { name in running[name].map { (name, $0.probe.board) } })
    return plan
  }

  /// Waits until every cluster ran its rounds (with a round limit) or was stopped.
  /// Cancelling the wait stops the clusters' rounds.
  func waitForRounds() async {
    let tasks = order.compactMap { running[$0]?.task }
    await withTaskCancellationHandler {
      for task in tasks { await task.value }
    } onCancel: {
      for task in tasks { task.cancel() }
    }
  }

  /// Stops every cluster: its keys and leases removed, its clients closed.
  func stopAll() async {
    await acquire()
    defer { release() }
    let stopping = running.values
    running.removeAll()
    order.removeAll()
    pages.show([])
    await withTaskGroup(of: Void.self) { group in
      for cluster in stopping {
        group.addTask { await Self.stop(cluster, families: self.shared.families) }
      }
    }
  }

  private func acquire() async {
    if busy {
      await withCheckedContinuation { waiting.append($0) }
    } else {
      busy = true
    }
  }

  private func release() {
    if waiting.isEmpty { busy = false } else { waiting.removeFirst().resume() }
  }

  private static func stop(_ cluster: Running, families: ProbeMetricFamilies) async {
    cluster.task.cancel()
    await cluster.task.value
    await cluster.probe.shutdown()
    families.removeCluster(cluster.probe.settings.name)
  }

  /// Where in its interval a cluster's rounds start: a fraction of the interval fixed by its name (FNV-1a), so
  /// a fleet's rounds spread over the interval instead of firing at once, and stay where they were across
  /// reloads.
  static func offset(of name: String, interval: Duration) -> Duration {
    var hash: UInt64 = 0xcbf2_9ce4_8422_2325
    for byte in name.utf8 {
      hash ^= UInt64(byte)
      hash &*= 0x0000_0100_0000_01b3
    }
    return interval * (Double(hash % 10_000) / 10_000)
  }
}
