import Foundation
import Synchronization
import Testing

@testable import EtcdClient

/// The scoped helpers: `EtcdMutex.withLock` and `EtcdClient.withLease` clean up after their body, however it
/// ends.
@Suite("Scoped helpers against a real etcd", .serialized)
struct ScopedHelperTests {
  private struct BodyFailed: Error {}

  @Test func withLockHoldsTheLockForTheBodyAndReleasesItAfterwards() async throws {
    try await withEtcd { etcd in
      let client = try EtcdClient(endpoints: etcd.endpoints)
      defer { Task { await client.close() } }
      try await withEtcdSession(client: client, ttl: .seconds(30)) { first in
        try await withEtcdSession(client: client, ttl: .seconds(30)) { second in
          let mutexA = EtcdMutex(session: first, prefix: "scoped/lock")
          let mutexB = EtcdMutex(session: second, prefix: "scoped/lock")

          let value = try await mutexA.withLock { () async throws -> Int in
            // Held: the other contender cannot take it now.
            #expect(try await mutexB.tryLock() == false)
            #expect(try await mutexA.isOwner())
            return 42
          }
          #expect(value == 42)
          #expect(try await client.get("scoped/lock", options: .prefix).count == 0)

          // A body that throws releases the lock too, and its error comes out.
          await #expect(throws: BodyFailed.self) {
            try await mutexA.withLock { throw BodyFailed() }
          }
          #expect(try await client.get("scoped/lock", options: .prefix).count == 0)
          #expect(try await mutexB.tryLock())
          try await mutexB.unlock()
        }
      }
    }
  }

  @Test func withLockReleasesTheLockWhenTheTaskIsCancelled() async throws {
    try await withEtcd { etcd in
      let client = try EtcdClient(endpoints: etcd.endpoints)
      defer { Task { await client.close() } }
      try await withEtcdSession(client: client, ttl: .seconds(30)) { session in
        let mutex = EtcdMutex(session: session, prefix: "scoped/cancel")
        let entered = Mutex(false)
        let task = Task {
          try await mutex.withLock {
            entered.withLock { $0 = true }
            try await Task.sleep(for: .seconds(30))
          }
        }
        for _ in 0..<200 where !entered.withLock({ $0 }) { try await Task.sleep(for: .milliseconds(25)) }
        #expect(entered.withLock { $0 })
        task.cancel()
        await #expect(throws: CancellationError.self) { try await task.value }
        #expect(try await client.get("scoped/cancel", options: .prefix).count == 0)
      }
    }
  }

  @Test func withLeaseKeepsTheLeaseForTheBodyAndRevokesItAfterwards() async throws {
    try await withEtcd { etcd in
      let client = try EtcdClient(endpoints: etcd.endpoints)
      defer { Task { await client.close() } }
      // A TTL far shorter than the body: only the renewals keep the key.
      let leaseID = try await client.withLease(ttl: .seconds(2)) { lease in
        try await client.put("scoped/lease", "x", options: .init(lease: lease.id))
        try await Task.sleep(for: .seconds(4))
        #expect(try await client.get("scoped/lease").count == 1)
        return lease.id
      }
      #expect(try await client.get("scoped/lease").count == 0)
      #expect(try await client.leases().contains(leaseID) == false)

      let thrown = Mutex<LeaseID?>(nil)
      await #expect(throws: BodyFailed.self) {
        try await client.withLease(ttl: .seconds(30)) { lease in
          thrown.withLock { $0 = lease.id }
          throw BodyFailed()
        }
      }
      let thrownID = try #require(thrown.withLock { $0 })
      #expect(try await client.leases().contains(thrownID) == false)
    }
  }

  @Test func withLeaseCancelsTheBodyWhenTheLeaseIsLost() async throws {
    try await withEtcd { etcd in
      let client = try EtcdClient(endpoints: etcd.endpoints)
      defer { Task { await client.close() } }
      let revoker = try EtcdClient(endpoints: etcd.endpoints)
      defer { Task { await revoker.close() } }
      let bodyCancelled = Mutex(false)
      let started = ContinuousClock.now
      let error = await expectEtcdError(.leaseNotFound) {
        _ = try await client.withLease(ttl: .seconds(3)) { lease in
          // Someone else revokes the lease while the body works.
          _ = try await revoker.revokeLease(lease.id)
          do {
            try await Task.sleep(for: .seconds(30))
          } catch {
            bodyCancelled.withLock { $0 = true }
            throw error
          }
        }
      }
      #expect(error != nil)
      #expect(bodyCancelled.withLock { $0 })
      // Found at the next renewal, a third of the TTL after the last: far less than the body's sleep.
      #expect(ContinuousClock.now - started < .seconds(20))
    }
  }
}
