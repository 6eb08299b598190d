import Testing

@testable import EtcdClient

@Suite("Auth tokens against a real etcd", .serialized)
struct AuthTokenTests {
  @Test func clientAuthenticatesSendsTheTokenAndRefreshesItOnce() async throws {
    // Simple tokens live one second here, so the client must fetch a new one during the test.
    try await withEtcd(extraArguments: ["--auth-token-ttl", "1"]) { etcd in
      let admin = try EtcdClient(endpoints: etcd.endpoints)
      try await admin.addUser("root", password: "rootpw")
      try await admin.grantRole("root", toUser: "root")
      try await admin.enableAuth()
      await expectEtcdError(.userEmpty) { try await admin.put("k", "v") }
      await admin.close()

      var configuration = EtcdClient.Configuration(endpoints: etcd.endpoints)
      configuration.username = "root"
      configuration.password = "rootpw"
      let client = try EtcdClient(configuration: configuration)
      defer { Task { await client.close() } }

      try await client.put("k", "v1")
      #expect(try await client.get("k").kvs.first?.valueString == "v1")
      #expect(client.authTokenStore?.current.generation == 1)

      // Watches carry the token too.
      let revision = try await client.put("k", "v2").header.revision
      var watch = client.watch("k", options: .init(startRevision: revision)).makeAsyncIterator()
      #expect(try await collectEvents(&watch, count: 1).first?.kv.valueString == "v2")

      // After the token expired, the next call fails once with invalidAuthToken, refreshes, and succeeds.
      try await Task.sleep(for: .seconds(3))
      try await client.put("k", "v3")
      #expect(try await client.get("k").kvs.first?.valueString == "v3")
      #expect((client.authTokenStore?.current.generation ?? 0) >= 2)

      // Wrong credentials: a clear typed error, and nothing retried forever.
      var wrong = EtcdClient.Configuration(endpoints: etcd.endpoints)
      wrong.username = "root"
      wrong.password = "nope"
      let intruder = try EtcdClient(configuration: wrong)
      await expectEtcdError(.authFailed) { _ = try await intruder.get("k") }
      await intruder.close()
    }
  }
}
