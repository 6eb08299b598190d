import EtcdClient
import EtcdMetrics

/// Every metric the probe exports: names, help texts, labels and buckets in one place, registered once per
/// registry. Each cluster records through its own ``ProbeMetrics`` view, which adds its `cluster` label.
///
/// Labels stay bounded: `cluster` is a configured cluster's name, `endpoint` is a member's `host:port` (`EndpointLabel`) or `cluster` (the client over
/// all of them), `op` is one of `Operation`, `code`/`reason` come from the gRPC code and etcd's typed error or
/// the failed answer check (`AnswerFailure`, with `code="OK"`). Member ids are hex label values on info-style
/// series, never sample values (a 64-bit id does not survive a float64). Keys never become labels. A member
/// that leaves the cluster takes its series with it (`ProbeMetrics.removeEndpoint(_:)`), and so does a cluster
/// that leaves the configuration (`removeCluster(_:)`).
final class ProbeMetricFamilies: Sendable {

  let duration: MetricFamily<Histogram>
  let watchDelay: MetricFamily<Histogram>
  let attempts: MetricFamily<Counter>
  let failures: MetricFamily<Counter>
  let success: MetricFamily<Gauge>
  let isLeader: MetricFamily<Gauge>
  let leaderInfo: MetricFamily<Gauge>
  let serializableLag: MetricFamily<Gauge>
  let compactRevision: MetricFamily<Gauge>
  let hashCheckOutcomes: MetricFamily<Counter>
  let hashCheckRetries: MetricFamily<Counter>
  let raftTerm: MetricFamily<Gauge>
  let raftIndex: MetricFamily<Gauge>
  let raftAppliedIndex: MetricFamily<Gauge>
  let dbSize: MetricFamily<Gauge>
  let dbSizeInUse: MetricFamily<Gauge>
  let alarm: MetricFamily<Gauge>
  let info: MetricFamily<Gauge>
  let leaderChanges: MetricFamily<Counter>
  let clusterMembers: MetricFamily<Gauge>
  let hashMismatch: MetricFamily<Gauge>
  let hashChecks: MetricFamily<Counter>
  let watchResumes: MetricFamily<Counter>
  let watchCompactions: MetricFamily<Counter>
  let watchClusterChanges: MetricFamily<Counter>
  let watchProgressLag: MetricFamily<Gauge>
  let rounds: MetricFamily<Counter>
  let certificateNotAfter: MetricFamily<Gauge>
  let tlsReloadFailures: MetricFamily<Counter>
  let roundOverruns: MetricFamily<Counter>

