import EtcdClient
import InMemoryTracing
import ServiceContextModule
import Testing
import Tracing

@testable import EtcdMetrics

private enum TraceIDKey: ServiceContextKey {
  typealias Value = String
}

/// The interceptor's hooks driven directly, as the client calls them, and the series they leave.
@Suite("RPCMetricsInterceptor")
struct RPCMetricsInterceptorTests {
  /// The text exposition as `series → value`.
  private func samples(_ registry: MetricsRegistry) -> [String: Double] {
    let text = String(decoding: registry.exposition(format: .prometheusText0_0_4), as: UTF8.self)
    var samples: [String: Double] = [:]
    for line in text.split(separator: "\n") where !line.hasPrefix("#") {
      guard let space = line.lastIndex(of: " ") else { continue }
      samples[String(line[..<space])] = Double(line[line.index(after: space)...])
    }
    return samples
  }

  /// One unary call with the hooks in the client's order; `attempts` lists each attempt's endpoint and status.
  private func call(
    _ interceptor: RPCMetricsInterceptor, _ method: RPCMethod, endpoint: String,
    attempts: [(endpoint: String, status: GRPCStatus)], error: EtcdError? = nil,
    sent: Int = 12, received: Int = 300, span: (any Span)? = nil
  ) {
    let info = ClientCallInfo(method: method, endpoint: endpoint, startTime: .now, span: span)
    var metadata = ClientMetadata()
    interceptor.callStarted(info, metadata: &metadata)
    for (number, attempt) in attempts.enumerated() {
      interceptor.messageSent(info, size: sent)
      let ok = attempt.status.code == .ok
      if ok { interceptor.messageReceived(info, size: received) }
      interceptor.attemptFinished(
        info,
        attempt: ClientAttempt(
          number: number, endpoint: attempt.endpoint, status: attempt.status,
          duration: .milliseconds(2), bytesSent: sent, bytesReceived: ok ? received : 0))
    }
    let last = attempts.last!
    interceptor.callFinished(
      info,
      outcome: ClientCallOutcome(
        status: last.status, error: error, duration: .milliseconds(2 * attempts.count),
        messagesSent: attempts.count, bytesSent: sent * attempts.count,
        messagesReceived: last.status.code == .ok ? 1 : 0,
        bytesReceived: last.status.code == .ok ? received : 0, attempts: attempts.count,
        endpoint: last.endpoint))
  }

