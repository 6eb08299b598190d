import GRPCProtocol
import Tracing

/// Traces every RPC of a client: one client span per call (per opened stream for Watch and
/// LeaseKeepAlive), named after the method as OpenTelemetry's RPC conventions name it
/// (`etcdserverpb.KV/Put`), with the caller's span as its parent. The span's context goes to the
/// server as gRPC metadata through the tracer's `inject` (W3C `traceparent` and `tracestate` with
/// an OpenTelemetry tracer), so a traced etcd joins the trace.
///
/// Turned on by `EtcdClient.Configuration.tracer`: the client puts this interceptor first, before
/// the auth token's and the configured ones, and starts the span before any interceptor's
/// `callStarted`, so every interceptor sees it as `ClientCallInfo.span` (the metrics interceptor
/// takes its exemplars' trace and span IDs from it). Hooks at the end run in reverse order, so this
/// one ends the span last, after the others have read it. With no tracer configured, nothing of
/// this runs.
///
/// Attributes: `rpc.system` (`grpc`), `rpc.service`, `rpc.method`, `server.address` and
/// `server.port` (of the endpoint that served the call, the last one tried),
/// `rpc.grpc.status_code`, and on failure `etcd.error.code` (the `EtcdError.Code` name, e.g.
/// `empty_key`) with the span's status set to error. Never a key, value, token or password: nothing
/// of a request or response message is read. Each retry of a unary call is an `etcd.retry` event; a
/// stream the client reopens after a failure starts its span with an `etcd.stream.resumed` event.
///
/// A class, so that the client's `TracingInterceptor?` is a nullable reference: a struct holding
/// `any Tracer` would be tested for nil through value witnesses on every call, traced or not.
final class TracingInterceptor: ClientInterceptor, Sendable {
  /// The tracer the spans go to.
  let tracer: any Tracer

  /// Span names per method, at its `RPCMethod.index`: built once, not per call.
  private let spanNames: [String]

  /// Creates an interceptor that traces with `tracer`.
  init(tracer: any Tracer) {
    self.tracer = tracer
    spanNames = RPCMethod.all.map { "\($0.service)/\($0.method)" }
  }

  /// Starts the span of a call to `method` on `endpoint`, a child of the task's current span, and
  /// injects its context into `metadata`.
  ///
  /// - Parameter resumption: for a stream the client reopens after a failure, how many times it has
  ///   been reopened; 0 for every other call.
  func startSpan(
    _ method: RPCMethod, endpoint: String, resumption: Int = 0, metadata: inout ClientMetadata
  ) -> CallSpan {
    let parent = ServiceContext.current ?? .topLevel
    let span = tracer.startAnySpan(spanNames[method.index], context: parent, ofKind: .client)
    // A span that records nothing (a sampled-out one, the no-op tracer's) gets no attributes or
    // events: building them would only allocate.
    guard span.isRecording else {
      tracer.inject(span.context, into: &metadata, using: ClientMetadataInjector())
      return CallSpan(span)
    }
    span.updateAttributes { attributes in
      attributes["rpc.system"] = "grpc"
      attributes["rpc.service"] = method.service
      attributes["rpc.method"] = method.method
      Self.setServer(endpoint, in: &attributes)
    }
    if resumption > 0 {
      let attributes: SpanAttributes = ["etcd.stream.resumptions": .int(Int64(resumption))]
      span.addEvent(SpanEvent(name: "etcd.stream.resumed", attributes: attributes))
    }
    tracer.inject(span.context, into: &metadata, using: ClientMetadataInjector())
    return CallSpan(span)
  }

  func attemptFinished(_ call: ClientCallInfo, attempt: ClientAttempt) {
    guard attempt.number > 0, let span = call.traced?.span, span.isRecording else { return }
    var attributes: SpanAttributes = [
      "etcd.attempt": .int(Int64(attempt.number)),
      "rpc.grpc.status_code": .int(Int64(attempt.status.code.rawValue)),
    ]
    Self.setServer(attempt.endpoint, in: &attributes)
    // The event is stamped with the retry's start: its end is now, and its duration is known; never
    // before the call's start.
    let now = DefaultTracerClock.now.nanosecondsSinceEpoch
    let sinceStart = UInt64(clamping: min(attempt.durationNanoseconds, call.elapsed()))
    let start = now &- sinceStart
    let instant = EpochInstant(nanosecondsSinceEpoch: start)
    span.addEvent(SpanEvent(name: "etcd.retry", at: instant, attributes: attributes))
  }

  func callFinished(_ call: ClientCallInfo, outcome: ClientCallOutcome) {
    guard let span = call.traced?.span else { return }
    guard span.isRecording else {
      span.end()
      return
    }
    let code = outcome.status.code
    span.updateAttributes { attributes in
      attributes["rpc.grpc.status_code"] = code.rawValue
      if !outcome.endpoint.isEmpty, outcome.endpoint != call.endpoint {
        Self.setServer(outcome.endpoint, in: &attributes)
      }
      if let error = outcome.error {
        attributes["etcd.error.code"] = error.code.name
      }
    }
    if code != .ok {
      // The message names the error, and is not the server's text, which may quote the request.
      span.setStatus(
        SpanStatus(code: .error, message: outcome.error?.code.name ?? code.description))
    }
    span.end()
  }

  /// Sets `server.address` and `server.port` from an endpoint as configured (`host:port`,
  /// `scheme://host:port`, `[v6]:port`), which the client has already validated: a plain split, as
  /// `Endpoint(parsing:)` costs tens of thousands of instructions, too many for every call.
  static func setServer(_ endpoint: String, in attributes: inout SpanAttributes) {
    var rest = Substring(endpoint)
    if let scheme = rest.firstRange(of: "://") { rest = rest[scheme.upperBound...] }
    if rest.hasSuffix("/") { rest = rest.dropLast() }
    guard let colon = rest.lastIndex(of: ":"), let port = Int(rest[rest.index(after: colon)...])
    else {
      attributes["server.address"] = String(rest)
      return
    }
    var host = rest[..<colon]
    if host.hasPrefix("["), host.hasSuffix("]") { host = host.dropFirst().dropLast() }
    attributes["server.address"] = String(host)
    attributes["server.port"] = port
  }
}

/// A point in time as nanoseconds since the Unix epoch, for a span event stamped in the past.
private struct EpochInstant: TracerInstant {
  let nanosecondsSinceEpoch: UInt64

  static func < (lhs: EpochInstant, rhs: EpochInstant) -> Bool {
    lhs.nanosecondsSinceEpoch < rhs.nanosecondsSinceEpoch
  }
}
