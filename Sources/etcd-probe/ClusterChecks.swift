import EtcdClient
import Logging

/// The cluster-wide checks: member list, leader changes, alarms, and the HashKV consistency check.
actor ClusterChecks {
  /// A member to check: its `endpoint` label and a client connected to it alone.
  struct MemberTarget: Sendable {
    var name: String
    var client: EtcdClient
  }

  private let client: EtcdClient
  private let metrics: ProbeMetrics
  private let logger: Logger
  private let timeout: Duration
  private let hashAttempts: Int
  private var lastLeader: UInt64?
  /// The members whose hash-mismatch series exist, to create them at 0 and drop them with the member.
  private var hashSeries: Set<String> = []

  /// - Parameters:
  ///   - client: A client over every endpoint, for the member list, alarms and the revision to hash at.
  ///   - hashAttempts: How many revisions one consistency check may try while compactions keep the members'
  ///     compact revisions apart.
  init(client: EtcdClient, metrics: ProbeMetrics, logger: Logger, timeout: Duration, hashAttempts: Int = 3) {
    self.client = client
    self.metrics = metrics
    self.logger = logger
    self.timeout = timeout
    self.hashAttempts = hashAttempts
  }

  /// The event loop of the client over every endpoint. ``ClusterProbe`` reads the member list with this
  /// executor preferred, so the measured call starts and resumes on the thread that carries it.
  nonisolated var taskExecutor: EventLoopTaskExecutor { client.taskExecutor }

  /// The member list, read at the start of a round so that the round probes the members the cluster has.
  ///
  /// - Returns: The members, or nil when the list could not be read.
  func memberList() async -> [Member]? {
    let started = ContinuousClock.now
    do {
      let members = try await client.memberList(timeout: timeout).members
      metrics.clusterMembers.labels().set(Double(members.count))
      metrics.record(endpoint: "cluster", op: .memberList, duration: ContinuousClock.now - started, error: nil)
      return members
    } catch {
      metrics.record(endpoint: "cluster", op: .memberList, duration: ContinuousClock.now - started, error: error)
      return nil
    }
  }

  /// Alarms, and the leader as the members' statuses report it.
  ///
  /// - Parameter statuses: Each member's last status, by `endpoint` label.
  func observe(statuses: [String: StatusResponse]) async {
    if let alarms = try? await client.alarms(timeout: timeout) {
      for (endpoint, status) in statuses {
        let memberID = status.header.memberID
        for (label, type) in [("nospace", AlarmType.noSpace), ("corrupt", .corrupt)] {
          let raised = alarms.contains { $0.memberID == memberID && $0.type == type }
          metrics.alarm.labels(endpoint, label).set(raised ? 1 : 0)
        }
      }
    }
    // The leader most members agree on.
    let votes = statuses.values.map(\.leader).filter { $0 != 0 }
    let leader = Dictionary(grouping: votes, by: { $0 }).max { $0.value.count < $1.value.count }?.key
    if let leader {
      if let lastLeader, lastLeader != leader {
        metrics.leaderChanges.labels().increment()
        logger.info(
          "leader changed",
          metadata: ["from": "\(String(lastLeader, radix: 16))", "to": "\(String(leader, radix: 16))"])
      }
      lastLeader = leader
    }
  }

  /// Compares every member's HashKV at one revision (`HashConsistency`): only members that hashed above the
  /// same compact revision are compared, and while compactions keep them apart the check asks again at a
  /// fresh revision, up to `hashAttempts` times.
  ///
  /// `etcd_probe_hash_mismatch` goes to 1 only for a member in a confirmed mismatch and back to 0 when the
  /// member agrees again; a member that could not be compared keeps its value.
  ///
  /// - Returns: The outcome and the members behind it, for the status page.
  @discardableResult
  func checkHashes(members: [MemberTarget]) async -> String {
    metrics.hashChecks.labels().increment()
    for member in members where hashSeries.insert(member.name).inserted {
      metrics.hashMismatch.labels(member.name).set(0)
    }
    let (verdict, attempts) = await HashConsistency.check(maxAttempts: hashAttempts) { attempt in
      if attempt > 0 {
        metrics.hashCheckRetries.labels().increment()
        // Give a compaction that some members have applied time to reach the others.
        try? await Task.sleep(for: .milliseconds(100 * attempt))
      }
      return await hashes(of: members)
    }
    metrics.hashCheckOutcomes.labels(verdict.outcome.rawValue).increment()
    for member in verdict.agreeing { metrics.hashMismatch.labels(member).set(0) }
    for member in verdict.disagreeing { metrics.hashMismatch.labels(member).set(1) }
    switch verdict.outcome {
    case .mismatch:
      logger.error(
        "hash mismatch: members hold different data at the same revision and compact revision",
        metadata: [
          "disagreeing": "\(verdict.disagreeing.sorted())", "agreeing": "\(verdict.agreeing.sorted())",
          "attempts": "\(attempts)",
        ])
    case .notComparable:
      logger.debug(
        "hash check not comparable", metadata: ["members": "\(verdict.notComparable.sorted())", "attempts": "\(attempts)"])
    case .agreed, .error:
      break
    }
    var summary = "\(verdict.outcome.rawValue) after \(attempts) attempt\(attempts == 1 ? "" : "s")"
    for (label, names) in [
      ("agreeing", verdict.agreeing), ("disagreeing", verdict.disagreeing),
      ("not comparable", verdict.notComparable), ("failed", verdict.failed),
    ] where !names.isEmpty {
      summary += "; \(label): \(names.sorted().joined(separator: ", "))"
    }
    return summary
  }

  /// Drops the series of a member that left the cluster.
  func forget(member name: String) {
    hashSeries.remove(name)
  }

  /// Every member's HashKV at the cluster's current revision, asked of all members at once so that a
  /// compaction is as unlikely as can be to fall between the answers.
  private func hashes(of members: [MemberTarget]) async -> [String: MemberHashResult] {
    let revision: Int64
    do {
      revision = try await client.get("/", options: .init(countOnly: true), timeout: timeout).header.revision
    } catch {
      return Dictionary(uniqueKeysWithValues: members.map { ($0.name, .failed(reason: error.code.name)) })
    }
    let timeout = self.timeout
    let metrics = self.metrics
    return await withTaskGroup(of: (String, MemberHashResult).self) { group in
      for member in members {
        // On the member's client's event loop, as the targets' rounds run: no hand-offs of the probe's own
        // in the measured duration.
        group.addTask(executorPreference: member.client.taskExecutor) {
          let started = ContinuousClock.now
          do throws(EtcdError) {
            let response = try await member.client.hashKV(revision: revision, timeout: timeout)
            metrics.compactRevision.labels(member.name).set(Double(response.compactRevision))
            metrics.record(endpoint: member.name, op: .hashKV, duration: ContinuousClock.now - started, error: nil)
            return (
              member.name,
              .hashed(revision: revision, compactRevision: response.compactRevision, hash: response.hash)
            )
          } catch where error.code == .compacted || error.code == .futureRevision {
            // The member answered correctly: it cannot hash that revision (any more, or yet).
            metrics.record(endpoint: member.name, op: .hashKV, duration: ContinuousClock.now - started, error: nil)
            return (member.name, .revisionUnavailable)
          } catch {
            metrics.record(endpoint: member.name, op: .hashKV, duration: ContinuousClock.now - started, error: error)
            return (member.name, .failed(reason: error.code.name))
          }
        }
      }
      var results: [String: MemberHashResult] = [:]
      for await (name, result) in group { results[name] = result }
      return results
    }
  }
}