  @Test("successes, failures and a retry land in every family with their labels")
  func everyFamily() {
    let registry = MetricsRegistry()
    let interceptor = RPCMetricsInterceptor(registry: registry)
    let a = "10.0.0.1:2379"
    let b = "10.0.0.2:2379"
    for _ in 0..<3 { call(interceptor, RPCMethod.KV.put, endpoint: a, attempts: [(a, .init(code: .ok))]) }
    call(interceptor, RPCMethod.KV.range, endpoint: a, attempts: [(a, .init(code: .ok))])
    let emptyKey = EtcdError(code: .emptyKey, status: .init(code: .invalidArgument, message: "key is not provided"))
    call(
      interceptor, RPCMethod.KV.range, endpoint: a, attempts: [(a, emptyKey.status)], error: emptyKey)
    // Unavailable on a, then served by b.
    call(
      interceptor, RPCMethod.KV.range, endpoint: a,
      attempts: [(a, .init(code: .unavailable)), (b, .init(code: .ok))])

    let s = samples(registry)
    let put = "grpc_type=\"unary\",grpc_service=\"etcdserverpb.KV\",grpc_method=\"Put\",etcd_endpoint=\"\(a)\""
    let rangeA = "grpc_type=\"unary\",grpc_service=\"etcdserverpb.KV\",grpc_method=\"Range\",etcd_endpoint=\"\(a)\""
    let rangeB = "grpc_type=\"unary\",grpc_service=\"etcdserverpb.KV\",grpc_method=\"Range\",etcd_endpoint=\"\(b)\""
    #expect(s["grpc_client_started_total{\(put)}"] == 3)
    #expect(s["grpc_client_msg_sent_total{\(put)}"] == 3)
    #expect(s["grpc_client_msg_received_total{\(put)}"] == 3)
    #expect(s["grpc_client_msg_sent_bytes_sum{\(put)}"] == 36)
    #expect(s["grpc_client_msg_received_bytes_bucket{\(put),le=\"256\"}"] == 0)
    #expect(s["grpc_client_msg_received_bytes_bucket{\(put),le=\"1024\"}"] == 3)
    #expect(s["etcd_client_calls_in_flight{\(put)}"] == 0)
    #expect(s["grpc_client_handled_total{\(put),grpc_code=\"OK\",etcd_error=\"\"}"] == 3)
    #expect(s["grpc_client_handling_seconds_count{\(put),grpc_code=\"OK\"}"] == 3)
    #expect(s["grpc_client_handling_seconds_bucket{\(put),grpc_code=\"OK\",le=\"0.002\"}"] == 3)

    #expect(s["grpc_client_started_total{\(rangeA)}"] == 3)
    #expect(s["grpc_client_msg_sent_total{\(rangeA)}"] == 4)
    #expect(s["grpc_client_msg_received_total{\(rangeA)}"] == 2)
    #expect(s["etcd_client_calls_in_flight{\(rangeA)}"] == 0)
    #expect(s["grpc_client_handled_total{\(rangeA),grpc_code=\"OK\",etcd_error=\"\"}"] == 1)
    #expect(
      s["grpc_client_handled_total{\(rangeA),grpc_code=\"InvalidArgument\",etcd_error=\"empty_key\"}"] == 1)
    #expect(s["grpc_client_handling_seconds_count{\(rangeA),grpc_code=\"InvalidArgument\"}"] == 1)
    // The retried call is handled by the member that served it.
    #expect(s["grpc_client_handled_total{\(rangeB),grpc_code=\"OK\",etcd_error=\"\"}"] == 1)
    #expect(s["grpc_client_handling_seconds_sum{\(rangeB),grpc_code=\"OK\"}"] == 0.004)

