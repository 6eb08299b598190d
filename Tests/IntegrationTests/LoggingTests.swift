import Logging
import Testing

#if canImport(Glibc)
  import Glibc
#endif

@testable import EtcdClient

@Suite("Client logs against a real etcd", .serialized)
struct LoggingTests {
  @Test func connectionAndAuthEventsAreLoggedWithoutThePasswordOrTheToken() async throws {
    let password = "pw-Sekr1t-7f3a"
    // Simple tokens live one second here, so the client fetches a second one during the test.
    try await withEtcd(extraArguments: ["--auth-token-ttl", "1"]) { etcd in
      let admin = try EtcdClient(endpoints: etcd.endpoints)
      try await admin.addUser("root", password: password)
      try await admin.grantRole("root", toUser: "root")
      try await admin.enableAuth()
      await admin.close()

      let lines = CapturingLogHandler.Lines()
      var configuration = EtcdClient.Configuration(endpoints: etcd.endpoints)
      configuration.username = "root"
      configuration.password = password
      configuration.logger = Logger(label: "test") { _ in CapturingLogHandler(lines: lines) }
      let client = try EtcdClient(configuration: configuration)

      var tokens: [String] = []
      try await client.put("k", "v1")
      tokens += [client.authTokenStore?.current.token].compactMap { $0 }
      let revision = try await client.put("k", "v2").header.revision
      var watch = client.watch("k", options: .init(startRevision: revision)).makeAsyncIterator()
      #expect(try await collectEvents(&watch, count: 1).first?.kv.valueString == "v2")
      try await Task.sleep(for: .seconds(3))
      try await client.put("k", "v3")
      tokens += [client.authTokenStore?.current.token].compactMap { $0 }
      await client.close()

      let logged = lines.all
      #expect(tokens.count == 2 && tokens[0] != tokens[1], "\(tokens)")
      #expect(logged.contains { $0.hasPrefix("info auth token fetched ") && $0.contains("etcd.user=root") })
      #expect(logged.contains { $0.hasPrefix("info auth token refreshed ") })
      let endpoint = "etcd.endpoint=\(etcd.endpoints[0])"
      #expect(logged.filter { $0.hasPrefix("info connected ") && $0.contains(endpoint) }.count == 1)
      #expect(logged.contains { $0.hasPrefix("info disconnected ") && $0.contains(endpoint) })
      // No secret in any line.
      for line in logged {
        #expect(!line.contains(password), "\(line)")
        for token in tokens { #expect(!line.contains(token), "\(line)") }
      }
    }
  }

  @Test func aCallThatFailsOverToAnotherMemberLogsTheFailedConnectAndTheFailover() async throws {
    try await withEtcd { etcd in
      let lines = CapturingLogHandler.Lines()
      let unreachable = "127.0.0.1:1"
      var configuration = EtcdClient.Configuration(endpoints: [unreachable] + etcd.endpoints)
      configuration.logger = Logger(label: "test") { _ in
        CapturingLogHandler(lines: lines, logLevel: .info)
      }
      let client = try EtcdClient(configuration: configuration)
      // Calls go to the endpoints in turn: the first goes to the unreachable one, and fails over.
      for _ in 0..<2 { _ = try await client.get("k") }
      await client.close()

      let logged = lines.all
      #expect(
        logged.contains {
          $0.hasPrefix("warning connect failed ") && $0.contains("etcd.endpoint=\(unreachable)")
        }, "\(logged)")
      let failover = logged.filter { $0.hasPrefix("notice call failing over to another member ") }
      #expect(failover.count == 1, "\(logged)")
      #expect(failover.first?.contains("etcd.endpoint=\(unreachable)") == true)
      #expect(failover.first?.contains("etcd.next_endpoint=\(etcd.endpoints[0])") == true)
      #expect(failover.first?.contains("rpc.method=/etcdserverpb.KV/Range") == true)
      #expect(failover.first?.contains("error=connection_failed") == true)
      #expect(failover.first?.contains("etcd.attempt=1") == true)
    }
  }

  @Test func aLostLeaseAndAResumedStreamAreLogged() async throws {
    try await withEtcd { etcd in
      let lines = CapturingLogHandler.Lines()
      var configuration = EtcdClient.Configuration(endpoints: etcd.endpoints)
      configuration.logger = Logger(label: "test") { _ in CapturingLogHandler(lines: lines) }
      let client = try EtcdClient(configuration: configuration)

      // A watch whose stream the client reopens after the member restarts.
      #expect(try await watchAcrossARestart(client, etcd, key: "w") == "1")

      // A kept lease revoked on the server.
      let lease = try await client.grantLease(ttl: .seconds(5))
      var renewals = client.keepAlive(lease.id).makeAsyncIterator()
      _ = try await renewals.next()
      try await client.revokeLease(lease.id)
      await #expect(throws: EtcdError.self) { while try await renewals.next() != nil {} }
      await client.close()

      let logged = lines.all
      let resumed = logged.filter { $0.hasPrefix("info stream resumed ") }
      #expect(resumed.contains { $0.contains("rpc.method=/etcdserverpb.Watch/Watch") }, "\(logged)")
      #expect(resumed.allSatisfy { $0.contains("etcd.resumptions=") })
      #expect(logged.filter { $0.hasPrefix("warning lease lost ") }.count == 1, "\(logged)")
      // The member's end closed the connection; the client logged it, and connected again.
      #expect(logged.filter { $0.hasPrefix("info connected ") }.count >= 2)
      #expect(logged.contains { $0.hasPrefix("info disconnected ") })
    }
  }

  @Test func aKeepaliveTimeoutIsLoggedOnceWithTheDisconnect() async throws {
    // etcd refuses pings more often than --grpc-keepalive-min-time (5 s by default).
    try await withEtcd(extraArguments: ["--grpc-keepalive-min-time", "100ms"]) { etcd in
      let lines = CapturingLogHandler.Lines()
      var configuration = EtcdClient.Configuration(endpoints: etcd.endpoints)
      configuration.keepalive = .init(interval: .milliseconds(500), timeout: .milliseconds(500))
      configuration.logger = Logger(label: "test") { _ in CapturingLogHandler(lines: lines) }
      let client = try EtcdClient(configuration: configuration)
      let member = etcd.members[0]

      // The client pings while a call is open: a watch.
      let revision = try await client.put("k", "1").header.revision
      var events = client.watch("k", options: .init(startRevision: revision)).makeAsyncIterator()
      #expect(try await collectEvents(&events, count: 1).count == 1)
      member.signal(SIGSTOP)
      let deadline = ContinuousClock.now + .seconds(5)
      while !lines.all.contains(where: { $0.hasPrefix("warning keepalive PING timed out ") }),
        ContinuousClock.now < deadline
      {
        try await Task.sleep(for: .milliseconds(100))
      }
      member.signal(SIGCONT)
      let logged = lines.all
      let timedOut = logged.filter { $0.hasPrefix("warning keepalive PING timed out ") }
      #expect(timedOut.count == 1, "\(logged)")
      #expect(timedOut.first?.contains("etcd.endpoint=\(etcd.endpoints[0])") == true)
      #expect(
        logged.contains { $0.hasPrefix("info disconnected ") && $0.contains("keepalive") },
        "\(logged)")

      await client.close()
    }
  }
}