  init(registry: MetricsRegistry) {
    let cluster = ["cluster"]
    let endpoint = ["cluster", "endpoint"]
    let endpointOp = ["cluster", "endpoint", "op"]
    duration = registry.makeHistogramFamily(
      name: "etcd_probe_duration_seconds",
      help: "Duration of successful probe operations, by endpoint and operation.",
      labelNames: endpointOp, buckets: ProbeMetrics.latencyBuckets, native: NativeHistogramOptions())
    watchDelay = registry.makeHistogramFamily(
      name: "etcd_probe_watch_delay_seconds",
      help: "Delay from a probe put being acknowledged to its event arriving on a watch open on that endpoint.",
      labelNames: endpoint, buckets: ProbeMetrics.latencyBuckets, native: NativeHistogramOptions())
    attempts = registry.makeCounterFamily(
      name: "etcd_probe_attempts_total", help: "Probe operations attempted.", labelNames: endpointOp)
    failures = registry.makeCounterFamily(
      name: "etcd_probe_failures_total",
      help: "Probe operations that failed, by gRPC code and etcd error.",
      labelNames: endpointOp + ["code", "reason"])
    success = registry.makeGaugeFamily(
      name: "etcd_probe_success", help: "Whether the last probe operation succeeded (1) or not (0).",
      labelNames: endpointOp)
    isLeader = registry.makeGaugeFamily(
      name: "etcd_probe_endpoint_is_leader", help: "Whether the member is the raft leader.",
      labelNames: endpoint)
    leaderInfo = registry.makeGaugeFamily(
      name: "etcd_probe_endpoint_leader_info",
      help: "The leader as the member sees it, as a hex member id label; always 1, absent while it sees none.",
      labelNames: endpoint + ["leader_id"])
    serializableLag = registry.makeGaugeFamily(
      name: "etcd_probe_serializable_lag_revisions",
      help: "Revisions between the probe's latest put and the revision a serializable read was answered from.",
      labelNames: endpoint)
    compactRevision = registry.makeGaugeFamily(
      name: "etcd_probe_endpoint_compact_revision",
      help: "The member's compact revision, as its last HashKV answer reported it.",
      labelNames: endpoint)
    hashCheckOutcomes = registry.makeCounterFamily(
      name: "etcd_probe_hash_check_outcomes_total",
      help: "Consistency checks by outcome: agreed, mismatch (confirmed at equal revision and compact revision), "
        + "not_comparable (compactions kept members apart through every retry) or error (a member did not answer).",
      labelNames: ["cluster", "outcome"])
    hashCheckRetries = registry.makeCounterFamily(
      name: "etcd_probe_hash_check_retries_total",
      help: "HashKV rounds asked again at a fresh revision because some members could not be compared: different "
        + "compact revisions, or the revision compacted or not yet applied on a member.",
      labelNames: cluster)
    raftTerm = registry.makeGaugeFamily(
      name: "etcd_probe_endpoint_raft_term", help: "The member's raft term.", labelNames: endpoint)
    raftIndex = registry.makeGaugeFamily(
      name: "etcd_probe_endpoint_raft_index", help: "The member's raft index.", labelNames: endpoint)
    raftAppliedIndex = registry.makeGaugeFamily(
      name: "etcd_probe_endpoint_raft_applied_index", help: "The member's applied raft index.",
      labelNames: endpoint)
    dbSize = registry.makeGaugeFamily(
      name: "etcd_probe_endpoint_db_size_bytes", help: "The member's backend database size.",
      labelNames: endpoint)
    dbSizeInUse = registry.makeGaugeFamily(
      name: "etcd_probe_endpoint_db_size_in_use_bytes",
      help: "The part of the member's database in use (the rest is freed by defragmentation).",
      labelNames: endpoint)
    alarm = registry.makeGaugeFamily(
      name: "etcd_probe_endpoint_alarm", help: "Alarms raised on the member (1 when raised).",
      labelNames: endpoint + ["alarm"])
    info = registry.makeGaugeFamily(
      name: "etcd_probe_endpoint_info", help: "The member's version, hex member id and whether it is a learner; always 1.",
      labelNames: endpoint + ["version", "member_id", "learner"])
    leaderChanges = registry.makeCounterFamily(
      name: "etcd_probe_leader_changes_total", help: "Leader changes the probe has seen.", labelNames: cluster)
    clusterMembers = registry.makeGaugeFamily(
      name: "etcd_probe_cluster_members", help: "Members in the cluster's member list.", labelNames: cluster)
    hashMismatch = registry.makeGaugeFamily(
      name: "etcd_probe_hash_mismatch",
      help: "Whether the member's HashKV differs from the others' at the same revision and compact revision (1) "
        + "or not (0): set only on a confirmed mismatch.",
      labelNames: endpoint)
    hashChecks = registry.makeCounterFamily(
      name: "etcd_probe_hash_checks_total", help: "Consistency checks (HashKV of every member) run.",
      labelNames: cluster)
    watchResumes = registry.makeCounterFamily(
      name: "etcd_probe_watch_resumes_total",
      help: "Times the probe's watch stream was re-established after it broke.", labelNames: endpoint)
    watchCompactions = registry.makeCounterFamily(
      name: "etcd_probe_watch_compactions_total",
      help: "Times the probe's watch was cancelled by a compaction and re-created.",
      labelNames: endpoint)
    watchClusterChanges = registry.makeCounterFamily(
      name: "etcd_probe_watch_cluster_changes_total",
      help: "Times the probe's watch resumed on a server with another cluster id and was re-created from now.",
      labelNames: endpoint)
    watchProgressLag = registry.makeGaugeFamily(
      name: "etcd_probe_watch_progress_lag_revisions",
      help: "Revisions between the probe's latest write and the latest revision its watch has reported.",
      labelNames: endpoint)
    rounds = registry.makeCounterFamily(
      name: "etcd_probe_rounds_total", help: "Probe rounds run.", labelNames: cluster)
    certificateNotAfter = registry.makeGaugeFamily(
      name: "etcd_probe_tls_cert_not_after_timestamp_seconds",
      help: "When a certificate expires, in seconds since the epoch: the probe's client certificate and its "
        + "earliest CA (endpoint=\"cluster\"), and the certificate each member presented (cert=\"server\").",
      labelNames: ["cluster", "endpoint", "cert"])
    tlsReloadFailures = registry.makeCounterFamily(
      name: "etcd_probe_tls_reload_failures_total",
      help: "Times the probe's TLS files changed but could not be loaded; the last good ones stay in use.",
      labelNames: cluster)
    roundOverruns = registry.makeCounterFamily(
      name: "etcd_probe_round_overruns_total",
      help: "Rounds that took longer than the cluster's interval, so the next one started late.",
      labelNames: cluster)
  }

