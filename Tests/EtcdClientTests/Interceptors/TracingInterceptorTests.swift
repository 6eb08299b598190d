import GRPCProtocol
import InMemoryTracing
import Testing
import Tracing

@testable import EtcdClient

@Suite("TracingInterceptor: spans, attributes, status and propagation")
struct TracingInterceptorTests {
  /// Every attribute of a finished span, as a dictionary.
  static func attributes(_ attributes: SpanAttributes) -> [String: SpanAttribute] {
    var all: [String: SpanAttribute] = [:]
    attributes.forEach { all[$0] = $1 }
    return all
  }

  /// Starts a call's span as the client does, and returns it with the call information and metadata.
  static func start(
    _ interceptor: TracingInterceptor, _ method: RPCMethod,
    endpoint: String = "10.0.0.1:2379", resumption: Int = 0
  ) -> (ClientCallInfo, ClientMetadata) {
    var metadata = ClientMetadata()
    let span = interceptor.startSpan(
      method, endpoint: endpoint, resumption: resumption, metadata: &metadata)
    let info = ClientCallInfo(
      method: method, endpoint: endpoint, started: MonotonicClock.now(), span: span)
    return (info, metadata)
  }

  @Test func aSuccessfulCallIsAClientSpanNamedAfterItsMethodWithTheRPCAttributes() throws {
    let tracer = InMemoryTracer()
    let interceptor = TracingInterceptor(tracer: tracer)
    let (info, _) = Self.start(interceptor, RPCMethod.KV.put)
    #expect(tracer.activeSpans.count == 1)
    interceptor.callFinished(
      info, outcome: ClientCallOutcome(status: .ok, error: nil, duration: .milliseconds(2)))

    let span = try #require(tracer.finishedSpans.first)
    #expect(tracer.finishedSpans.count == 1)
    #expect(tracer.activeSpans.isEmpty)
    #expect(span.operationName == "etcdserverpb.KV/Put")
    #expect(span.kind == .client)
    #expect(span.status == nil)
    #expect(span.parentSpanID == nil)
    // Exactly these: nothing of the request (key, value) or the credentials.
    #expect(
      Self.attributes(span.attributes) == [
        "rpc.system": .string("grpc"),
        "rpc.service": .string("etcdserverpb.KV"),
        "rpc.method": .string("Put"),
        "server.address": .string("10.0.0.1"),
        "server.port": .int64(2379),
        "rpc.grpc.status_code": .int64(0),
      ])
  }

  /// Each failure's gRPC code and etcd error code, and the span status they give.
  static let failures: [(EtcdError?, GRPCStatus, String)] = [
    failure(.emptyKey, GRPCStatus(code: .invalidArgument, message: "key is not provided")),
    failure(.deadlineExceeded, GRPCStatus(code: .deadlineExceeded, message: "late")),
    failure(.connectionFailed, GRPCStatus(code: .unavailable, message: "refused")),
    // An outcome without an error (not one the client makes) is named by its gRPC code.
    (nil, GRPCStatus(code: .permissionDenied, message: "no"), "\(GRPCStatusCode.permissionDenied)"),
  ]

  /// A failure with an `EtcdError` of `code`, and the name the span gives it.
  static func failure(_ code: EtcdError.Code, _ status: GRPCStatus)
    -> (EtcdError?, GRPCStatus, String)
  {
    (EtcdError(code: code, status: status), status, code.name)
  }

  @Test(arguments: failures)
  func aFailedCallHasErrorStatusTheGRPCCodeAndTheEtcdErrorCode(
    error: EtcdError?, status: GRPCStatus, name: String
  ) throws {
    let tracer = InMemoryTracer()
    let interceptor = TracingInterceptor(tracer: tracer)
    let (info, _) = Self.start(interceptor, RPCMethod.KV.range)
    interceptor.callFinished(
      info, outcome: ClientCallOutcome(status: status, error: error, duration: .milliseconds(1)))

    let span = try #require(tracer.finishedSpans.first)
    #expect(span.status == SpanStatus(code: .error, message: name))
    let attributes = Self.attributes(span.attributes)
    #expect(attributes["rpc.grpc.status_code"] == .int64(Int64(status.code.rawValue)))
    #expect(attributes["etcd.error.code"] == error.map { .string($0.code.name) })
    // The server's message is not copied anywhere: it may quote the request.
    #expect(!"\(span.attributes)".contains(status.message))
  }

  @Test func retriesAreEventsAndTheServerIsTheLastEndpointTried() throws {
    let tracer = InMemoryTracer()
    let interceptor = TracingInterceptor(tracer: tracer)
    let (info, _) = Self.start(interceptor, RPCMethod.KV.range, endpoint: "a:2379")
    let refused = GRPCStatus(code: .unavailable, message: "refused")
    interceptor.attemptFinished(
      info,
      attempt: ClientAttempt(
        number: 0, endpoint: "a:2379", status: refused, duration: .milliseconds(1), bytesSent: 5,
        bytesReceived: 0))
    #expect(tracer.activeSpans.first?.events.isEmpty == true)
    interceptor.attemptFinished(
      info,
      attempt: ClientAttempt(
        number: 1, endpoint: "[::1]:2380", status: .ok, duration: .milliseconds(3), bytesSent: 5,
        bytesReceived: 9))
    interceptor.callFinished(
      info,
      outcome: ClientCallOutcome(
        status: .ok, error: nil, duration: .milliseconds(5), attempts: 2, endpoint: "[::1]:2380"))

    let span = try #require(tracer.finishedSpans.first)
    #expect(span.events.map(\.name) == ["etcd.retry"])
    let retry = try #require(span.events.first)
    #expect(
      Self.attributes(retry.attributes) == [
        "etcd.attempt": .int64(1),
        "rpc.grpc.status_code": .int64(0),
        "server.address": .string("::1"),
        "server.port": .int64(2380),
      ])
    // Stamped at the retry's start (its end less its duration), never before the call's start: the
    // attempt claims 3 ms, longer than this call has run.
    let slack: UInt64 = 1_000_000
    #expect(retry.nanosecondsSinceEpoch + slack >= span.startInstant.nanosecondsSinceEpoch)
    #expect(retry.nanosecondsSinceEpoch <= span.endInstant.nanosecondsSinceEpoch)
    let attributes = Self.attributes(span.attributes)
    #expect(attributes["server.address"] == .string("::1"))
    #expect(attributes["server.port"] == .int64(2380))
    #expect(span.status == nil)
  }

  @Test func aResumedStreamStartsWithAResumptionEvent() throws {
    let tracer = InMemoryTracer()
    let interceptor = TracingInterceptor(tracer: tracer)
    let (first, _) = Self.start(interceptor, RPCMethod.Watch.watch)
    let (resumed, _) = Self.start(interceptor, RPCMethod.Watch.watch, resumption: 2)
    for info in [first, resumed] {
      interceptor.callFinished(
        info, outcome: ClientCallOutcome(status: .ok, error: nil, duration: .seconds(1)))
    }
    let spans = tracer.finishedSpans
    #expect(spans.map(\.operationName) == ["etcdserverpb.Watch/Watch", "etcdserverpb.Watch/Watch"])
    #expect(spans[0].events.isEmpty)
    #expect(spans[1].events.map(\.name) == ["etcd.stream.resumed"])
    #expect(
      spans[1].events.first.map { Self.attributes($0.attributes) } == [
        "etcd.stream.resumptions": .int64(2)
      ])
  }

  @Test func theSpanIsAChildOfTheCallersSpanAndItsContextGoesIntoTheMetadata() throws {
    let tracer = InMemoryTracer()
    let interceptor = TracingInterceptor(tracer: tracer)
    let parent = tracer.startSpan("caller")
    let (info, metadata) = ServiceContext.$current.withValue(parent.context) {
      Self.start(interceptor, RPCMethod.KV.put)
    }
    let span = try #require(tracer.activeSpans.first { $0.operationName == "etcdserverpb.KV/Put" })
    #expect(span.traceID == parent.traceID)
    #expect(span.parentSpanID == parent.spanID)
    #expect(metadata[InMemoryTracer.traceIDKey] == [span.traceID])
    #expect(metadata[InMemoryTracer.spanIDKey] == [span.spanID])
    interceptor.callFinished(
      info, outcome: ClientCallOutcome(status: .ok, error: nil, duration: .milliseconds(1)))
    parent.end()
  }

  @Test func theInjectorLeavesOutNamesGRPCReserves() {
    var metadata = ClientMetadata()
    let injector = ClientMetadataInjector()
    injector.inject("00-abc-def-01", forKey: "traceparent", into: &metadata)
    injector.inject("vendor=1", forKey: "TraceState", into: &metadata)
    injector.inject("AAAA", forKey: "grpc-trace-bin", into: &metadata)
    injector.inject("x", forKey: ":authority", into: &metadata)
    injector.inject("x", forKey: "content-type", into: &metadata)
    #expect(Array(metadata).map(\.name) == ["traceparent", "tracestate"])
    #expect(metadata["traceparent"] == ["00-abc-def-01"])
  }

  @Test func aClientWithoutATracerStartsNoSpanAndHasOnlyTheConfiguredInterceptors() throws {
    let client = try EtcdClient(endpoints: ["127.0.0.1:1"])
    #expect(client.tracing == nil)
    #expect(client.interceptors.isEmpty)

    var configuration = EtcdClient.Configuration(endpoints: ["127.0.0.1:1"])
    configuration.tracer = InMemoryTracer()
    configuration.username = "user"
    configuration.password = "secret"
    let traced = try EtcdClient(configuration: configuration)
    #expect(traced.tracing != nil)
    // The tracing interceptor first, so that it ends the span after every other hook.
    #expect(traced.interceptors.first is TracingInterceptor)
    #expect(traced.interceptors.count == 2)
    #expect(traced.interceptorsWithoutToken.count == 1)
    #expect(traced.interceptorsWithoutToken.first is TracingInterceptor)
  }

  @Test(arguments: [
    ("127.0.0.1:2379", SpanAttribute.string("127.0.0.1"), SpanAttribute?.some(.int64(2379))),
    ("http://etcd-0.local:2379", .string("etcd-0.local"), .int64(2379)),
    ("https://etcd-1:2380/", .string("etcd-1"), .int64(2380)),
    ("[::1]:23790", .string("::1"), .int64(23790)),
    ("unix+http://[fe80::1]:1", .string("fe80::1"), .int64(1)),
    ("no-port", .string("no-port"), nil),
  ])
  func theServerAddressAndPortComeFromTheEndpoint(
    endpoint: String, address: SpanAttribute, port: SpanAttribute?
  ) {
    var attributes = SpanAttributes()
    TracingInterceptor.setServer(endpoint, in: &attributes)
    #expect(attributes.get("server.address") == address)
    #expect(attributes.get("server.port") == port)
  }
}
