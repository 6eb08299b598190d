public import EtcdClient
public import PrometheusMetrics
import Synchronization
import Tracing

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
/// and kept in a slot per method, so a hook finds its series without a lock, hashing, building a label string
/// or reference counting: recording a call costs an atomic load and a short search per hook, and the series'
/// atomic updates.
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
    ///
    /// When the client traces calls (`EtcdClient.Configuration.tracer`), the provider reads the context
    /// of the call's own span (`ClientCallInfo.span`) as `ServiceContext.current`, so an exemplar names
    /// that span, for streams too; otherwise it reads the context of the task the call ends on.
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

  /// Counts the call and its first attempt as started, and the call as in flight.
  public func callStarted(_ call: ClientCallInfo, metadata: inout ClientMetadata) {
    recorder.started(call)
  }

  /// Counts the sent message and records its size.
  public func messageSent(_ call: ClientCallInfo, size: Int) {
    recorder.messageSent(call, size: size)
  }

  /// Counts the received message and records its size.
  public func messageReceived(_ call: ClientCallInfo, size: Int) {
    recorder.messageReceived(call, size: size)
  }

  /// Records the attempt in the gRFC A66 per-attempt families.
  public func attemptFinished(_ call: ClientCallInfo, attempt: ClientAttempt) {
    recorder.attemptFinished(call, attempt: attempt)
  }

  /// Records the call's outcome and latency, and takes it out of flight.
  public func callFinished(_ call: ClientCallInfo, outcome: ClientCallOutcome) {
    recorder.finished(call, outcome: outcome)
  }
}

/// The families, and the series resolved so far for each method.
///
/// A hook finds its series without hashing, building a string or taking a lock: methods have dense indexes,
/// so each has a slot of its own (`slots[call.method.index]`) publishing an immutable snapshot of short lists
/// per kind of series, searched by endpoint (and code) with plain comparisons. Label strings are made once,
/// when a series is first resolved, and a new snapshot is published under the slot's lock. Series and
/// snapshots are never dropped while the recorder lives, so they are handed out unretained: a hook costs an
/// atomic load, its search and its metric updates, and no reference counting.
final class RPCMetricsRecorder: @unchecked Sendable {
  // @unchecked Sendable: `slots` is allocated in init and freed in deinit; a slot is read through its atomic
  // and written under its mutex. Everything else is immutable.
  typealias Names = RPCMetricsNames

  private let endpointLabel: Bool
  private let target: String
  private let exemplars: ExemplarProvider
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
  /// Label values per method, at its `RPCMethod.index`.
  private let names: [MethodNames]
  /// The series resolved per method, at its `RPCMethod.index`.
  private let slots: UnsafeMutablePointer<MethodSlot>

  init(registry: MetricsRegistry, options: RPCMetricsInterceptor.Options) {
    endpointLabel = options.endpointLabel
    target = options.target
    exemplars = options.exemplars
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
    names = RPCMethod.all.enumerated().map { index, method in
      precondition(method.index == index, "RPCMethod.all is not ordered by index")
      return MethodNames(method)
    }
    slots = .allocate(capacity: names.count)
    for index in names.indices {
      (slots + index).initialize(to: MethodSlot())
    }
  }

  deinit {
    slots.deinitialize(count: names.count)
    slots.deallocate()
  }

  // MARK: - Recording

  func started(_ call: ClientCallInfo) {
    callSeries(call)._withUnsafeGuaranteedRef { series in
      series.started.increment()
      series.attemptStarted.increment()
      series.inFlight.increment()
    }
  }

  func messageSent(_ call: ClientCallInfo, size: Int) {
    callSeries(call)._withUnsafeGuaranteedRef { series in
      series.messagesSent.increment()
      series.sentBytes.observe(Double(size))
    }
  }

  func messageReceived(_ call: ClientCallInfo, size: Int) {
    callSeries(call)._withUnsafeGuaranteedRef { series in
      series.messagesReceived.increment()
      series.receivedBytes.observe(Double(size))
    }
  }

