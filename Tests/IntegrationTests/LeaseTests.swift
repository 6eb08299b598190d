import Foundation
import Testing

#if canImport(Glibc)
  import Glibc
#endif

@testable import EtcdClient

@Suite("Lease against a real etcd", .serialized)
struct LeaseTests {
  @Test func grantTimeToLiveLeasesAndRevoke() async throws {
    try await withEtcd { etcd in
      let client = try EtcdClient(endpoints: etcd.endpoints)
      defer { Task { await client.close() } }

      let lease = try await client.grantLease(ttl: .seconds(60))
      #expect(lease.id.rawValue != 0)
      #expect(lease.ttl == .seconds(60))
      #expect(lease.header.revision >= 1)

      let chosen = try await client.grantLease(ttl: .seconds(30), id: LeaseID(0x1234))
      #expect(chosen.id == LeaseID(0x1234))
      await expectEtcdError(.leaseExist, grpcCode: .failedPrecondition) {
        _ = try await client.grantLease(ttl: .seconds(30), id: LeaseID(0x1234))
      }

      try await client.put("leased/a", "1", options: .init(lease: lease.id))
      try await client.put("leased/b", "2", options: .init(lease: lease.id))
      try await client.put("unleased", "3")

      let withKeys = try await client.leaseTimeToLive(lease.id, keys: true)
      #expect(withKeys.id == lease.id)
      #expect((Duration.seconds(1)...Duration.seconds(60)).contains(try #require(withKeys.ttl)))
      #expect(withKeys.grantedTTL == .seconds(60))
      let keys = withKeys.keys.map { String(decoding: $0, as: UTF8.self) }
      #expect(keys.sorted() == ["leased/a", "leased/b"])
      let withoutKeys = try await client.leaseTimeToLive(lease.id)
      #expect(withoutKeys.keys.isEmpty)
      #expect(withoutKeys.grantedTTL == .seconds(60))

      let leases = try await client.leases()
      #expect(Set(leases) == [lease.id, chosen.id])

      let revoked = try await client.revokeLease(lease.id)
      #expect(revoked.header.revision > withKeys.header.revision)
      #expect(try await client.get("leased/", options: .prefix).count == 0)
      #expect(try await client.get("unleased").count == 1)
      #expect(try await client.leases() == [chosen.id])

      // A lease that is gone is no error for TimeToLive: it has no TTL.
      let gone = try await client.leaseTimeToLive(lease.id, keys: true)
      #expect(gone.ttl == nil)
      #expect(gone.grantedTTL == .seconds(0))
      #expect(gone.keys.isEmpty)

      await expectEtcdError(.leaseNotFound, grpcCode: .notFound) {
        try await client.revokeLease(lease.id)
      }
      // A key cannot be put with a lease that does not exist.
      await expectEtcdError(.leaseNotFound, grpcCode: .notFound) {
        try await client.put("leased/c", "4", options: .init(lease: lease.id))
      }
    }
  }

  @Test func aLeaseExpiringOnItsOwnDeletesItsKeys() async throws {
    try await withEtcd { etcd in
      let client = try EtcdClient(endpoints: etcd.endpoints)
      defer { Task { await client.close() } }
      let lease = try await client.grantLease(ttl: .seconds(2))
      #expect(lease.ttl == .seconds(2))
      try await client.put("ephemeral", "here", options: .init(lease: lease.id))
      #expect(try await client.get("ephemeral").count == 1)

      let start = ContinuousClock.now
      var gone = false
      while ContinuousClock.now - start < .seconds(10) {
        if try await client.get("ephemeral").count == 0 {
          gone = true
          break
        }
        try await Task.sleep(for: .milliseconds(200))
      }
      #expect(gone, "the key outlived its 2-second lease by more than 8 seconds")
      #expect(ContinuousClock.now - start >= .seconds(1))
      #expect(try await client.leaseTimeToLive(lease.id).ttl == nil)
      #expect(try await client.leases().isEmpty)
    }
  }

  @Test func keepAliveOnceRenewsTheTTLAndFailsForAGoneLease() async throws {
    try await withEtcd { etcd in
      let client = try EtcdClient(endpoints: etcd.endpoints)
      defer { Task { await client.close() } }
      let lease = try await client.grantLease(ttl: .seconds(10))
      try await Task.sleep(for: .milliseconds(2100))
      let before = try await client.leaseTimeToLive(lease.id)
      let beforeTTL = try #require(before.ttl)
      #expect(beforeTTL <= .seconds(8))

      let kept = try await client.keepAliveOnce(lease.id)
      #expect(kept.id == lease.id)
      #expect(kept.ttl == .seconds(10))
      #expect(kept.header.memberID != 0)
      let after = try await client.leaseTimeToLive(lease.id)
      let afterTTL = try #require(after.ttl)
      #expect(afterTTL > beforeTTL)
      #expect(afterTTL >= .seconds(9))

      // The stream of each call is its own: several in a row work.
      for _ in 0..<3 {
        #expect(try await client.keepAliveOnce(lease.id, timeout: .seconds(2)).ttl == .seconds(10))
      }

      try await client.revokeLease(lease.id)
      let error = await expectEtcdError(.leaseNotFound, grpcCode: .notFound) {
        try await client.keepAliveOnce(lease.id)
      }
      #expect(error?.message == "etcdserver: requested lease not found")
      await expectEtcdError(.leaseNotFound, grpcCode: .notFound) {
        try await client.keepAliveOnce(LeaseID(0x7777))
      }
    }
  }

  @Test func keepAliveOnceIsBoundedByItsTimeout() async throws {
    try await withEtcd { etcd in
      let client = try EtcdClient(endpoints: etcd.endpoints)
      defer { Task { await client.close() } }
      let lease = try await client.grantLease(ttl: .seconds(60))
      // Stop the server's process: the connection stays up, nothing answers.
      etcd.members[0].signal(SIGSTOP)
      let start = ContinuousClock.now
      await expectEtcdError(.deadlineExceeded, grpcCode: .deadlineExceeded) {
        try await client.keepAliveOnce(lease.id, timeout: .milliseconds(500))
      }
      #expect(ContinuousClock.now - start < .seconds(3))
      etcd.members[0].signal(SIGCONT)
      #expect(try await client.keepAliveOnce(lease.id, timeout: .seconds(5)).ttl == .seconds(60))
    }
  }
}
