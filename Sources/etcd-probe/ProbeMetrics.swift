import EtcdClient
import EtcdMetrics

/// Every metric the probe exports: names, help texts, labels and buckets in one place.
///
/// Labels stay bounded: `endpoint` is a member's `host:port` (`EndpointLabel`) or `cluster` (the client over
/// all of them), `op` is one of `Operation`, `code`/`reason` come from the gRPC code and etcd's typed error or
/// the failed answer check (`AnswerFailure`, with `code="OK"`). Member ids are hex label values on info-style
/// series, never sample values (a 64-bit id does not survive a float64). Keys never become labels. A member
/// that leaves the cluster takes its series with it (`removeEndpoint(_:)`).
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
  let hashCheckRetries: Counter
  let raftTerm: MetricFamily<Gauge>
  let raftIndex: MetricFamily<Gauge>
  let raftAppliedIndex: MetricFamily<Gauge>
  let dbSize: MetricFamily<Gauge>
  let dbSizeInUse: MetricFamily<Gauge>
  let alarm: MetricFamily<Gauge>
  let info: MetricFamily<Gauge>
  let leaderChanges: Counter
  let clusterMembers: Gauge
  let hashMismatch: MetricFamily<Gauge>
  let hashChecks: Counter
  let watchResumes: MetricFamily<Counter>
  let watchCompactions: MetricFamily<Counter>
  let watchClusterChanges: MetricFamily<Counter>
  let watchProgressLag: MetricFamily<Gauge>
  let rounds: Counter

  init(registry: MetricsRegistry) {
    let endpointOp = ["endpoint", "op"]
    duration = registry.makeHistogramFamily(
      name: "etcd_probe_duration_seconds",
      help: "Duration of successful probe operations, by endpoint and operation.",
      labelNames: endpointOp, buckets: Self.latencyBuckets, native: NativeHistogramOptions())
    watchDelay = registry.makeHistogramFamily(
      name: "etcd_probe_watch_delay_seconds",
      help: "Delay from a probe put being acknowledged to its event arriving on a watch open on that endpoint.",
      labelNames: ["endpoint"], buckets: Self.latencyBuckets, native: NativeHistogramOptions())
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
      labelNames: ["endpoint"])
    leaderInfo = registry.makeGaugeFamily(
      name: "etcd_probe_endpoint_leader_info",
      help: "The leader as the member sees it, as a hex member id label; always 1, absent while it sees none.",
      labelNames: ["endpoint", "leader_id"])
    serializableLag = registry.makeGaugeFamily(
      name: "etcd_probe_serializable_lag_revisions",
      help: "Revisions between the probe's latest put and the revision a serializable read was answered from.",
      labelNames: ["endpoint"])
    compactRevision = registry.makeGaugeFamily(
      name: "etcd_probe_endpoint_compact_revision",
      help: "The member's compact revision, as its last HashKV answer reported it.",
      labelNames: ["endpoint"])
    hashCheckOutcomes = registry.makeCounterFamily(
      name: "etcd_probe_hash_check_outcomes_total",
      help: "Consistency checks by outcome: agreed, mismatch (confirmed at equal revision and compact revision), "
        + "not_comparable (compactions kept members apart through every retry) or error (a member did not answer).",
      labelNames: ["outcome"])
    hashCheckRetries = registry.makeCounter(
      name: "etcd_probe_hash_check_retries_total",
      help: "HashKV rounds asked again at a fresh revision because some members could not be compared: different "
        + "compact revisions, or the revision compacted or not yet applied on a member.")
    raftTerm = registry.makeGaugeFamily(
      name: "etcd_probe_endpoint_raft_term", help: "The member's raft term.", labelNames: ["endpoint"])
    raftIndex = registry.makeGaugeFamily(
      name: "etcd_probe_endpoint_raft_index", help: "The member's raft index.", labelNames: ["endpoint"])
    raftAppliedIndex = registry.makeGaugeFamily(
      name: "etcd_probe_endpoint_raft_applied_index", help: "The member's applied raft index.",
      labelNames: ["endpoint"])
    dbSize = registry.makeGaugeFamily(
      name: "etcd_probe_endpoint_db_size_bytes", help: "The member's backend database size.",
      labelNames: ["endpoint"])
    dbSizeInUse = registry.makeGaugeFamily(
      name: "etcd_probe_endpoint_db_size_in_use_bytes",
      help: "The part of the member's database in use (the rest is freed by defragmentation).",
      labelNames: ["endpoint"])
    alarm = registry.makeGaugeFamily(
      name: "etcd_probe_endpoint_alarm", help: "Alarms raised on the member (1 when raised).",
      labelNames: ["endpoint", "alarm"])
    info = registry.makeGaugeFamily(
      name: "etcd_probe_endpoint_info", help: "The member's version, hex member id and whether it is a learner; always 1.",
      labelNames: ["endpoint", "version", "member_id", "learner"])
    leaderChanges = registry.makeCounter(
      name: "etcd_probe_leader_changes_total", help: "Leader changes the probe has seen.")
    clusterMembers = registry.makeGauge(
      name: "etcd_probe_cluster_members", help: "Members in the cluster's member list.")
    hashMismatch = registry.makeGaugeFamily(
      name: "etcd_probe_hash_mismatch",
      help: "Whether the member's HashKV differs from the others' at the same revision and compact revision (1) "
        + "or not (0): set only on a confirmed mismatch.",
      labelNames: ["endpoint"])
    hashChecks = registry.makeCounter(
      name: "etcd_probe_hash_checks_total", help: "Consistency checks (HashKV of every member) run.")
    watchResumes = registry.makeCounterFamily(
      name: "etcd_probe_watch_resumes_total",
      help: "Times the probe's watch stream was re-established after it broke.", labelNames: ["endpoint"])
    watchCompactions = registry.makeCounterFamily(
      name: "etcd_probe_watch_compactions_total",
      help: "Times the probe's watch was cancelled by a compaction and re-created.",
      labelNames: ["endpoint"])
    watchClusterChanges = registry.makeCounterFamily(
      name: "etcd_probe_watch_cluster_changes_total",
      help: "Times the probe's watch resumed on a server with another cluster id and was re-created from now.",
      labelNames: ["endpoint"])
    watchProgressLag = registry.makeGaugeFamily(
      name: "etcd_probe_watch_progress_lag_revisions",
      help: "Revisions between the probe's latest write and the latest revision its watch has reported.",
      labelNames: ["endpoint"])
    rounds = registry.makeCounter(name: "etcd_probe_rounds_total", help: "Probe rounds run.")
  }

  /// Records one operation's outcome.
  func record(endpoint: String, op: Operation, duration: Duration, failure: OperationFailure?) {
    attempts.labels(endpoint, op.rawValue).increment()
    if let failure {
      failures.labels(endpoint, op.rawValue, failure.code, failure.reason).increment()
      success.labels(endpoint, op.rawValue).set(0)
    } else {
      self.duration.labels(endpoint, op.rawValue).observe(duration)
      success.labels(endpoint, op.rawValue).set(1)
    }
  }

  /// Records one operation's outcome from a call's error (nil when it succeeded).
  func record(endpoint: String, op: Operation, duration: Duration, error: (any Error)?) {
    record(endpoint: endpoint, op: op, duration: duration, failure: error.map(OperationFailure.init))
  }

  /// Removes the series of one operation of an endpoint (a learner serves no writes).
  func removeOperation(endpoint: String, op: Operation) {
    let matches = { (values: [String]) in values[0] == endpoint && values[1] == op.rawValue }
    attempts.removeAll(where: matches)
    failures.removeAll(where: matches)
    duration.removeAll(where: matches)
    success.removeAll(where: matches)
  }

  /// Removes every series of an endpoint: the member left the cluster, and its series must not stay at their
  /// last value.
  func removeEndpoint(_ endpoint: String) {
    for family in [duration, watchDelay] { family.removeAll(whereLabel: "endpoint", is: endpoint) }
    for family in [attempts, failures, watchResumes, watchCompactions, watchClusterChanges] {
      family.removeAll(whereLabel: "endpoint", is: endpoint)
    }
    for family in [
      success, isLeader, leaderInfo, raftTerm, raftIndex, raftAppliedIndex, dbSize, dbSizeInUse, alarm, info,
      hashMismatch, watchProgressLag, serializableLag, compactRevision,
    ] {
      family.removeAll(whereLabel: "endpoint", is: endpoint)
    }
  }
}
