public import EtcdClient
import Synchronization

/// Records every RPC of an `EtcdClient` as Prometheus metrics: go-grpc-prometheus' client families (with
/// `grpc_code` added to the latency histogram), per-message sizes, gRFC A66's per-attempt and per-call families,
/// calls in flight, and an `etcd_error` label that names etcd's error for failures.
///
/// ```swift
/// let registry = MetricsRegistry()
/// var configuration = EtcdClient.Configuration(endpoints: ["127.0.0.1:2379"])
/// configuration.interceptors = [RPCMetricsInterceptor(registry: registry)]
/// let client = try EtcdClient(configuration: configuration)
/// ```
///
/// Creating one registers its families in `registry`, so make one per registry and give the same interceptor
/// to every client that should report there. Label handles are resolved once per method, endpoint and outcome
/// and cached, so recording a call costs two short lock acquisitions and a few atomic increments.
public struct RPCMetricsInterceptor: ClientInterceptor {
  /// What the interceptor records, beyond the fixed families.
  public struct Options: Sendable {
    /// Add the endpoint that served the call as `etcd_endpoint` (bounded by the configured endpoints).
    /// Default: true.
    public var endpointLabel: Bool = true
    /// The value of A66's call-level `grpc_target` label. Default: "etcd".
    public var target: String = "etcd"
    /// Where exemplars come from: e.g. `.serviceContext(TraceIDKey.self, labelName: "trace_id")` when a
    /// tracer puts trace ids in the task's `ServiceContext`. The latency histograms then keep the latest
    /// exemplar per bucket, shown in OpenMetrics and protobuf scrapes. Default: none.
    public var exemplars: ExemplarProvider = .none

    /// Creates options with the defaults.
    public init(endpointLabel: Bool = true, target: String = "etcd", exemplars: ExemplarProvider = .none) {
      self.endpointLabel = endpointLabel
      self.target = target
      self.exemplars = exemplars
    }
  }

  private let recorder: RPCMetricsRecorder

  /// Registers the families in `registry` and returns an interceptor that records into them.
  ///
  /// - Precondition: the registry has none of these families yet.
  public init(registry: MetricsRegistry, options: Options = Options()) {
    recorder = RPCMetricsRecorder(registry: registry, options: options)
  }

  public func callStarted(_ call: ClientCallInfo, metadata: inout ClientMetadata) {
    recorder.started(call)
  }

  public func messageSent(_ call: ClientCallInfo, size: Int) {
    recorder.messageSent(call, size: size)
  }

  public func messageReceived(_ call: ClientCallInfo, size: Int) {
    recorder.messageReceived(call, size: size)
  }

  public func attemptFinished(_ call: ClientCallInfo, attempt: ClientAttempt) {
    recorder.attemptFinished(call, attempt: attempt)
  }

  public func callFinished(_ call: ClientCallInfo, outcome: ClientCallOutcome) {
    recorder.finished(call, outcome: outcome)
  }
}

/// The families and the caches of resolved label handles.
final class RPCMetricsRecorder: Sendable {
  typealias Names = RPCMetricsNames

  private let options: RPCMetricsInterceptor.Options
  private let started: MetricFamily<Counter>
  private let handled: MetricFamily<Counter>
  private let messagesSent: MetricFamily<Counter>
  private let messagesReceived: MetricFamily<Counter>
  private let handlingSeconds: MetricFamily<Histogram>
  private let sentBytes: MetricFamily<Histogram>
  private let receivedBytes: MetricFamily<Histogram>
  private let inFlight: MetricFamily<Gauge>
  private let attemptStarted: MetricFamily<Counter>
  private let attemptDuration: MetricFamily<Histogram>
  private let attemptSentSize: MetricFamily<Histogram>
  private let attemptReceivedSize: MetricFamily<Histogram>
  private let callDuration: MetricFamily<Histogram>
  /// Registered so dashboards find it; recorded once calls are retried (A96 records no zero).
  private let callRetries: MetricFamily<Histogram>

  /// Handles that depend on the method and endpoint only.
  private struct CallHandles: Sendable {
    let started: Counter
    let messagesSent: Counter
    let messagesReceived: Counter
    let sentBytes: Histogram
    let receivedBytes: Histogram
    let inFlight: Gauge
    let attemptStarted: Counter
  }

