import EtcdClient
import Logging

/// The probe's targets: one prober per member, and one for the cluster as a whole when there is more than one
/// member. With discovery on, the member probers follow the cluster's member list (`MemberDiscovery`).
actor ProbeTargets {
  /// Creates a prober for a member: its label, its endpoint, whether it is a learner.
  typealias MemberProberFactory = @Sendable (_ name: String, _ endpoint: String, _ isLearner: Bool) throws
    -> TargetProber

  private let makeMember: MemberProberFactory
  private let metrics: ProbeMetrics
  private let logger: Logger
  private var members: [String: TargetProber] = [:]
  /// Member labels in the order they were configured or discovered.
  private var order: [String] = []
  /// The prober over every endpoint.
  let cluster: TargetProber
  /// Whether the cluster prober runs: with one member it would only repeat that member's probe.
  private var probesCluster: Bool

  /// - Parameters:
  ///   - seeds: The configured members: label and endpoint.
  ///   - cluster: The prober of the client over every endpoint.
  init(
    seeds: [(name: String, endpoint: String)], cluster: TargetProber, metrics: ProbeMetrics, logger: Logger,
    makeMember: @escaping MemberProberFactory
  ) throws {
    self.makeMember = makeMember
    self.cluster = cluster
    self.metrics = metrics
    self.logger = logger
    for seed in seeds {
      members[seed.name] = try makeMember(seed.name, seed.endpoint, false)
      order.append(seed.name)
    }
    probesCluster = seeds.count > 1
  }

  /// The member probers, in order.
  var memberProbers: [TargetProber] { order.compactMap { members[$0] } }

  /// Every prober of this round: the members', then the cluster's.
  var all: [TargetProber] { memberProbers + (probesCluster ? [cluster] : []) }

  /// The voting members, for the consistency check (learners do not serve HashKV).
  func hashTargets() async -> [ClusterChecks.MemberTarget] {
    var targets: [ClusterChecks.MemberTarget] = []
    for prober in memberProbers where await !prober.isLearner {
      targets.append(.init(name: prober.name, client: prober.client))
    }
    return targets
  }

  /// Follows the member list: starts probing new members, stops probing removed ones (removing their series
  /// and shutting their probers down) and marks promotions.
  ///
  /// - Returns: The labels of the members no longer probed.
  func follow(_ list: [Member]) async -> [String] {
    var current: [String: Bool] = [:]
    for (name, prober) in members { current[name] = await prober.isLearner }
    let plan = MemberDiscovery.plan(current: current, members: list)
    guard !plan.isEmpty else { return [] }
    for target in plan.add {
      do {
        members[target.name] = try makeMember(target.name, target.endpoint, target.isLearner)
        order.append(target.name)
        logger.notice(
          "probing a new member",
          metadata: ["endpoint": "\(target.name)", "url": "\(target.endpoint)", "learner": "\(target.isLearner)"])
      } catch {
        logger.warning(
          "cannot probe a new member", metadata: ["endpoint": "\(target.name)", "error": "\(error)"])
      }
    }
    for (name, learner) in plan.learner {
      await members[name]?.setLearner(learner)
      logger.notice("member's role changed", metadata: ["endpoint": "\(name)", "learner": "\(learner)"])
    }
    for name in plan.remove {
      guard let prober = members.removeValue(forKey: name) else { continue }
      order.removeAll { $0 == name }
      logger.notice("member left the cluster: no longer probed", metadata: ["endpoint": "\(name)"])
      await prober.shutdown(using: cluster.client)
      metrics.removeEndpoint(name)
    }
    probesCluster = probesCluster || members.count > 1
    return plan.remove
  }

  /// Shuts every prober down: each deletes its key and revokes its lease.
  func shutdown() async {
    let probers = memberProbers + [cluster]
    await withTaskGroup(of: Void.self) { group in
      for prober in probers { group.addTask { await prober.shutdown() } }
    }
  }

  /// Closes every prober's client without cleaning up: for probers that never ran.
  func close() async {
    for prober in memberProbers + [cluster] { await prober.client.close() }
  }
}
