@testable import EtcdClient

/// The member whose status says it is the leader, asking each member (bounded: members that are down are
/// skipped, and the question is repeated until an election is over).
func currentLeader(of etcd: EtcdTestCluster) async throws -> EtcdTestCluster.Member {
  let client = try EtcdClient(endpoints: etcd.endpoints)
  defer { Task { await client.close() } }
  let deadline = ContinuousClock.now + .seconds(20)
  while ContinuousClock.now < deadline {
    for member in etcd.members where member.pid != nil {
      if let status = try? await client.status(endpoint: member.endpoint, timeout: .seconds(2)),
        status.leader != 0, status.leader == status.header.memberID
      {
        return member
      }
    }
    try await Task.sleep(for: .milliseconds(100))
  }
  throw FixtureError("no member became leader within 20 s")
}
