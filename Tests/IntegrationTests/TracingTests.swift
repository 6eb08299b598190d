import InMemoryTracing
import Synchronization
import Testing
import Tracing

@testable import EtcdClient

/// Keeps the metadata each call starts with, as the server receives it.
final class MetadataRecordingInterceptor: ClientInterceptor {
  private let recorded = Mutex<[(method: String, metadata: ClientMetadata)]>([])

  var calls: [(method: String, metadata: ClientMetadata)] { recorded.withLock { $0 } }

  func callStarted(_ call: ClientCallInfo, metadata: inout ClientMetadata) {
    let seen = metadata
    recorded.withLock { $0.append((call.method.path, seen)) }
  }
}

@Suite("Tracing against a real etcd", .serialized)
struct TracingTests {
  /// The attributes of a span as a dictionary.
  static func attributes(_ span: FinishedInMemorySpan) -> [String: SpanAttribute] {
    var all: [String: SpanAttribute] = [:]
    span.attributes.forEach { all[$0] = $1 }
    return all
  }

  @Test func aTracedPutAndAFailingGetAreChildSpansWhoseContextGoesToTheServer() async throws {
    try await withEtcd { etcd in
      let tracer = InMemoryTracer()
      let recorder = MetadataRecordingInterceptor()
      var configuration = EtcdClient.Configuration(endpoints: etcd.endpoints)
      configuration.tracer = tracer
      configuration.interceptors = [recorder]
      let client = try EtcdClient(configuration: configuration)

      let caller = tracer.startSpan("handler")
      try await ServiceContext.$current.withValue(caller.context) {
        try await client.put("traced/key", "secret-value")
        await expectEtcdError(.emptyKey) { _ = try await client.get("") }
      }
      caller.end()
      await client.close()

      let spans = tracer.finishedSpans.filter { $0.operationName != "handler" }
      #expect(spans.map(\.operationName) == ["etcdserverpb.KV/Put", "etcdserverpb.KV/Range"])
      guard spans.count == 2 else { return }
      let (put, get) = (spans[0], spans[1])
      let member = try Endpoint(parsing: etcd.endpoints[0])
      for span in spans {
        #expect(span.kind == .client)
        #expect(span.traceID == caller.traceID)
        #expect(span.parentSpanID == caller.spanID)
        let attributes = Self.attributes(span)
        #expect(attributes["rpc.system"] == .string("grpc"))
        #expect(attributes["rpc.service"] == .string("etcdserverpb.KV"))
        #expect(attributes["server.address"] == .string(member.host))
        #expect(attributes["server.port"] == .int64(Int64(member.port)))
        // Nothing of the request in any attribute.
        #expect(!"\(span.attributes)".contains("traced/key"))
        #expect(!"\(span.attributes)".contains("secret-value"))
      }
      #expect(Self.attributes(put)["rpc.method"] == .string("Put"))
      #expect(Self.attributes(put)["rpc.grpc.status_code"] == .int64(0))
      #expect(put.status == nil)
      #expect(Self.attributes(get)["rpc.method"] == .string("Range"))
      #expect(
        Self.attributes(get)["rpc.grpc.status_code"]
          == .int64(Int64(GRPCStatusCode.invalidArgument.rawValue)))
      #expect(Self.attributes(get)["etcd.error.code"] == .string(EtcdError.Code.emptyKey.name))
      #expect(get.status?.code == .error)

      // Each call's span context was in the metadata the call was sent with.
      let sent = recorder.calls
      #expect(sent.map(\.method) == ["/etcdserverpb.KV/Put", "/etcdserverpb.KV/Range"])
      for (call, span) in zip(sent, spans) {
        #expect(call.metadata[InMemoryTracer.traceIDKey] == [span.traceID])
        #expect(call.metadata[InMemoryTracer.spanIDKey] == [span.spanID])
      }
    }
  }

  @Test func theCallersW3CTraceContextReachesTheServerAsHTTP2RequestHeaders() async throws {
    let server = try await HeaderRecordingServer()
    let tracer = W3CTestTracer()
    var configuration = EtcdClient.Configuration(endpoints: [server.endpoint])
    configuration.tracer = tracer
    let client = try EtcdClient(configuration: configuration)

    let caller = tracer.startSpan("handler")
    var context = caller.context
    context.traceState = "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE"
    await ServiceContext.$current.withValue(context) {
      // nghttpd answers 404: the call fails, after its headers have gone out.
      _ = try? await client.put("traced/key", "value", timeout: .seconds(2))
    }
    caller.end()
    await client.close()

    let puts = tracer.spans.finishedSpans.filter { $0.operationName == "etcdserverpb.KV/Put" }
    try #require(puts.count == 1)
    let put = puts[0]
    #expect(put.traceID == caller.traceID)
    #expect(put.parentSpanID == caller.spanID)
    #expect(put.traceID.count == 32 && put.spanID.count == 16)
    #expect(server.receivedValues(of: ":path").first == "/etcdserverpb.KV/Put")
    // Every attempt of the call carries its span: version 00, its trace and span IDs, sampled.
    let traceparents = server.receivedValues(of: "traceparent")
    #expect(!traceparents.isEmpty)
    let expected = "00-\(put.traceID)-\(put.spanID)-01"
    #expect(traceparents.allSatisfy { $0 == expected }, "\(traceparents)")
    let tracestates = server.receivedValues(of: "tracestate")
    #expect(tracestates.count == traceparents.count)
    let state = "rojo=00f067aa0ba902b7, congo=t61rcWkgMzE"
    #expect(tracestates.allSatisfy { $0 == state }, "\(tracestates)")
  }

  @Test func aResumedWatchIsASpanPerOpenedStreamWithAResumptionEvent() async throws {
    try await withEtcd { etcd in
      let tracer = InMemoryTracer()
      var configuration = EtcdClient.Configuration(endpoints: etcd.endpoints)
      configuration.tracer = tracer
      let client = try EtcdClient(configuration: configuration)
      #expect(try await watchAcrossARestart(client, etcd, key: "w") == "1")
      await client.close()

      let watches = tracer.finishedSpans.filter { $0.operationName == "etcdserverpb.Watch/Watch" }
      // Not a span per message: one per opened stream, the first and the resumed one(s).
      #expect(watches.count >= 2)
      #expect(watches.first?.events.isEmpty == true)
      #expect(watches.first?.status?.code == .error)
      let resumedSpans = watches.filter { $0.events.contains { $0.name == "etcd.stream.resumed" } }
      #expect(resumedSpans.count == watches.count - 1)
      #expect(watches.allSatisfy { Self.attributes($0)["rpc.method"] == .string("Watch") })
    }
  }
}