  /// Handles that also depend on the outcome.
  private struct OutcomeHandles: Sendable {
    let handled: Counter
    let handlingSeconds: Histogram
    let callDuration: Histogram
  }

  /// Handles of one attempt's outcome.
  private struct AttemptHandles: Sendable {
    let duration: Histogram
    let sentSize: Histogram
    let receivedSize: Histogram
  }

  private struct AttemptKey: Hashable, Sendable {
    let method: Int
    let endpoint: String
    let status: String
  }

  private struct CallKey: Hashable, Sendable {
    let method: Int
    let endpoint: String
  }

  private struct OutcomeKey: Hashable, Sendable {
    let method: Int
    let endpoint: String
    let code: GRPCStatusCode
    let etcdError: String
  }

  private let callHandles = Mutex<[CallKey: CallHandles]>([:])
  private let outcomeHandles = Mutex<[OutcomeKey: OutcomeHandles]>([:])
  private let attemptHandleCache = Mutex<[AttemptKey: AttemptHandles]>([:])

  init(registry: MetricsRegistry, options: RPCMetricsInterceptor.Options) {
    self.options = options
    let endpoint = options.endpointLabel ? [Names.endpoint] : []
    let base = [Names.type, Names.service, Names.method] + endpoint
    started = registry.makeCounterFamily(
      name: Names.started, help: Names.startedHelp, labelNames: base)
    handled = registry.makeCounterFamily(
      name: Names.handled, help: Names.handledHelp,
      labelNames: base + [Names.code, Names.etcdError])
    messagesSent = registry.makeCounterFamily(
      name: Names.messagesSent, help: Names.messagesSentHelp, labelNames: base)
    messagesReceived = registry.makeCounterFamily(
      name: Names.messagesReceived, help: Names.messagesReceivedHelp, labelNames: base)
    handlingSeconds = registry.makeHistogramFamily(
      name: Names.handlingSeconds, help: Names.handlingSecondsHelp,
      labelNames: base + [Names.code], buckets: Names.latencyBuckets)
    sentBytes = registry.makeHistogramFamily(
      name: Names.sentBytes, help: Names.sentBytesHelp, labelNames: base,
      buckets: Names.messageSizeBuckets)
    receivedBytes = registry.makeHistogramFamily(
      name: Names.receivedBytes, help: Names.receivedBytesHelp, labelNames: base,
      buckets: Names.messageSizeBuckets)
    inFlight = registry.makeGaugeFamily(
      name: Names.inFlight, help: Names.inFlightHelp, labelNames: base)
    attemptStarted = registry.makeCounterFamily(
      name: Names.attemptStarted, help: Names.attemptStartedHelp,
      labelNames: [Names.method, Names.target])
    attemptDuration = registry.makeHistogramFamily(
      name: Names.attemptDuration, help: Names.attemptDurationHelp,
      labelNames: [Names.method, Names.target, Names.status], buckets: Names.latencyBuckets)
    attemptSentSize = registry.makeHistogramFamily(
      name: Names.attemptSentSize, help: Names.attemptSentSizeHelp,
      labelNames: [Names.method, Names.target, Names.status], buckets: Names.attemptSizeBuckets)
    attemptReceivedSize = registry.makeHistogramFamily(
      name: Names.attemptReceivedSize, help: Names.attemptReceivedSizeHelp,
      labelNames: [Names.method, Names.target, Names.status], buckets: Names.attemptSizeBuckets)
    callDuration = registry.makeHistogramFamily(
      name: Names.callDuration, help: Names.callDurationHelp,
      labelNames: [Names.method, Names.target, Names.status], buckets: Names.latencyBuckets)
    callRetries = registry.makeHistogramFamily(
      name: Names.callRetries, help: Names.callRetriesHelp,
      labelNames: [Names.method, Names.target], buckets: Names.retryBuckets)
  }

  // MARK: - Recording

  func started(_ call: ClientCallInfo) {
    let handles = self.handles(for: call)
    handles.started.increment()
    handles.attemptStarted.increment()
    handles.inFlight.increment()
  }

  func messageSent(_ call: ClientCallInfo, size: Int) {
    let handles = self.handles(for: call)
    handles.messagesSent.increment()
    handles.sentBytes.observe(Double(size))
  }

