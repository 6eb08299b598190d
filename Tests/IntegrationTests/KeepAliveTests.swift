import Testing

@testable import EtcdClient

@Suite("Lease keep-alive against a real etcd", .serialized)
struct KeepAliveTests {
  @Test func keptLeaseOutlivesItsTTLAndEndsWhenRevoked() async throws {
    try await withEtcd { etcd in
      let client = try EtcdClient(endpoints: etcd.endpoints)
      defer { Task { await client.close() } }
      let kept = try await client.grantLease(ttl: .seconds(2))
      let other = try await client.grantLease(ttl: .seconds(2))
      try await client.put("kept", "v", options: .init(lease: kept.id))
      // A second lease kept on the same stream at the same time.
      var secondIterator = client.keepAlive(other.id).makeAsyncIterator()

      let renewals = Task {
        var count = 0
        do {
          for try await response in client.keepAlive(kept.id) {
            #expect(response.id == kept.id)
            #expect(response.ttl == .seconds(2))
            count += 1
          }
          return (count, nil as EtcdError?)
        } catch let error as EtcdError {
          return (count, error)
        }
      }
      // Two TTLs later the kept lease and its key are still there.
      try await Task.sleep(for: .seconds(4))
      #expect(try await client.get("kept").count == 1)
      #expect(try await client.leaseTimeToLive(kept.id).ttl != nil)
      #expect(try await secondIterator.next()?.id == other.id)

      try await client.revokeLease(kept.id)
      let (count, error) = try await renewals.value
      // Renewed about every 2/3 s for 4 s.
      #expect(count >= 4, "renewed \(count) times")
      #expect(error?.code == .leaseNotFound)
      #expect(try await client.get("kept").count == 0)
      // The other lease is still renewed.
      #expect(try await secondIterator.next()?.id == other.id)
    }
  }

  @Test func leavingTheLoopStopsRenewingSoTheLeaseExpires() async throws {
    try await withEtcd { etcd in
      let client = try EtcdClient(endpoints: etcd.endpoints)
      defer { Task { await client.close() } }
      let lease = try await client.grantLease(ttl: .seconds(2))
      try await client.put("short", "v", options: .init(lease: lease.id))
      for try await _ in client.keepAlive(lease.id) { break }
      // No renewals now: etcd expires the lease (bounded wait).
      var gone = false
      for _ in 0..<100 where !gone {
        gone = try await client.get("short").count == 0
        if !gone { try await Task.sleep(for: .milliseconds(100)) }
      }
      #expect(gone)
    }
  }
}