  func attemptFinished(_ call: ClientCallInfo, attempt: ClientAttempt) {
    let index = call.method.index
    if attempt.number > 0 {
      // A retry's start is counted when it ends: the first attempt is counted in `started`.
      attemptStarted.labels(names[index].a66Name, attempt.endpoint).increment()
    }
    let code = attempt.status.code
    let found = slots[index].read { $0.attempt(endpoint: attempt.endpoint, code: code) }
    let resolved = found ?? resolveAttempt(index: index, endpoint: attempt.endpoint, code: code)
    let seconds = Double(attempt.durationNanoseconds) * 1e-9
    resolved._withUnsafeGuaranteedRef { series in
      series.duration.observe(seconds)
      series.sentSize.observe(Double(attempt.bytesSent))
      series.receivedSize.observe(Double(attempt.bytesReceived))
    }
  }

  func finished(_ call: ClientCallInfo, outcome: ClientCallOutcome) {
    let index = call.method.index
    let code = outcome.status.code
    let etcdError = outcome.error?.code
    // The outcome's endpoint label is the member that served the call (the last attempt's).
    let served = endpointLabel ? (outcome.endpoint.isEmpty ? call.endpoint : outcome.endpoint) : ""
    let (foundCall, foundOutcome) = slots[index].read {
      (
        $0.call(endpoint: call.endpoint),
        $0.outcome(endpoint: served, code: code, etcdError: etcdError)
      )
    }
    (foundCall ?? resolveCall(call))._withUnsafeGuaranteedRef { $0.inFlight.decrement() }
    let resolved =
      foundOutcome
      ?? resolveOutcome(index: index, endpoint: served, code: code, etcdError: etcdError)
    // A traced call's exemplar names the call's own span: the provider reads the span's context as the
    // current one. Otherwise it reads the task's context: unary calls finish on the calling task, so a
    // trace id in its ServiceContext is still there.
    let seconds = Double(outcome.durationNanoseconds) * 1e-9
    let exemplar: [String: String]?
    if let span = call.span {
      exemplar = ServiceContext.$current.withValue(span.context) { exemplars() }
    } else {
      exemplar = exemplars()
    }
    resolved._withUnsafeGuaranteedRef { series in
      series.handled.increment()
      if let exemplar {
        series.handlingSeconds.observe(seconds, exemplar: exemplar)
        series.callDuration.observe(seconds, exemplar: exemplar)
      } else {
        series.handlingSeconds.observe(seconds)
        series.callDuration.observe(seconds)
      }
    }
    if outcome.attempts > 1 {
      callRetries.labels(names[index].a66Name, target).observe(Double(outcome.attempts - 1))
    }
  }

  // MARK: - Series

  /// The series of a call's method and first endpoint.
  ///
  /// Found by the endpoint even without `etcd_endpoint`: A66's `grpc_target` of a started attempt names it.
  @inline(__always)
  private func callSeries(_ call: ClientCallInfo) -> Unmanaged<CallSeries> {
    let endpoint = call.endpoint
    if let found = slots[call.method.index].read({ $0.call(endpoint: endpoint) }) { return found }
    return resolveCall(call)
  }

  private func resolveCall(_ call: ClientCallInfo) -> Unmanaged<CallSeries> {
    let index = call.method.index
    let endpoint = call.endpoint
    let labels = names[index].baseLabels + (endpointLabel ? [endpoint] : [])
    let series = CallSeries(
      started: started.labels(labels),
      messagesSent: messagesSent.labels(labels),
      messagesReceived: messagesReceived.labels(labels),
      sentBytes: sentBytes.labels(labels),
      receivedBytes: receivedBytes.labels(labels),
      inFlight: inFlight.labels(labels),
      attemptStarted: attemptStarted.labels(names[index].a66Name, endpoint)
    )
    return slots[index].add(series) { resolved in
      if let found = resolved.call(endpoint: endpoint) { return .found(found) }
      return .add(resolved.adding(series, endpoint: endpoint))
    }
  }