  func messageReceived(_ call: ClientCallInfo, size: Int) {
    let handles = self.handles(for: call)
    handles.messagesReceived.increment()
    handles.receivedBytes.observe(Double(size))
  }

  func attemptFinished(_ call: ClientCallInfo, attempt: ClientAttempt) {
    let method = a66Method(call.method)
    let status = attempt.status.code.description
    if attempt.number > 0 {
      // A retry's start is counted when it ends: the first attempt is counted in `started`.
      attemptStarted.labels(method, attempt.endpoint).increment()
    }
    let handles = attemptHandles(method: call.method, endpoint: attempt.endpoint, status: status)
    handles.duration.observe(attempt.duration)
    handles.sentSize.observe(Double(attempt.bytesSent))
    handles.receivedSize.observe(Double(attempt.bytesReceived))
  }

  func finished(_ call: ClientCallInfo, outcome: ClientCallOutcome) {
    self.handles(for: call).inFlight.decrement()
    let handles = self.handles(for: call, outcome: outcome)
    handles.handled.increment()
    // Unary calls finish on the calling task, so a trace id in its ServiceContext is still there.
    handles.handlingSeconds.observe(outcome.duration, exemplarFrom: options.exemplars)
    handles.callDuration.observe(outcome.duration, exemplarFrom: options.exemplars)
    if outcome.attempts > 1 {
      callRetries.labels(a66Method(call.method), options.target).observe(Double(outcome.attempts - 1))
    }
  }

  // MARK: - Handles

  private func baseLabels(_ call: ClientCallInfo) -> [String] {
    let method = call.method
    let labels = [method.type.rawValue, method.service, method.method]
    return options.endpointLabel ? labels + [call.endpoint] : labels
  }

  /// A66 names the method `service/method`.
  private func a66Method(_ method: RPCMethod) -> String { "\(method.service)/\(method.method)" }

  private func handles(for call: ClientCallInfo) -> CallHandles {
    let key = CallKey(method: call.method.index, endpoint: options.endpointLabel ? call.endpoint : "")
    if let cached = callHandles.withLock({ $0[key] }) { return cached }
    let labels = baseLabels(call)
    let resolved = CallHandles(
      started: started.labels(labels),
      messagesSent: messagesSent.labels(labels),
      messagesReceived: messagesReceived.labels(labels),
      sentBytes: sentBytes.labels(labels),
      receivedBytes: receivedBytes.labels(labels),
      inFlight: inFlight.labels(labels),
      attemptStarted: attemptStarted.labels(a66Method(call.method), call.endpoint)
    )
    callHandles.withLock { $0[key] = resolved }
    return resolved
  }

  /// Outcome handles; the endpoint label is the member that served the call (the last attempt's).
  private func handles(for call: ClientCallInfo, outcome: ClientCallOutcome) -> OutcomeHandles {
    let code = outcome.status.code
    let etcdError = outcome.error.map(\.code.name) ?? ""
    let endpoint = outcome.endpoint.isEmpty ? call.endpoint : outcome.endpoint
    let key = OutcomeKey(
      method: call.method.index,
      endpoint: options.endpointLabel ? endpoint : "",
      code: code,
      etcdError: etcdError
    )
    if let cached = outcomeHandles.withLock({ $0[key] }) { return cached }
    let method = call.method
    var labels = [method.type.rawValue, method.service, method.method]
    if options.endpointLabel { labels.append(endpoint) }
    let resolved = OutcomeHandles(
      handled: handled.labels(labels + [code.goName, etcdError]),
      handlingSeconds: handlingSeconds.labels(labels + [code.goName]),
      callDuration: callDuration.labels(a66Method(method), options.target, code.description)
    )
    outcomeHandles.withLock { $0[key] = resolved }
    return resolved
  }

  private func attemptHandles(method: RPCMethod, endpoint: String, status: String) -> AttemptHandles {
    let key = AttemptKey(method: method.index, endpoint: endpoint, status: status)
    if let cached = attemptHandleCache.withLock({ $0[key] }) { return cached }
    let name = a66Method(method)
    let resolved = AttemptHandles(
      duration: attemptDuration.labels(name, endpoint, status),
      sentSize: attemptSentSize.labels(name, endpoint, status),
      receivedSize: attemptReceivedSize.labels(name, endpoint, status)
    )
    attemptHandleCache.withLock { $0[key] = resolved }
    return resolved
  }
}