    // gRFC A66 and A96.
    let a66Put = "grpc_method=\"etcdserverpb.KV/Put\""
    let a66Range = "grpc_method=\"etcdserverpb.KV/Range\""
    #expect(s["grpc_client_attempt_started_total{\(a66Put),grpc_target=\"\(a)\"}"] == 3)
    #expect(s["grpc_client_attempt_started_total{\(a66Range),grpc_target=\"\(a)\"}"] == 3)
    #expect(s["grpc_client_attempt_started_total{\(a66Range),grpc_target=\"\(b)\"}"] == 1)
    #expect(
      s["grpc_client_attempt_duration_seconds_count{\(a66Put),grpc_target=\"\(a)\",grpc_status=\"OK\"}"] == 3)
    #expect(
      s["grpc_client_attempt_duration_seconds_count{\(a66Range),grpc_target=\"\(a)\",grpc_status=\"UNAVAILABLE\"}"]
        == 1)
    #expect(
      s["grpc_client_attempt_duration_seconds_count{\(a66Range),grpc_target=\"\(b)\",grpc_status=\"OK\"}"] == 1)
    #expect(
      s["grpc_client_attempt_sent_total_compressed_message_size_bytes_sum{\(a66Put),grpc_target=\"\(a)\",grpc_status=\"OK\"}"]
        == 36)
    #expect(
      s["grpc_client_attempt_rcvd_total_compressed_message_size_bytes_sum{\(a66Range),grpc_target=\"\(a)\",grpc_status=\"INVALID_ARGUMENT\"}"]
        == 0)
    #expect(
      s["grpc_client_call_duration_seconds_count{\(a66Put),grpc_target=\"etcd\",grpc_status=\"OK\"}"] == 3)
    #expect(
      s["grpc_client_call_duration_seconds_count{\(a66Range),grpc_target=\"etcd\",grpc_status=\"OK\"}"] == 2)
    #expect(
      s["grpc_client_call_duration_seconds_count{\(a66Range),grpc_target=\"etcd\",grpc_status=\"INVALID_ARGUMENT\"}"]
        == 1)
    #expect(s["grpc_client_call_retries_count{\(a66Range),grpc_target=\"etcd\"}"] == 1)
    #expect(s["grpc_client_call_retries_sum{\(a66Range),grpc_target=\"etcd\"}"] == 1)
    #expect(s["grpc_client_call_retries_count{\(a66Put),grpc_target=\"etcd\"}"] == nil)
  }

  @Test("without the endpoint label, calls to every endpoint share the series; A66 still names the target")
  func noEndpointLabel() {
    let registry = MetricsRegistry()
    let interceptor = RPCMetricsInterceptor(registry: registry, options: .init(endpointLabel: false))
    call(interceptor, RPCMethod.KV.put, endpoint: "a:1", attempts: [("a:1", .init(code: .ok))])
    call(interceptor, RPCMethod.KV.put, endpoint: "b:1", attempts: [("b:1", .init(code: .ok))])
    let s = samples(registry)
    let put = "grpc_type=\"unary\",grpc_service=\"etcdserverpb.KV\",grpc_method=\"Put\""
    #expect(s["grpc_client_started_total{\(put)}"] == 2)
    #expect(s["grpc_client_handled_total{\(put),grpc_code=\"OK\",etcd_error=\"\"}"] == 2)
    #expect(s["grpc_client_attempt_started_total{grpc_method=\"etcdserverpb.KV/Put\",grpc_target=\"a:1\"}"] == 1)
    #expect(s["grpc_client_attempt_started_total{grpc_method=\"etcdserverpb.KV/Put\",grpc_target=\"b:1\"}"] == 1)
  }

  @Test("a trace id in the ServiceContext becomes the exemplar of both latency histograms")
  func exemplars() throws {
    let registry = MetricsRegistry()
    let interceptor = RPCMetricsInterceptor(
      registry: registry, options: .init(exemplars: .serviceContext(TraceIDKey.self)))
    var context = ServiceContext.topLevel
    context[TraceIDKey.self] = "4bf92f3577b34da6"
    ServiceContext.withValue(context) {
      call(interceptor, RPCMethod.KV.put, endpoint: "a:1", attempts: [("a:1", .init(code: .ok))])
    }
    let text = String(decoding: registry.exposition(format: .openMetrics1_0_0), as: UTF8.self)
    let withExemplar = text.split(separator: "\n").filter { $0.contains("# {trace_id=\"4bf92f3577b34da6\"}") }
    #expect(withExemplar.count == 2)
    #expect(withExemplar.contains { $0.hasPrefix("grpc_client_handling_seconds_bucket{") })
    #expect(withExemplar.contains { $0.hasPrefix("grpc_client_call_duration_seconds_bucket{") })
  }

  @Test("a traced call's exemplar names the call's own span, not the caller's")
  func exemplarsOfTracedCalls() throws {
    let registry = MetricsRegistry()
    let interceptor = RPCMetricsInterceptor(
      registry: registry,
      options: .init(
        exemplars: .serviceContext { context in
          context.inMemorySpanContext.map { ["trace_id": $0.traceID, "span_id": $0.spanID] }
        }))
    let tracer = InMemoryTracer()
    let caller = tracer.startSpan("caller")
    let callSpan = tracer.startSpan("etcdserverpb.KV/Put", context: caller.context)
    ServiceContext.withValue(caller.context) {
      call(
        interceptor, RPCMethod.KV.put, endpoint: "a:1", attempts: [("a:1", .init(code: .ok))],
        span: callSpan)
    }
    #expect(callSpan.spanID != caller.spanID)
    let text = String(decoding: registry.exposition(format: .openMetrics1_0_0), as: UTF8.self)
    let withExemplar = text.split(separator: "\n").filter { $0.contains("# {") }
    #expect(withExemplar.count == 2)
    for line in withExemplar {
      #expect(line.contains("span_id=\"\(callSpan.spanID)\""), "\(line)")
      #expect(line.contains("trace_id=\"\(caller.traceID)\""), "\(line)")
    }
    // A streaming call ends on the event loop, with no task context: the span still gives one.
    call(
      interceptor, RPCMethod.KV.range, endpoint: "a:1", attempts: [("a:1", .init(code: .ok))],
      span: callSpan)
    let after = String(decoding: registry.exposition(format: .openMetrics1_0_0), as: UTF8.self)
    #expect(after.split(separator: "\n").filter { $0.contains("# {") }.count == 4)
    callSpan.end()
    caller.end()
  }
}