  private func resolveOutcome(
    index: Int, endpoint: String, code: GRPCStatusCode, etcdError: EtcdError.Code?
  ) -> Unmanaged<OutcomeSeries> {
    let labels = names[index].baseLabels + (endpointLabel ? [endpoint] : [])
    let series = OutcomeSeries(
      handled: handled.labels(labels + [code.goName, etcdError?.name ?? ""]),
      handlingSeconds: handlingSeconds.labels(labels + [code.goName]),
      callDuration: callDuration.labels(names[index].a66Name, target, code.description)
    )
    return slots[index].add(series) { resolved in
      if let found = resolved.outcome(endpoint: endpoint, code: code, etcdError: etcdError) {
        return .found(found)
      }
      return .add(resolved.adding(series, endpoint: endpoint, code: code, etcdError: etcdError))
    }
  }

  private func resolveAttempt(index: Int, endpoint: String, code: GRPCStatusCode)
    -> Unmanaged<AttemptSeries>
  {
    let name = names[index].a66Name
    let status = code.description
    let series = AttemptSeries(
      duration: attemptDuration.labels(name, endpoint, status),
      sentSize: attemptSentSize.labels(name, endpoint, status),
      receivedSize: attemptReceivedSize.labels(name, endpoint, status)
    )
    return slots[index].add(series) { resolved in
      if let found = resolved.attempt(endpoint: endpoint, code: code) { return .found(found) }
      return .add(resolved.adding(series, endpoint: endpoint, code: code))
    }
  }
}

/// One method's label values.
private struct MethodNames: Sendable {
  /// `grpc_type`, `grpc_service`, `grpc_method`.
  let baseLabels: [String]
  /// A66 names the method `service/method`.
  let a66Name: String

  init(_ method: RPCMethod) {
    baseLabels = [method.type.rawValue, method.service, method.method]
    a66Name = "\(method.service)/\(method.method)"
  }
}

/// The series that depend on a call's method and first endpoint.
private final class CallSeries: Sendable {
  let started: Counter
  let messagesSent: Counter
  let messagesReceived: Counter
  let sentBytes: Histogram
  let receivedBytes: Histogram
  let inFlight: Gauge
  let attemptStarted: Counter

  init(
    started: Counter, messagesSent: Counter, messagesReceived: Counter, sentBytes: Histogram,
    receivedBytes: Histogram, inFlight: Gauge, attemptStarted: Counter
  ) {
    self.started = started
    self.messagesSent = messagesSent
    self.messagesReceived = messagesReceived
    self.sentBytes = sentBytes
    self.receivedBytes = receivedBytes
    self.inFlight = inFlight
    self.attemptStarted = attemptStarted
  }
}

/// The series that also depend on how the call ended.
private final class OutcomeSeries: Sendable {
  let handled: Counter
  let handlingSeconds: Histogram
  let callDuration: Histogram

  init(handled: Counter, handlingSeconds: Histogram, callDuration: Histogram) {
    self.handled = handled
    self.handlingSeconds = handlingSeconds
    self.callDuration = callDuration
  }
}

/// The series of one attempt's end.
private final class AttemptSeries: Sendable {
  let duration: Histogram
  let sentSize: Histogram
  let receivedSize: Histogram

  init(duration: Histogram, sentSize: Histogram, receivedSize: Histogram) {
    self.duration = duration
    self.sentSize = sentSize
    self.receivedSize = receivedSize
  }
}

/// The series resolved for one method, by endpoint (and code): an immutable snapshot.
///
/// The lists are short (endpoints × codes seen), so a linear search with plain comparisons beats hashing
/// the endpoint. A new series makes a new snapshot (`adding`); the old one stays alive in its slot.
private final class ResolvedSeries: @unchecked Sendable {
  // @unchecked Sendable: immutable; the `Unmanaged` references point at series the slot keeps alive.
  struct CallEntry {
    let endpoint: String
    let series: Unmanaged<CallSeries>
  }

  struct OutcomeEntry {
    let endpoint: String
    let code: GRPCStatusCode
    let etcdError: EtcdError.Code?
    let series: Unmanaged<OutcomeSeries>
  }

  struct AttemptEntry {
    let endpoint: String
    let code: GRPCStatusCode
    let series: Unmanaged<AttemptSeries>
  }

  let calls: [CallEntry]
  let outcomes: [OutcomeEntry]
  let attempts: [AttemptEntry]
  /// The series this snapshot adds to the previous one.
  let added: AnyObject?

