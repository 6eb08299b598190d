import EtcdClient
import EtcdMetrics
import Foundation
import Logging
import Synchronization

/// One `/probe` round against a target it was given: a fresh client with the module's TLS and credentials, one
/// round of the module's operations (a member's for one endpoint, the cluster's for several), the key and
/// lease removed, the client closed. Each call may take a third of the request's deadline, so one that hangs
/// leaves time for the answer to say so; at the deadline the rest is cancelled.
struct TargetProbeRound: Sendable {
  /// What one round found.
  struct Outcome: Sendable {
    /// Whether every operation succeeded.
    var success: Bool
    /// How long the round took.
    var duration: Duration
    /// Each operation's result, in the probe's operation order.
    var results: [(op: ProbeMetrics.Operation, result: OperationResult)]
    /// Why the target could not be probed at all (no client could be made), or nil.
    var setupFailure: String?
  }

  /// Numbers each round, so concurrent rounds against one target use keys of their own.
  private static let sequence = Atomic<Int>(0)

  let request: ProbeRequest
  let logger: Logger

  /// Runs the round.
  func run() async -> Outcome {
    let started = ContinuousClock.now
    let module = request.module
    let client: EtcdClient
    do {
      var configuration = try module.client.clientConfiguration(endpoints: request.endpoints, owner: module.name)
      configuration.dialTimeout = min(module.dialTimeout, request.deadline)
      configuration.defaultRequestTimeout = request.deadline
      client = try EtcdClient(configuration: configuration)
    } catch {
      return Outcome(
        success: false, duration: ContinuousClock.now - started, results: [], setupFailure: "\(error)")
    }
    let number = Self.sequence.wrappingAdd(1, ordering: .relaxed).newValue
    let single = request.endpoints.count == 1
    let target = request.endpoints.compactMap(EndpointLabel.of).joined(separator: ",")
    // The round's series go to a registry of its own, dropped with it: `/metrics` never grows a series per
    // target asked for.
    let metrics = ProbeMetrics(families: ProbeMetricFamilies(registry: MetricsRegistry()), cluster: "probe")
    let prober = TargetProber(
      name: "r\(number)", client: client, isMember: single, metrics: metrics, logger: logger,
      keyPrefix: module.keyPrefix + "probe/" + ClusterProbe.keySafe(target) + "/", valueSize: module.valueSize,
      timeout: max(request.deadline / 3, .milliseconds(100)), operations: module.operations)
    // At the deadline the round is cancelled: the calls under way end at once as cancelled, and the results
    // recorded so far (the failure that held the round up among them) are the answer.
    let deadline = request.deadline
    let round = Task(executorPreference: client.taskExecutor) { await prober.runRound() }
    let timer = Task {
      try? await Task.sleep(for: deadline)
      round.cancel()
    }
    let results = await round.value
    timer.cancel()
    let duration = ContinuousClock.now - started
    // The key and lease go after the answer: the scrape does not wait for them (the lease expires by itself
    // within its ten-second TTL if the process ends first).
    Task { await prober.shutdown() }
    var ordered = ProbeMetrics.Operation.allCases.compactMap { op in results[op].map { (op, $0) } }
    if ordered.isEmpty {
      // The deadline passed before the round ended: the round's first operation is the one that did not finish.
      let op = ProbeMetrics.Operation.allCases.first { module.operations.contains($0) && $0 != .memberList } ?? .put
      ordered = [
        (
          op,
          OperationResult(
            at: Date(), duration: duration,
            failure: OperationFailure(
              code: GRPCStatusCode.deadlineExceeded.goName, reason: EtcdError.Code.deadlineExceeded.name,
              message: "the round did not finish within \(deadline)"))
        )
      ]
    }
    return Outcome(
      success: ordered.allSatisfy { $0.1.failure == nil }, duration: duration, results: ordered, setupFailure: nil)
  }

  /// The round as the `/probe` answer's metrics: `probe_success`, `probe_duration_seconds`, and per operation
  /// `probe_etcd_operation_success`, `probe_etcd_operation_duration_seconds` and, for a failure,
  /// `probe_etcd_operation_failure_info{code, reason}`.
  static func registry(of outcome: Outcome) -> MetricsRegistry {
    let registry = MetricsRegistry()
    registry.makeGauge(name: "probe_success", help: "Whether the probe of the target succeeded (1) or not (0).")
      .set(outcome.success ? 1 : 0)
    registry.makeGauge(name: "probe_duration_seconds", help: "How long the probe of the target took.")
      .set(Self.seconds(outcome.duration))
    let success = registry.makeGaugeFamily(
      name: "probe_etcd_operation_success", help: "Whether the operation succeeded in this probe (1) or not (0).",
      labelNames: ["op"])
    let duration = registry.makeGaugeFamily(
      name: "probe_etcd_operation_duration_seconds", help: "How long the operation took in this probe.",
      labelNames: ["op"])
    let failure = registry.makeGaugeFamily(
      name: "probe_etcd_operation_failure_info",
      help: "Why the operation failed in this probe: its gRPC code and etcd error or failed check; always 1.",
      labelNames: ["op", "code", "reason"])
    for (op, result) in outcome.results {
      success.labels(op.rawValue).set(result.failure == nil ? 1 : 0)
      duration.labels(op.rawValue).set(Self.seconds(result.duration))
      if let problem = result.failure { failure.labels(op.rawValue, problem.code, problem.reason).set(1) }
    }
    return registry
  }

  static func seconds(_ duration: Duration) -> Double {
    let components = duration.components
    return Double(components.seconds) + Double(components.attoseconds) / 1e18
  }
}