  /// Every family, for removing a cluster's series.
  private var all: [any ClusterLabeledFamily] {
    [
      duration, watchDelay, attempts, failures, success, isLeader, leaderInfo, serializableLag, compactRevision,
      hashCheckOutcomes, hashCheckRetries, raftTerm, raftIndex, raftAppliedIndex, dbSize, dbSizeInUse, alarm,
      info, leaderChanges, clusterMembers, hashMismatch, hashChecks, watchResumes, watchCompactions,
      watchClusterChanges, watchProgressLag, rounds, certificateNotAfter, tlsReloadFailures,
      roundOverruns,
    ]
  }

  /// Removes every series of a cluster: it left the configuration, or restarts with new settings.
  func removeCluster(_ cluster: String) {
    for family in all { family.removeSeries(ofCluster: cluster) }
  }

  /// Makes the series of `cluster` in every family labelled by `cluster` alone.
  func createClusterSeries(_ cluster: String) {
    for family in all { family.createSeries(ofCluster: cluster) }
  }

  /// Removes a cluster's series whose label `name` is `value`, in every family that has the label.
  func removeSeries(ofCluster cluster: String, whereLabel name: String, is value: String) {
    for family in all { family.removeSeries(ofCluster: cluster, whereLabel: name, is: value) }
  }
}

/// A family whose first label is `cluster`.
protocol ClusterLabeledFamily {
  /// Removes the series whose `cluster` label is `cluster`.
  func removeSeries(ofCluster cluster: String)
  /// Removes the series of `cluster` whose label `name` is `value`; nothing when the family has no such label.
  func removeSeries(ofCluster cluster: String, whereLabel name: String, is value: String)
  /// Makes the series of `cluster` when `cluster` is the family's only label; nothing otherwise.
  func createSeries(ofCluster cluster: String)
}

extension MetricFamily: ClusterLabeledFamily {
  func removeSeries(ofCluster cluster: String) {
    _ = removeAll { $0.first == cluster }
  }

  func removeSeries(ofCluster cluster: String, whereLabel name: String, is value: String) {
    ClusterFamily(family: self, cluster: cluster).removeAll(whereLabel: name, is: value)
  }

  func createSeries(ofCluster cluster: String) {
    guard labelNames == ["cluster"] else { return }
    _ = labels([cluster])
  }
}

