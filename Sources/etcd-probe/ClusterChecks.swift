import EtcdClient
import Logging

/// The cluster-wide checks: member list, leader changes, alarms, and the HashKV consistency check.
actor ClusterChecks {
  private let client: EtcdClient
  private let memberEndpoints: [String]
  private let metrics: ProbeMetrics
  private let logger: Logger
  private let timeout: Duration
  private var lastLeader: UInt64?

  init(client: EtcdClient, memberEndpoints: [String], metrics: ProbeMetrics, logger: Logger, timeout: Duration) {
    self.client = client
    self.memberEndpoints = memberEndpoints
    self.metrics = metrics
    self.logger = logger
    self.timeout = timeout
  }

  /// Member list and alarms, and the leader as the members' statuses report it.
  func run(statuses: [String: StatusResponse]) async {
    let started = ContinuousClock.now
    do {
      let members = try await client.memberList(timeout: timeout)
      metrics.clusterMembers.set(Double(members.members.count))
      metrics.record(endpoint: "cluster", op: .memberList, duration: ContinuousClock.now - started, error: nil)
    } catch {
      metrics.record(endpoint: "cluster", op: .memberList, duration: ContinuousClock.now - started, error: error)
    }
    if let alarms = try? await client.alarms(timeout: timeout) {
      for endpoint in memberEndpoints {
        guard let memberID = statuses[endpoint]?.header.memberID else { continue }
        for type in ["nospace", "corrupt"] {
          let raised = alarms.contains { alarm in
            alarm.memberID == memberID && (type == "nospace" ? alarm.type == .noSpace : alarm.type == .corrupt)
          }
          metrics.alarm.labels(endpoint, type).set(raised ? 1 : 0)
        }
      }
    }
    // The leader most members agree on.
    let votes = statuses.values.map(\.leader).filter { $0 != 0 }
    let leader = Dictionary(grouping: votes, by: { $0 }).max { $0.value.count < $1.value.count }?.key
    if let leader {
      if let lastLeader, lastLeader != leader {
        metrics.leaderChanges.increment()
        logger.info("leader changed", metadata: ["from": "\(String(lastLeader, radix: 16))", "to": "\(String(leader, radix: 16))"])
      }
      lastLeader = leader
    }
  }

  /// HashKV of every member at one revision; a member whose hash differs from the majority is flagged.
  func checkHashes() async {
    metrics.hashChecks.increment()
    guard let revision = try? await client.get("/", options: .init(countOnly: true), timeout: timeout)
      .header.revision
    else { return }
    var hashes: [String: UInt32] = [:]
    for endpoint in memberEndpoints {
      let started = ContinuousClock.now
      do {
        let response = try await client.hashKV(revision: revision, endpoint: endpoint, timeout: timeout)
        hashes[endpoint] = response.hash
        metrics.record(endpoint: endpoint, op: .hashKV, duration: ContinuousClock.now - started, error: nil)
      } catch {
        metrics.record(endpoint: endpoint, op: .hashKV, duration: ContinuousClock.now - started, error: error)
      }
    }
    let majority = Dictionary(grouping: hashes.values, by: { $0 }).max { $0.value.count < $1.value.count }?.key
    for (endpoint, hash) in hashes {
      let mismatch = hash != majority
      metrics.hashMismatch.labels(endpoint).set(mismatch ? 1 : 0)
      if mismatch {
        logger.error("hash mismatch", metadata: ["endpoint": "\(endpoint)", "revision": "\(revision)"])
      }
    }
  }
}
