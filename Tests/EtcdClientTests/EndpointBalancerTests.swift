import Testing

@testable import EtcdClient

@Suite("EndpointBalancer and RetryPolicy")
struct EndpointBalancerTests {
  @Test func roundRobinOverHealthyEndpoints() {
    var balancer = EndpointBalancer(count: 3)
    let picks = (0..<6).compactMap { _ in balancer.pick(now: 0) }
    #expect(picks == [0, 1, 2, 0, 1, 2])
  }

  @Test func aFailedEndpointIsSkippedUntilItsBackoffEnds() {
    var balancer = EndpointBalancer(count: 3)
    balancer.failed(1, now: 0, jitter: 1.0)
    #expect(balancer.health[1].retryAt == 100_000_000)
    let during = (0..<4).compactMap { _ in balancer.pick(now: 50_000_000) }
    #expect(!during.contains(1))
    // After the backoff it is tried again.
    let after = (0..<3).compactMap { _ in balancer.pick(now: 200_000_000) }
    #expect(after.contains(1))
    balancer.succeeded(1)
    #expect(balancer.health[1] == EndpointBalancer.Health())
  }

  @Test(arguments: [(1, 100), (2, 200), (3, 400), (6, 3200), (7, 5000), (40, 5000)])
  func backoffDoublesUpToFiveSeconds(failures: Int, milliseconds: Int64) {
    var balancer = EndpointBalancer(count: 1)
    for _ in 0..<failures { balancer.failed(0, now: 0, jitter: 1.0) }
    #expect(balancer.health[0].retryAt == milliseconds * 1_000_000)
  }

  @Test func whenEveryEndpointIsOutTheEarliestIsUsedAnyway() {
    var balancer = EndpointBalancer(count: 3)
    balancer.failed(0, now: 0, jitter: 1.0)
    balancer.failed(0, now: 0, jitter: 1.0)  // 200 ms
    balancer.failed(1, now: 0, jitter: 1.0)  // 100 ms
    balancer.failed(2, now: 0, jitter: 1.2)  // 120 ms
    #expect(balancer.pick(now: 10) == 1)
    #expect(balancer.pick(now: 10, excluding: [1]) == 2)
  }

  @Test func excludedEndpointsAreAvoidedWhileOthersRemain() {
    var balancer = EndpointBalancer(count: 3)
    #expect(balancer.pick(now: 0, excluding: [0, 1]) == 2)
    #expect(balancer.pick(now: 0, excluding: [0, 1, 2]) != nil)
  }

  @Test func replacingKeepsTheHealthOfRemainingEndpoints() {
    var balancer = EndpointBalancer(count: 2)
    balancer.failed(1, now: 0, jitter: 1.0)
    balancer.replace(keeping: [1, nil, 0])
    #expect(balancer.count == 3)
    #expect(balancer.health[0].failures == 1)
    #expect(balancer.health[1] == EndpointBalancer.Health())
  }

  static let unavailable = EtcdError(code: .connectionClosed, status: GRPCStatus(code: .unavailable))
  static let noLeader = EtcdError(code: .noLeader, status: GRPCStatus(code: .unavailable, message: "etcdserver: no leader"))
  static let compacted = EtcdError(code: .compacted, status: GRPCStatus(code: .outOfRange))

  @Test func retryFollowsClientv3Rules() {
    // Reads are retried on any UNAVAILABLE status.
    #expect(RetryPolicy.mayRetry(RPCMethod.KV.range, after: Self.unavailable, neverProcessed: false))
    #expect(RetryPolicy.mayRetry(RPCMethod.KV.range, after: Self.noLeader, neverProcessed: false))
    #expect(!RetryPolicy.mayRetry(RPCMethod.KV.range, after: Self.compacted, neverProcessed: false))
    // Writes only when the request provably never reached a server.
    #expect(!RetryPolicy.mayRetry(RPCMethod.KV.put, after: Self.unavailable, neverProcessed: false))
    #expect(RetryPolicy.mayRetry(RPCMethod.KV.put, after: Self.unavailable, neverProcessed: true))
    #expect(!RetryPolicy.mayRetry(RPCMethod.Lease.grant, after: Self.noLeader, neverProcessed: false))
    #expect(RetryPolicy.mayRetry(RPCMethod.Maintenance.status, after: Self.unavailable, neverProcessed: false))
    #expect(!RetryPolicy.mayRetry(RPCMethod.Cluster.memberAdd, after: Self.unavailable, neverProcessed: false))
  }

  @Test func retryBackoffIsLinear() {
    #expect(RetryPolicy.pause.delay(afterFailures: 1, random: 0.5) == .milliseconds(25))
    #expect(RetryPolicy.pause.delay(afterFailures: 4, random: 0.5) == .milliseconds(100))
    #expect(RetryPolicy.pause.delay(afterFailures: 4, random: 1) == .milliseconds(110))
  }
}
