import Foundation
import Testing

@testable import EtcdClient
import LoopbackTestSupport

@Suite("Cluster against a real etcd", .serialized)
struct ClusterTests {
  @Test func memberListOfOneMember() async throws {
    try await withEtcd { etcd in
      let client = try EtcdClient(endpoints: etcd.endpoints)
      defer { Task { await client.close() } }
      let list = try await client.memberList()
      #expect(list.members.count == 1)
      let member = try #require(list.members.first)
      #expect(member.id != 0)
      #expect(member.id == list.header.memberID)
      #expect(member.name == etcd.members[0].name)
      #expect(member.peerURLs == [etcd.members[0].peerURL])
      #expect(member.clientURLs == [etcd.members[0].clientURL])
      #expect(!member.isLearner)
      #expect(list.header.clusterID != 0)
    }
  }

  @Test func memberListOfThreeMembers() async throws {
    try await withEtcd(size: 3) { etcd in
      let client = try EtcdClient(endpoints: etcd.endpoints)
      defer { Task { await client.close() } }
      let list = try await client.memberList()
      #expect(list.members.count == 3)
      #expect(Set(list.members.map(\.name)) == Set(etcd.members.map(\.name)))
      #expect(Set(list.members.flatMap(\.clientURLs)) == Set(etcd.members.map(\.clientURL)))
      #expect(Set(list.members.map(\.id)).count == 3)
      #expect(list.members.allSatisfy { !$0.isLearner })
      // Every member tells the same story.
      for _ in 0..<2 {
        #expect(Set(try await client.memberList().members) == Set(list.members))
      }
    }
  }

  /// A linearizable list needs a leader from etcd 3.5; etcd 3.4 ignores the field. A member cut
  /// off from the two others tells them apart: it still lists the members from what it has
  /// applied, and only etcd 3.4 does so when asked for a linearizable list.
  @Test func linearizableMemberListOnEachServerVersion() async throws {
    try await withEtcd(size: 3) { etcd in
      let version = try #require(
        EtcdTestCluster.binaryMinorVersion, "\(EtcdTestCluster.binary) --version failed")
      let client = try EtcdClient(endpoints: [etcd.members[0].endpoint])
      defer { Task { await client.close() } }

      let linearizable = try await client.memberList(linearizable: true)
      #expect(linearizable.members.count == 3)
      #expect(Set(linearizable.members.map(\.name)) == Set(etcd.members.map(\.name)))
      #expect(linearizable.header.memberID == linearizable.members.first { $0.name == "m0" }?.id)
      #expect(Set(try await client.memberList().members) == Set(linearizable.members))

      etcd.members[1].stop()
      etcd.members[2].stop()
      #expect(try await client.memberList().members.count == 3)
      switch version {
      case "3.4":
        let list = try await client.memberList(linearizable: true, timeout: .seconds(2))
        #expect(Set(list.members) == Set(linearizable.members))
      case "3.5":
        // No quorum, no read index: the call ends at its deadline. The member's context ends with
        // the same deadline (sent as grpc-timeout), so either side may end the call.
        let start = ContinuousClock.now
        do {
          let list = try await client.memberList(linearizable: true, timeout: .seconds(2))
          Issue.record("a linearizable list without a quorum answered: \(list)")
        } catch let error as EtcdError {
          #expect(error.status.code == .deadlineExceeded, "\(error)")
          #expect(error.code == .deadlineExceeded || error.code == .rpcFailed, "\(error)")
        }
        #expect(ContinuousClock.now - start >= .seconds(2))
      default:
        Issue.record("no expectation for etcd \(version)")
      }
    }
  }

  @Test func addLearnerUpdatePromoteAndRemove() async throws {
    try await withEtcd(size: 3) { etcd in
      let client = try EtcdClient(endpoints: etcd.endpoints)
      defer { Task { await client.close() } }
      // A learner that never starts: enough for the membership calls.
      let peerURL = "http://127.0.0.1:\(try freeLoopbackPort())"
      // etcd refuses membership changes (`.unhealthy`) until every voting member has been connected
      // for 5 seconds (its strict reconfiguration check); a fresh cluster has to wait for that.
      let start = ContinuousClock.now
      var result: MemberAddResponse?
      while result == nil {
        do {
          result = try await client.addMember(peerURLs: [peerURL], isLearner: true)
        } catch let error as EtcdError where error.code == .unhealthy {
          #expect(error.status.code == .unavailable)
          guard ContinuousClock.now - start < .seconds(15) else { throw error }
          try await Task.sleep(for: .milliseconds(250))
        }
      }
      let added = try #require(result)
      #expect(added.member.id != 0)
      #expect(added.member.isLearner)
      #expect(added.member.peerURLs == [peerURL])
      #expect(added.member.name.isEmpty)
      #expect(added.members.count == 4)
      #expect(added.members.contains(added.member))

      let list = try await memberList(of: client, settlingOn: 4)
      #expect(list.members.count == 4)
      #expect(list.members.first { $0.id == added.member.id }?.isLearner == true)

      // A peer URL in use. (The same URLs alone again, within the same second, would give the same
      // member id, which etcd checks first and answers `.memberExist`.)
      await expectEtcdError(.peerURLExist, grpcCode: .failedPrecondition) {
        try await client.addMember(
          peerURLs: [peerURL, "http://127.0.0.1:\(try freeLoopbackPort())"],
          isLearner: true
        )
      }
      await expectEtcdError(.memberBadURLs, grpcCode: .invalidArgument) {
        try await client.addMember(peerURLs: ["not a url"])
      }

      let newPeerURL = "http://127.0.0.1:\(try freeLoopbackPort())"
      let updated = try await client.updateMember(id: added.member.id, peerURLs: [newPeerURL])
      #expect(updated.members.first { $0.id == added.member.id }?.peerURLs == [newPeerURL])

      // The learner never started, so it is not in sync with the leader.
      await expectEtcdError(.learnerNotReady, grpcCode: .failedPrecondition) {
        try await client.promoteMember(id: added.member.id)
      }
      // A voting member cannot be promoted.
      let voter = try #require(list.members.first { !$0.isLearner })
      await expectEtcdError(.memberNotLearner, grpcCode: .failedPrecondition) {
        try await client.promoteMember(id: voter.id)
      }

      let removed = try await client.removeMember(id: added.member.id)
      #expect(removed.members.count == 3)
      #expect(!removed.members.contains { $0.id == added.member.id })
      #expect(try await memberList(of: client, settlingOn: 3).members.count == 3)

      await expectEtcdError(.memberNotFound, grpcCode: .notFound) {
        try await client.removeMember(id: added.member.id)
      }
      await expectEtcdError(.memberNotFound, grpcCode: .notFound) {
        try await client.updateMember(id: added.member.id, peerURLs: [peerURL])
      }
    }
  }

  /// The member list once it has `count` members, or the last one read after five seconds.
  ///
  /// MemberList is answered by whichever member the call reaches, from what that member has applied
  /// (etcd 3.4 has no linearizable MemberList, and this test runs on both), so right after an add or
  /// a remove a follower can still list the old set.
  private func memberList(of client: EtcdClient, settlingOn count: Int) async throws -> MemberListResponse {
    var list = try await client.memberList()
    for _ in 0..<50 where list.members.count != count {
      try await Task.sleep(for: .milliseconds(100))
      list = try await client.memberList()
    }
    return list
  }
}