  init(
    calls: [CallEntry] = [], outcomes: [OutcomeEntry] = [], attempts: [AttemptEntry] = [],
    added: AnyObject? = nil
  ) {
    self.calls = calls
    self.outcomes = outcomes
    self.attempts = attempts
    self.added = added
  }

  // The searches index the arrays rather than iterate them: `for entry in` copies each entry out,
  // retaining and releasing its endpoint string.

  func call(endpoint: String) -> Unmanaged<CallSeries>? {
    for index in calls.indices where calls[index].endpoint == endpoint { return calls[index].series }
    return nil
  }

  func outcome(endpoint: String, code: GRPCStatusCode, etcdError: EtcdError.Code?)
    -> Unmanaged<OutcomeSeries>?
  {
    for index in outcomes.indices
    where outcomes[index].code == code && outcomes[index].etcdError == etcdError
      && outcomes[index].endpoint == endpoint
    {
      return outcomes[index].series
    }
    return nil
  }

  func attempt(endpoint: String, code: GRPCStatusCode) -> Unmanaged<AttemptSeries>? {
    for index in attempts.indices
    where attempts[index].code == code && attempts[index].endpoint == endpoint {
      return attempts[index].series
    }
    return nil
  }

  func adding(_ series: CallSeries, endpoint: String) -> ResolvedSeries {
    ResolvedSeries(
      calls: calls + [CallEntry(endpoint: endpoint, series: .passUnretained(series))],
      outcomes: outcomes, attempts: attempts, added: series)
  }

  func adding(
    _ series: OutcomeSeries, endpoint: String, code: GRPCStatusCode, etcdError: EtcdError.Code?
  ) -> ResolvedSeries {
    let entry = OutcomeEntry(
      endpoint: endpoint, code: code, etcdError: etcdError, series: .passUnretained(series))
    return ResolvedSeries(
      calls: calls, outcomes: outcomes + [entry], attempts: attempts, added: series)
  }

  func adding(_ series: AttemptSeries, endpoint: String, code: GRPCStatusCode) -> ResolvedSeries {
    let entry = AttemptEntry(endpoint: endpoint, code: code, series: .passUnretained(series))
    return ResolvedSeries(
      calls: calls, outcomes: outcomes, attempts: attempts + [entry], added: series)
  }
}

/// One method's slot: the latest snapshot, read without a lock, and every snapshot published so far.
///
/// Readers load `published` and use the snapshot unretained: nothing it points at is freed before the
/// recorder, because `history` keeps every snapshot (and, through `added`, every series). Writers publish
/// under `history`'s lock, so two resolutions never lose each other's series. Snapshots are made only when
/// a new label combination appears, so the history stays as small as the label cardinality.
private struct MethodSlot: ~Copyable {
  /// What `add`'s closure decided.
  enum Resolution<Series: AnyObject & Sendable> {
    /// The series was there already (resolved by a concurrent call).
    case found(Unmanaged<Series>)
    /// Publish this snapshot; its `added` is the new series.
    case add(ResolvedSeries)
  }

  private let published: Atomic<Unmanaged<ResolvedSeries>>
  private let history: Mutex<[ResolvedSeries]>

  init() {
    let empty = ResolvedSeries()
    published = Atomic(.passUnretained(empty))
    history = Mutex([empty])
  }

  /// Runs `body` on the latest snapshot, without a lock or a retain.
  @inline(__always)
  func read<Result>(_ body: (ResolvedSeries) -> Result) -> Result {
    published.load(ordering: .acquiring)._withUnsafeGuaranteedRef(body)
  }

  /// Publishes the snapshot `decide` makes from the latest one, unless it found the series there.
  func add<Series: AnyObject & Sendable>(
    _ series: Series, _ decide: (ResolvedSeries) -> Resolution<Series>
  ) -> Unmanaged<Series> {
    history.withLock { history in
      switch decide(history[history.count - 1]) {
      case .found(let found):
        return found
      case .add(let next):
        history.append(next)
        published.store(.passUnretained(next), ordering: .releasing)
        return .passUnretained(series)
      }
    }
  }
}