/// A family seen from one cluster: its `cluster` label is filled in.
struct ClusterFamily<Child: AnyObject & Sendable>: Sendable {
  let family: MetricFamily<Child>
  let cluster: String

  /// The series of the remaining label values.
  func labels(_ values: String...) -> Child { family.labels([cluster] + values) }

  /// The series of the remaining label values.
  func labels(_ values: [String]) -> Child { family.labels([cluster] + values) }

  /// Removes the series of the remaining label values.
  @discardableResult
  func remove(_ values: [String]) -> Bool { family.remove([cluster] + values) }

  /// Removes this cluster's series whose remaining label values match.
  func removeAll(where matches: ([String]) -> Bool) {
    _ = family.removeAll { $0.first == cluster && matches(Array($0.dropFirst())) }
  }

  /// Removes this cluster's series whose label `name` is `value`.
  func removeAll(whereLabel name: String, is value: String) {
    guard let index = family.labelNames.firstIndex(of: name) else { return }
    _ = family.removeAll { $0.first == cluster && $0[index] == value }
  }
}

/// The probe's metrics as one cluster records them: every series carries its `cluster` label.
@dynamicMemberLookup
final class ProbeMetrics: Sendable {
  /// The probe's operations, as `op` label values.
  enum Operation: String, CaseIterable, Sendable {
    case put, get
    case getSerializable = "get_serializable"
    case delete, watch, status
    case hashKV = "hash_kv"
    case memberList = "member_list"
  }

  /// Probe latency buckets: 0.5 ms to 10 s.
  static let latencyBuckets: [Double] = [
    0.0005, 0.001, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.015, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5,
    1, 2.5, 5, 10,
  ]

  /// The `cluster` label.
  let cluster: String
  let families: ProbeMetricFamilies

  /// The view of `families` for `cluster`. The families labelled by `cluster` alone get their series now, at
  /// zero, so that a counter of events that have not happened yet (leader changes, round overruns) reads 0
  /// rather than nothing.
  init(families: ProbeMetricFamilies, cluster: String) {
    self.cluster = cluster
    self.families = families
    families.createClusterSeries(cluster)
  }

  /// A family of `families` as this cluster records it: `metrics.rounds.labels().increment()`,
  /// `metrics.success.labels(endpoint, op).set(1)`.
  subscript<Child>(dynamicMember path: KeyPath<ProbeMetricFamilies, MetricFamily<Child>>) -> ClusterFamily<Child> {
    ClusterFamily(family: families[keyPath: path], cluster: cluster)
  }

  /// Records one operation's outcome.
  func record(endpoint: String, op: Operation, duration: Duration, failure: OperationFailure?) {
    self.attempts.labels(endpoint, op.rawValue).increment()
    if let failure {
      self.failures.labels(endpoint, op.rawValue, failure.code, failure.reason).increment()
      self.success.labels(endpoint, op.rawValue).set(0)
    } else {
      self.duration.labels(endpoint, op.rawValue).observe(duration)
      self.success.labels(endpoint, op.rawValue).set(1)
    }
  }

  /// Records one operation's outcome from a call's error (nil when it succeeded).
  func record(endpoint: String, op: Operation, duration: Duration, error: (any Error)?) {
    record(endpoint: endpoint, op: op, duration: duration, failure: error.map(OperationFailure.init))
  }

  /// Removes the series of one operation of an endpoint (a learner serves no writes).
  func removeOperation(endpoint: String, op: Operation) {
    let matches = { (values: [String]) in values.count > 1 && values[0] == endpoint && values[1] == op.rawValue }
    self.attempts.removeAll(where: matches)
    self.failures.removeAll(where: matches)
    self.duration.removeAll(where: matches)
    self.success.removeAll(where: matches)
  }

  /// Removes every series of an endpoint: the member left the cluster, and its series must not stay at their
  /// last value.
  func removeEndpoint(_ endpoint: String) {
    families.removeSeries(ofCluster: cluster, whereLabel: "endpoint", is: endpoint)
  }
}
