import EtcdProto
import Foundation
import Synchronization
import Testing
import LoopbackTestSupport

#if canImport(Glibc)
  import Glibc
#endif

@testable import EtcdClient

/// Records every interceptor event, in order.
final class RecordingInterceptor: ClientInterceptor {
  enum Event: Equatable {
    case started(method: String, endpoint: String)
    case sent(method: String, size: Int)
    case received(method: String, size: Int)
    case finished(method: String, code: GRPCStatusCode, error: EtcdError.Code?)
  }
  private let recorded = Mutex<[Event]>([])
  private let durations = Mutex<[Duration]>([])
  let tag: String

  init(tag: String = "") { self.tag = tag }

  var events: [Event] { recorded.withLock { $0 } }
  var finishedDurations: [Duration] { durations.withLock { $0 } }

  func callStarted(_ call: ClientCallInfo, metadata: inout ClientMetadata) {
    recorded.withLock { $0.append(.started(method: call.method.path, endpoint: call.endpoint)) }
    if !tag.isEmpty { metadata.add("x-interceptor", tag) }
  }
  func messageSent(_ call: ClientCallInfo, size: Int) {
    recorded.withLock { $0.append(.sent(method: call.method.path, size: size)) }
  }
  func messageReceived(_ call: ClientCallInfo, size: Int) {
    recorded.withLock { $0.append(.received(method: call.method.path, size: size)) }
  }
  func callFinished(_ call: ClientCallInfo, outcome: ClientCallOutcome) {
    recorded.withLock {
      $0.append(.finished(method: call.method.path, code: outcome.status.code, error: outcome.error?.code))
    }
    durations.withLock { $0.append(outcome.duration) }
  }
}

