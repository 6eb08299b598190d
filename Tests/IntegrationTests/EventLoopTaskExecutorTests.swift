import NIOCore
import Testing

#if canImport(Glibc)
  import Glibc
#endif

@testable import EtcdClient

@Suite("Calls from a task on the client's event loop", .serialized)
struct EventLoopTaskExecutorTests {
  @Test func aTaskPreferringTheClientsExecutorRunsOnItsLoopAndCallsWork() async throws {
    try await withEtcd { etcd in
      let client = try EtcdClient(endpoints: etcd.endpoints)
      defer { Task { await client.close() } }
      #expect(client.endpoints.all.allSatisfy { $0.eventLoop === client.taskExecutor.eventLoop })
      let outcome = try await Task(executorPreference: client.taskExecutor) {
        () async throws -> (onLoop: [Bool], values: [String], events: [String]) in
        var onLoop = [client.taskExecutor.eventLoop.inEventLoop]
        var values: [String] = []
        let start = try await client.put("el/0", "v0").header.revision
        onLoop.append(client.taskExecutor.eventLoop.inEventLoop)
        for index in 1...200 {
          try await client.put("el/\(index)", "v\(index)")
          values.append(try await client.get("el/\(index)").kvs.first?.valueString ?? "")
        }
        onLoop.append(client.taskExecutor.eventLoop.inEventLoop)
        var events: [String] = []
        var watch = client.watch("el/", options: .init(range: .prefix, startRevision: start)).makeAsyncIterator()
        while events.count < 3, let response = try await watch.next() {
          events += response.events.map(\.kv.keyString)
        }
        onLoop.append(client.taskExecutor.eventLoop.inEventLoop)
        return (onLoop, values, Array(events.prefix(3)))
      }.value
      #expect(outcome.onLoop == [true, true, true, true])
      #expect(outcome.values == (1...200).map { "v\($0)" })
      #expect(outcome.events == ["el/0", "el/1", "el/2"])
    }
  }

  @Test func cancellingATaskOnTheLoopEndsItsCallTyped() async throws {
    try await withEtcd { etcd in
      let client = try EtcdClient(endpoints: etcd.endpoints)
      defer { Task { await client.close() } }
      let member = etcd.members[0]
      _ = try await client.get("warm")
      member.signal(SIGSTOP)
      defer { member.signal(SIGCONT) }
      let task = Task(executorPreference: client.taskExecutor) { () async -> EtcdError? in
        do {
          _ = try await client.get("k", timeout: .seconds(30))
          return nil
        } catch let error as EtcdError {
          return error
        } catch {
          return nil
        }
      }
      try await Task.sleep(for: .milliseconds(200))
      task.cancel()
      let error = await task.value
      #expect(error?.code == .cancelled)
    }
  }
}
