import EtcdClient
import Testing

@testable import etcd_probe

@Suite("MemberDiscovery and EndpointLabel")
struct MemberDiscoveryTests {
  static func member(_ id: UInt64, _ urls: [String], learner: Bool = false) -> Member {
    Member(id: id, name: "m\(id)", peerURLs: ["http://127.0.0.1:\(2380 + id)"], clientURLs: urls, isLearner: learner)
  }

  @Test(arguments: [
    ("127.0.0.1:2379", "127.0.0.1:2379"),
    ("http://127.0.0.1:2379", "127.0.0.1:2379"),
    ("https://127.0.0.1:2379/", "127.0.0.1:2379"),
    ("HTTPS://Etcd-A.example:2379", "etcd-a.example:2379"),
    (" [::1]:2379 ", "[::1]:2379"),
    ("http://[::1]:2379", "[::1]:2379"),
  ])
  func oneMemberOneLabel(written: String, label: String) {
    #expect(EndpointLabel.of(written) == label)
  }

  @Test(arguments: ["127.0.0.1", "http://127.0.0.1:", "::1:2379", ":2379", "host:port"])
  func malformedEndpointsHaveNoLabel(written: String) {
    #expect(EndpointLabel.of(written) == nil)
  }

  @Test func targetsAreTheStartedMembersClientURLs() {
    let members = [
      Self.member(1, ["http://127.0.0.1:2379", "http://10.0.0.1:2379"]),
      Self.member(2, []),  // added, not started yet
      Self.member(3, ["https://127.0.0.1:2381"], learner: true),
      Self.member(4, ["not a url", "http://127.0.0.1:2382"]),
    ]
    #expect(
      MemberDiscovery.targets(of: members) == [
        .init(name: "127.0.0.1:2379", endpoint: "http://127.0.0.1:2379", isLearner: false),
        .init(name: "127.0.0.1:2381", endpoint: "https://127.0.0.1:2381", isLearner: true),
        .init(name: "127.0.0.1:2382", endpoint: "http://127.0.0.1:2382", isLearner: false),
      ])
  }

  @Test func addsNewMembersRemovesGoneOnesAndFollowsPromotions() {
    let current = ["127.0.0.1:2379": false, "127.0.0.1:2380": false, "127.0.0.1:2381": true]
    let members = [
      Self.member(1, ["http://127.0.0.1:2379"]),
      Self.member(3, ["http://127.0.0.1:2381"]),  // promoted
      Self.member(5, ["http://127.0.0.1:2390"], learner: true),  // added as a learner
    ]
    let plan = MemberDiscovery.plan(current: current, members: members)
    #expect(plan.add == [.init(name: "127.0.0.1:2390", endpoint: "http://127.0.0.1:2390", isLearner: true)])
    #expect(plan.remove == ["127.0.0.1:2380"])
    #expect(plan.learner == ["127.0.0.1:2381": false])
  }

  @Test func anUnchangedClusterGivesAnEmptyPlan() {
    let members = [Self.member(1, ["http://127.0.0.1:2379"]), Self.member(2, ["127.0.0.1:2380"])]
    let plan = MemberDiscovery.plan(current: ["127.0.0.1:2379": false, "127.0.0.1:2380": false], members: members)
    #expect(plan.isEmpty)
  }

  @Test func aMemberListWithoutUsableMembersChangesNothing() {
    let current = ["127.0.0.1:2379": false]
    #expect(MemberDiscovery.plan(current: current, members: []).isEmpty)
    #expect(MemberDiscovery.plan(current: current, members: [Self.member(2, [])]).isEmpty)
  }

  @Test func seedsThatAreNotMembersGiveWayToTheMembers() {
    // Started with a load balancer's address: the members behind it are probed instead.
    let plan = MemberDiscovery.plan(
      current: ["etcd.example:2379": false], members: [Self.member(1, ["http://127.0.0.1:2379"])])
    #expect(plan.remove == ["etcd.example:2379"])
    #expect(plan.add.map(\.name) == ["127.0.0.1:2379"])
  }
}
