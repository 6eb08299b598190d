import Logging
import ServiceLifecycle
import Testing

@testable import EtcdClient

/// `EtcdClient.run()`: the client as a swift-service-lifecycle `Service`, closed when its group shuts down,
/// when the running Task is cancelled, or by `close()`.
@Suite("EtcdClient's lifecycle against a real etcd", .serialized)
struct ClientLifecycleTests {
  private static let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })

  @Test func aServiceGroupsGracefulShutdownClosesTheClient() async throws {
    try await withEtcd { etcd in
      let client = try EtcdClient(endpoints: etcd.endpoints)
      let group = ServiceGroup(services: [client], logger: Self.logger)
      try await withThrowingTaskGroup(of: Void.self) { tasks in
        tasks.addTask { try await group.run() }
        try await client.put("lifecycle/a", "1")
        #expect(try await client.get("lifecycle/a").count == 1)
        await group.triggerGracefulShutdown()
        // The group returns once the client's run() has closed it.
        try await tasks.next()
      }
      await expectEtcdError(.clientClosed) { _ = try await client.get("lifecycle/a") }
    }
  }

  @Test func cancellingTheRunningTaskClosesTheClient() async throws {
    try await withEtcd { etcd in
      let client = try EtcdClient(endpoints: etcd.endpoints)
      let running = Task { try await client.run() }
      try await client.put("lifecycle/b", "1")
      running.cancel()
      try await running.value
      await expectEtcdError(.clientClosed) { _ = try await client.get("lifecycle/b") }
    }
  }

  @Test func closeEndsRun() async throws {
    try await withEtcd { etcd in
      let client = try EtcdClient(endpoints: etcd.endpoints)
      let running = Task { try await client.run() }
      try await client.put("lifecycle/c", "1")
      await client.close()
      try await running.value
      // Running a closed client returns at once.
      try await client.run()
    }
  }

  @Test func closeWaitsForTheAutoSyncTask() async throws {
    try await withEtcd { etcd in
      var configuration = EtcdClient.Configuration(endpoints: etcd.endpoints)
      configuration.autoSyncInterval = .milliseconds(50)
      let client = try EtcdClient(configuration: configuration)
      try await Task.sleep(for: .milliseconds(200))
      await client.close()
      #expect(client.isAutoSyncFinished)
    }
  }
}