@Suite("etcdctl interoperability and interceptors", .serialized)
struct InteropAndInterceptorTests {
  @Test func etcdctlReadsWhatSwiftWroteAndBack() async throws {
    try await withEtcd { etcd in
      let client = try EtcdClient(endpoints: etcd.endpoints)
      defer { Task { await client.close() } }
      let environment = ["ETCDCTL_API": "3"]
      let endpoints = "--endpoints=\(etcd.members[0].clientURL)"

      try await client.put("from/swift", "written by swift ✓")
      let read = try run(["etcdctl", endpoints, "get", "from/swift", "--print-value-only"], environment: environment)
      #expect(read.status == 0, "\(read.output)")
      #expect(read.output.trimmingCharacters(in: .newlines) == "written by swift ✓")

      let wrote = try run(["etcdctl", endpoints, "put", "from/go", "written by etcdctl"], environment: environment)
      #expect(wrote.status == 0, "\(wrote.output)")
      #expect(try await client.get("from/go").kvs.first?.valueString == "written by etcdctl")

      // A transaction by Swift, its outcome read by etcdctl.
      _ = try await client.txn(
        Txn(if: [.version("from/go", .greater, 0)], then: [.put("from/txn", "then-branch")]))
      let txnRead = try run(
        ["etcdctl", endpoints, "get", "from/", "--prefix", "--keys-only"], environment: environment)
      #expect(
        txnRead.output.split(separator: "\n").map(String.init) == ["from/go", "from/swift", "from/txn"])
    }
  }

  @Test func interceptorsSeeStartMessagesAndEndInOrder() async throws {
    try await withEtcd { etcd in
      let first = RecordingInterceptor(tag: "first")
      let second = RecordingInterceptor()
      var configuration = EtcdClient.Configuration(endpoints: etcd.endpoints)
      configuration.interceptors = [first, second]
      let client = try EtcdClient(configuration: configuration)
      defer { Task { await client.close() } }

      try await client.put("i", "12345")
      let expectedBytes: [UInt8] = try Etcdserverpb_PutRequest(
        key: Array("i".utf8), value: Array("12345".utf8), options: .init()
      ).serializedBytes()
      let expectedRequestSize = expectedBytes.count
      let events = first.events
      #expect(events.count == 4)
      #expect(events[0] == .started(method: "/etcdserverpb.KV/Put", endpoint: etcd.endpoints[0]))
      #expect(events[1] == .sent(method: "/etcdserverpb.KV/Put", size: expectedRequestSize))
      guard case .received(_, let responseSize) = events[2] else {
        Issue.record("third event must be a received message: \(events)")
        return
      }
      #expect(responseSize > 0)
      #expect(events[3] == .finished(method: "/etcdserverpb.KV/Put", code: .ok, error: nil))
      #expect(second.events == events)
      #expect(first.finishedDurations.first.map { $0 > .zero } == true)

      // Failures reach the interceptors with their real code.
      await expectEtcdError(.emptyKey) { _ = try await client.get("") }
      #expect(first.events.last == .finished(method: "/etcdserverpb.KV/Range", code: .invalidArgument, error: .emptyKey))

      await expectEtcdError(.requestTooLarge) {
        try await client.put("big", [UInt8](repeating: 0, count: 3 * 1024 * 1024))
      }
      // Not sent: no message event between start and end.
      let tooLarge = first.events.suffix(2)
      #expect(tooLarge.first == .started(method: "/etcdserverpb.KV/Put", endpoint: etcd.endpoints[0]))
      #expect(tooLarge.last == .finished(method: "/etcdserverpb.KV/Put", code: .resourceExhausted, error: .requestTooLarge))

      etcd.members[0].signal(SIGSTOP)
      await expectEtcdError(.deadlineExceeded) { _ = try await client.get("i", timeout: .milliseconds(200)) }
      etcd.members[0].signal(SIGCONT)
      #expect(first.events.last == .finished(method: "/etcdserverpb.KV/Range", code: .deadlineExceeded, error: .deadlineExceeded))
    }
  }

  @Test func streamingCallsPassThroughInterceptors() async throws {
    try await withEtcd { etcd in
      let recorder = RecordingInterceptor()
      var configuration = EtcdClient.Configuration(endpoints: etcd.endpoints)
      configuration.interceptors = [recorder]
      let client = try EtcdClient(configuration: configuration)
      defer { Task { await client.close() } }

      let stream = try client.bidirectionalStream(RPCMethod.Watch.watch)
      var request = Etcdserverpb_WatchRequest()
      var create = Etcdserverpb_WatchCreateRequest()
      create.key = Data("s".utf8)
      request.createRequest = create
      let framed = try client.frame(request)
      stream.send(framed)
      var iterator = stream.responses.makeAsyncIterator()
      _ = try #require(await iterator.next())  // created
      try await client.put("s", "1")
      _ = try #require(await iterator.next())  // the event
      stream.cancel()
      do {
        while try await iterator.next() != nil {}
        Issue.record("a cancelled stream must end with an error")
      } catch let error as EtcdError {
        #expect(error.code == .cancelled)
      }
      let watchEvents = recorder.events.filter {
        switch $0 {
        case .started(let method, _), .sent(let method, _), .received(let method, _),
          .finished(let method, _, _):
          method == "/etcdserverpb.Watch/Watch"
        }
      }
      #expect(watchEvents.count == 5, "\(watchEvents)")
      #expect(watchEvents.first == .started(method: "/etcdserverpb.Watch/Watch", endpoint: etcd.endpoints[0]))
      #expect(watchEvents[1] == .sent(method: "/etcdserverpb.Watch/Watch", size: framed.count))
      #expect(watchEvents.last == .finished(method: "/etcdserverpb.Watch/Watch", code: .cancelled, error: .cancelled))
    }
  }

  @Test func unavailableServerCountsAsUnavailable() async throws {
    let recorder = RecordingInterceptor()
    var configuration = EtcdClient.Configuration(endpoints: ["127.0.0.1:\(try freeLoopbackPort())"])
    configuration.interceptors = [recorder]
    let client = try EtcdClient(configuration: configuration)
    await expectEtcdError(.connectionFailed) { _ = try await client.get("k") }
    #expect(recorder.events.last == .finished(method: "/etcdserverpb.KV/Range", code: .unavailable, error: .connectionFailed))
    await client.close()
  }
}
