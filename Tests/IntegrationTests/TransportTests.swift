import EtcdProto
import Foundation
import Synchronization
import Testing
import LoopbackTestSupport

#if canImport(Glibc)
  import Glibc
#endif

@testable import EtcdClient

@Suite("Transport against a real etcd", .serialized)
struct TransportTests {
  @Test func thousandConcurrentGetsShareOneConnection() async throws {
    try await withEtcd { etcd in
      let client = try EtcdClient(endpoints: etcd.endpoints)
      defer { Task { await client.close() } }
      for index in 0..<10 { try await client.put("c/\(index)", "value-\(index)") }
      let results = try await withThrowingTaskGroup(of: (Int, String?).self) { group in
        for call in 0..<1_000 {
          group.addTask {
            let response = try await client.get("c/\(call % 10)", timeout: .seconds(30))
            return (call, response.kvs.first?.valueString)
          }
        }
        var results: [Int: String?] = [:]
        for try await (call, value) in group { results[call] = value }
        return results
      }
      #expect(results.count == 1_000)
      for (call, value) in results { #expect(value == "value-\(call % 10)") }
      #expect(client.connectAttempts == 1)
    }
  }

  @Test func tenThousandSequentialCallsUseOneConnection() async throws {
    try await withEtcd { etcd in
      let client = try EtcdClient(endpoints: etcd.endpoints)
      defer { Task { await client.close() } }
      var lastRevision: Int64 = 0
      for index in 0..<10_000 {
        if index % 2 == 0 {
          let revision = try await client.put("seq", "\(index)").header.revision
          #expect(revision > lastRevision)
          lastRevision = revision
        } else {
          let value = try await client.get("seq").kvs.first?.valueString
          if value != "\(index - 1)" {
            Issue.record("call \(index) read \(value ?? "nothing")")
            break
          }
        }
      }
      // etcd's server sends PINGs and SETTINGS during normal work; the connection survives them.
      #expect(client.connectAttempts == 1)
    }
  }

  @Test func sendLimitFailsOnlyThatCallBeforeSending() async throws {
    // The server's own limit is raised so that a request just under the client's 2 MiB limit is accepted.
    try await withEtcd(extraArguments: ["--max-request-bytes", "\(3 * 1024 * 1024)"]) { etcd in
      let client = try EtcdClient(endpoints: etcd.endpoints)
      defer { Task { await client.close() } }
      let limit = client.configuration.maxSendMessageSize
      #expect(limit == 2 * 1024 * 1024)
      let key = "big"
      // PutRequest: tag+len+key (1+1+3) and tag + 3-byte varint length + value.
      let overhead = 2 + key.utf8.count + 1 + 3
      let underValue = [UInt8](repeating: 0x61, count: limit - overhead)
      let overValue = [UInt8](repeating: 0x61, count: limit - overhead + 1)

      let put = try await client.put(key, underValue, timeout: .seconds(30))
      #expect(put.header.revision > 0)
      let before = client.connectAttempts
      #expect(before == 1)
      #expect(try await client.get(key, timeout: .seconds(30)).kvs.first?.value.count == underValue.count)

      // A neighbour call in flight at the same time is not disturbed.
      async let neighbour = client.get(key, options: .init(keysOnly: true), timeout: .seconds(30))
      let error = await expectEtcdError(.requestTooLarge, grpcCode: .resourceExhausted) {
        try await client.put(key, overValue)
      }
      #expect(error?.message.contains("larger than max (\(limit + 1) vs. \(limit))") == true)
      #expect(try await neighbour.kvs.count == 1)
      #expect(try await client.get(key).kvs.first?.value.count == underValue.count)
      #expect(client.connectAttempts == before)
    }
  }

  @Test func serverRequestLimitIsATypedError() async throws {
    try await withEtcd { etcd in
      // etcd's default --max-request-bytes is 1.5 MiB: under the client's limit, over the server's.
      let client = try EtcdClient(endpoints: etcd.endpoints)
      defer { Task { await client.close() } }
      let value = [UInt8](repeating: 0x62, count: 1_700_000)
      await expectEtcdError(.serverRequestTooLarge, grpcCode: .invalidArgument) {
        try await client.put("k", value, timeout: .seconds(30))
      }
      #expect(try await client.put("k", "small").header.revision > 0)
    }
  }

  @Test func receiveLimitFailsOnlyThatCall() async throws {
    try await withEtcd { etcd in
      var configuration = EtcdClient.Configuration(endpoints: etcd.endpoints)
      configuration.maxReceiveMessageSize = 4_096
      let client = try EtcdClient(configuration: configuration)
      defer { Task { await client.close() } }
      try await client.put("large", [UInt8](repeating: 0x63, count: 100_000))
      try await client.put("small", "fits")
      let error = await expectEtcdError(.responseTooLarge, grpcCode: .resourceExhausted) {
        _ = try await client.get("large")
      }
      #expect(error?.message.contains("vs. 4096") == true)
      #expect(try await client.get("small").kvs.first?.valueString == "fits")
      #expect(client.connectAttempts == 1)
    }
  }

  @Test func deadlineExceededAndCancellationAreDistinct() async throws {
    try await withEtcd { etcd in
      let client = try EtcdClient(endpoints: etcd.endpoints)
      defer { Task { await client.close() } }
      try await client.put("k", "v")
      let member = etcd.members[0]
      member.signal(SIGSTOP)
      defer { member.signal(SIGCONT) }

      let started = ContinuousClock.now
      await expectEtcdError(.deadlineExceeded, grpcCode: .deadlineExceeded) {
        _ = try await client.get("k", timeout: .milliseconds(300))
      }
      let elapsed = ContinuousClock.now - started
      #expect(elapsed >= .milliseconds(300))
      #expect(elapsed < .seconds(5))

      let task = Task { try await client.get("k", timeout: .seconds(30)) }
      try await Task.sleep(for: .milliseconds(200))
      task.cancel()
      let result = await task.result
      switch result {
      case .success: Issue.record("a cancelled call must not succeed")
      case .failure(let error as EtcdError):
        #expect(error.code == .cancelled)
        #expect(error.status.code == .cancelled)
      case .failure(let error): Issue.record("unexpected error \(error)")
      }

      member.signal(SIGCONT)
      #expect(try await client.get("k", timeout: .seconds(10)).kvs.first?.valueString == "v")
      #expect(client.connectAttempts == 1)
    }
  }

  @Test func unreachableEndpointNamesTheEndpoint() async throws {
    let port = try freeLoopbackPort()
    let client = try EtcdClient(endpoints: ["127.0.0.1:\(port)"])
    let error = await expectEtcdError(.connectionFailed, grpcCode: .unavailable) {
      _ = try await client.get("k", timeout: .seconds(5))
    }
    #expect(error?.endpoint == "127.0.0.1:\(port)")
    #expect(error?.message.contains("127.0.0.1:\(port)") == true)
    await client.close()
    await expectEtcdError(.clientClosed) { _ = try await client.get("k") }
  }

  @Test func killedServerFailsCallsCleanlyThenClientRecovers() async throws {
    try await withEtcd { etcd in
      let client = try EtcdClient(endpoints: etcd.endpoints)
      defer { Task { await client.close() } }
      let member = etcd.members[0]
      try await client.put("durable", "before")

      // Freeze etcd so that calls are certainly in flight, then kill it under them.
      member.signal(SIGSTOP)
      let inFlight = (0..<20).map { index in
        Task { try await client.put("inflight-\(index)", "v", timeout: .seconds(20)) }
      }
      try await Task.sleep(for: .milliseconds(300))
      member.kill()
      for task in inFlight {
        switch await task.result {
        case .success: Issue.record("a call to a killed server cannot succeed")
        case .failure(let error as EtcdError):
          #expect(error.code == .connectionClosed, "\(error)")
          #expect(error.status.code == .unavailable)
          #expect(error.endpoint == member.endpoint)
        case .failure(let error): Issue.record("unexpected error \(error)")
        }
      }
      // While it is down: a clear connection error.
      await expectEtcdError(.connectionFailed, grpcCode: .unavailable) {
        _ = try await client.get("durable", timeout: .seconds(2))
      }

      try await etcd.restart(member)
      let value = try await client.get("durable", timeout: .seconds(10)).kvs.first?.valueString
      #expect(value == "before")
      #expect(try await client.put("after", "restart").header.revision > 0)
    }
  }

  @Test func closeEndsInFlightCallsAndRefusesNewOnes() async throws {
    try await withEtcd { etcd in
      let client = try EtcdClient(endpoints: etcd.endpoints)
      try await client.put("k", "v")
      etcd.members[0].signal(SIGSTOP)
      defer { etcd.members[0].signal(SIGCONT) }
      let pending = Task { try await client.get("k", timeout: .seconds(30)) }
      try await Task.sleep(for: .milliseconds(200))
      await client.close()
      switch await pending.result {
      case .success: Issue.record("a call in flight at close cannot succeed")
      case .failure(let error as EtcdError): #expect(error.status.code == .unavailable, "\(error)")
      case .failure(let error): Issue.record("unexpected error \(error)")
      }
      await expectEtcdError(.clientClosed) { _ = try await client.get("k") }
      await client.close()
    }
  }

  @Test func bidirectionalWatchStreamDeliversEvents() async throws {
    try await withEtcd { etcd in
      let client = try EtcdClient(endpoints: etcd.endpoints)
      defer { Task { await client.close() } }
      let stream = try client.bidirectionalStream(RPCMethod.Watch.watch)
      var create = Etcdserverpb_WatchRequest()
      var createRequest = Etcdserverpb_WatchCreateRequest()
      createRequest.key = Data("w/".utf8)
      createRequest.rangeEnd = Data("w0".utf8)
      create.createRequest = createRequest
      stream.send(try client.frame(create))

      var iterator = stream.responses.makeAsyncIterator()
      let created = try Etcdserverpb_WatchResponse(serializedBytes: try #require(await iterator.next()))
      #expect(created.created)

      for index in 0..<5 { try await client.put("w/\(index)", "\(index)") }
      var seen: [String] = []
      while seen.count < 5 {
        let bytes = try #require(await iterator.next())
        let response = try Etcdserverpb_WatchResponse(serializedBytes: bytes)
        seen += response.events.map { String(decoding: $0.kv.key, as: UTF8.self) }
      }
      #expect(seen == (0..<5).map { "w/\($0)" })

      // The other direction keeps working on the same stream: cancel the watcher.
      var cancel = Etcdserverpb_WatchRequest()
      var cancelRequest = Etcdserverpb_WatchCancelRequest()
      cancelRequest.watchID = created.watchID
      cancel.cancelRequest = cancelRequest
      stream.send(try client.frame(cancel))
      let cancelled = try Etcdserverpb_WatchResponse(serializedBytes: try #require(await iterator.next()))
      #expect(cancelled.canceled)
      stream.cancel()
      #expect(client.connectAttempts == 1)
      // Unary calls share the connection with the stream.
      #expect(try await client.get("w/0").kvs.count == 1)
    }
  }
}
