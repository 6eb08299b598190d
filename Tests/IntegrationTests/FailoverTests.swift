import Foundation
import Synchronization
import Testing

#if canImport(Glibc)
  import Glibc
#endif

@testable import EtcdClient

@Suite("Failover on a 3-node cluster", .serialized)
struct FailoverTests {
  @Test func killingAMemberUnderLoadLosesNoAcknowledgedWrite() async throws {
    try await withEtcd(size: 3) { etcd in
      var configuration = EtcdClient.Configuration(endpoints: etcd.endpoints)
      configuration.dialTimeout = .seconds(1)
      let client = try EtcdClient(configuration: configuration)
      defer { Task { await client.close() } }
      let victim = etcd.members[1]
      var acknowledged: [Int] = []
      var failed = 0
      for index in 0..<300 {
        if index == 100 { victim.kill() }
        if index == 200 { try await etcd.restart(victim) }
        do {
          try await client.put("load/\(index)", "v\(index)", timeout: .seconds(5))
          acknowledged.append(index)
        } catch {
          failed += 1
        }
      }
      // Puts to the dead member never reached it and were retried elsewhere; at most the few in flight
      // at the moment of the kill may fail.
      #expect(failed <= 3, "\(failed) puts failed")
      let stored = try await client.get("load/", options: .prefix)
      let values = Dictionary(uniqueKeysWithValues: stored.kvs.map { ($0.keyString, $0.valueString) })
      for index in acknowledged {
        #expect(values["load/\(index)"] == "v\(index)", "acknowledged put \(index) is missing")
      }
      // The member is used again once it is back.
      let status = try await client.status(endpoint: victim.endpoint)
      #expect(status.header.memberID != 0)
    }
  }

  @Test func readsAreRetriedOnAnotherEndpoint() async throws {
    try await withEtcd(size: 3) { etcd in
      let client = try EtcdClient(endpoints: etcd.endpoints)
      defer { Task { await client.close() } }
      try await client.put("r", "v")
      etcd.members[0].kill()
      for _ in 0..<10 {
        #expect(try await client.get("r", timeout: .seconds(5)).kvs.first?.valueString == "v")
      }
    }
  }

  @Test func keepalivePingDetectsAStoppedMemberAndTheWatchMovesOn() async throws {
    try await withEtcd(size: 3) { etcd in
      // Stop a follower: a stopped leader would stall the writes below for an election.
      let leader = try await currentLeader(of: etcd)
      let follower = try #require(etcd.members.first { $0 !== leader })
      let others = etcd.members.filter { $0 !== follower }.map(\.endpoint)
      var configuration = EtcdClient.Configuration(endpoints: [follower.endpoint] + others)
      configuration.keepalive = .init(interval: .seconds(5), timeout: .seconds(1))
      configuration.dialTimeout = .seconds(1)
      let client = try EtcdClient(configuration: configuration)
      defer { Task { await client.close() } }
      let writer = try EtcdClient(endpoints: [leader.endpoint])
      defer { Task { await writer.close() } }

      let start = try await writer.put("ka", "0").header.revision
      // The client's first pick is the first endpoint: the watch stream goes to the follower.
      var watch = client.watch("ka", options: .init(startRevision: start)).makeAsyncIterator()
      #expect(try await collectEvents(&watch, count: 1).first?.kv.valueString == "0")
      let stopped = follower
      stopped.signal(SIGSTOP)
      defer { stopped.signal(SIGCONT) }
      try await writer.put("ka", "1")
      try await writer.put("ka", "2")
      let began = ContinuousClock.now
      let events = try await collectEvents(&watch, count: 2, timeout: .seconds(30))
      #expect(events.map(\.kv.valueString) == ["1", "2"])
      // Detected by the keepalive (5 s interval + 1 s timeout), not by TCP.
      #expect(ContinuousClock.now - began < .seconds(20))
    }
  }

  @Test func aClientWhoseMembersAllStopRecoversByItself() async throws {
    try await withEtcd(size: 3) { etcd in
      var configuration = EtcdClient.Configuration(endpoints: etcd.endpoints)
      configuration.dialTimeout = .milliseconds(500)
      let client = try EtcdClient(configuration: configuration)
      defer { Task { await client.close() } }
      try await client.put("all", "before")
      for member in etcd.members { member.stop() }

      let began = ContinuousClock.now
      do {
        _ = try await client.get("all", timeout: .seconds(2))
        Issue.record("a call with every member down cannot succeed")
      } catch let error as EtcdError {
        #expect(error.status.code == .unavailable || error.status.code == .deadlineExceeded, "\(error)")
      }
      #expect(ContinuousClock.now - began < .seconds(4), "the deadline bounds the retries")

      for member in etcd.members { try etcd.restartWithoutWaiting(member) }
      var value: String?
      for _ in 0..<100 where value == nil {
        value = try? await client.get("all", timeout: .seconds(2)).kvs.first?.valueString
        if value == nil { try await Task.sleep(for: .milliseconds(200)) }
      }
      #expect(value == "before")
    }
  }

  @Test func writesDuringALeaderChangeAreNotLost() async throws {
    try await withEtcd(size: 3) { etcd in
      let client = try EtcdClient(endpoints: etcd.endpoints)
      defer { Task { await client.close() } }
      var leaderEndpoint: String?
      var followerID: UInt64?
      for member in etcd.members {
        let status = try await client.status(endpoint: member.endpoint)
        if status.leader == status.header.memberID {
          leaderEndpoint = member.endpoint
        } else {
          followerID = status.header.memberID
        }
      }
      let leader = try #require(leaderEndpoint)
      let target = try #require(followerID)
      let writes = Task {
        var acknowledged: [Int] = []
        for index in 0..<200 {
          if (try? await client.put("lc/\(index)", "\(index)", timeout: .seconds(5))) != nil {
            acknowledged.append(index)
          }
        }
        return acknowledged
      }
      try await Task.sleep(for: .milliseconds(100))
      try await client.moveLeader(to: target, endpoint: leader)
      let acknowledged = await writes.value
      #expect(acknowledged.count >= 190)
      let stored = Set(try await client.get("lc/", options: .prefix).kvs.map(\.keyString))
      for index in acknowledged { #expect(stored.contains("lc/\(index)")) }
      let newLeader = try await client.status(endpoint: leader).leader
      #expect(newLeader == target)
    }
  }

  @Test func autoSyncPicksUpTheMembersClientURLs() async throws {
    try await withEtcd(size: 3) { etcd in
      // Given one endpoint, the client learns the others from the member list.
      let client = try EtcdClient(endpoints: [etcd.members[0].endpoint])
      defer { Task { await client.close() } }
      try await client.syncEndpoints()
      let known = Set(client.endpoints.all.map(\.endpoint.authority))
      #expect(known == Set(etcd.endpoints))
      etcd.members[0].kill()
      // Member 0 may have been the leader: allow the others a new election (bounded).
      var written = false
      for _ in 0..<10 where !written {
        written = (try? await client.put("synced", "yes", timeout: .seconds(3))) != nil
      }
      #expect(written)
    }
  }
}
