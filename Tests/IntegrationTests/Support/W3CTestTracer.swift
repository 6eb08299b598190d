import InMemoryTracing
import Tracing
import W3CTraceContext

/// A tracer for tests that keeps its spans in memory, as `InMemoryTracer` does, with W3C trace and
/// span IDs (32 and 16 lowercase hex digits), and propagates a span's context in the W3C Trace
/// Context format, as an OpenTelemetry tracer does: `traceparent` (version 00, sampled), and
/// `tracestate` when the context carries one (`ServiceContext.traceState`).
struct W3CTestTracer: Tracer {
  /// The spans, started and finished.
  let spans = InMemoryTracer(
    idGenerator: .init(
      nextTraceID: { W3CTraceContext.TraceID.random().description },
      nextSpanID: { W3CTraceContext.SpanID.random().description }))

  func startSpan<Instant: TracerInstant>(
    _ operationName: String,
    context: @autoclosure () -> ServiceContext,
    ofKind kind: SpanKind,
    at instant: @autoclosure () -> Instant,
    function: String,
    file fileID: String,
    line: UInt
  ) -> InMemorySpan {
    spans.startSpan(
      operationName, context: context(), ofKind: kind, at: instant(), function: function,
      file: fileID, line: line)
  }

  func forceFlush() {}

  func inject<Carrier, Inject: Injector>(
    _ context: ServiceContext, into carrier: inout Carrier, using injector: Inject
  ) where Carrier == Inject.Carrier {
    // The library parses the IDs and formats both headers, so what goes out is valid W3C.
    guard let span = context.inMemorySpanContext,
      let w3c = try? TraceContext(
        traceParentHeaderValue: "00-\(span.traceID)-\(span.spanID)-01",
        traceStateHeaderValue: context.traceState)
    else { return }
    injector.inject(w3c.traceParentHeaderValue, forKey: "traceparent", into: &carrier)
    if let state = w3c.traceStateHeaderValue {
      injector.inject(state, forKey: "tracestate", into: &carrier)
    }
  }

  func extract<Carrier, Extract: Extractor>(
    _ carrier: Carrier, into context: inout ServiceContext, using extractor: Extract
  ) where Carrier == Extract.Carrier {}
}

/// The W3C `tracestate` a context propagates.
private enum TraceStateKey: ServiceContextKey {
  typealias Value = String
}

extension ServiceContext {
  /// The W3C `tracestate` value (`vendor=value` pairs) that `W3CTestTracer` sends with this
  /// context's span and its children's.
  var traceState: String? {
    get { self[TraceStateKey.self] }
    set { self[TraceStateKey.self] = newValue }
  }
}
