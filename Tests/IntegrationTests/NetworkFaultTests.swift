import Foundation
import Synchronization
import Testing

@testable import EtcdClient

/// Network faults against a real 3-member cluster whose members run in network namespaces: a leader cut off
/// from its peers, a client cut off from its member, a flapping peer link, and answers lost on the way back
/// (``FaultProxy``). Needs root and `ip netns`; skipped elsewhere.
@Suite(
  "Network faults on members in network namespaces", .serialized,
  .enabled(if: NetworkNamespaceCluster.isAvailable, "needs root and ip netns"))
struct NetworkFaultTests {
  @Test func aCutLinkDropsPacketsWhereAnOpenOneRefuses() throws {
    let topology = try NetworkNamespaceTopology.create(size: 2)
    defer { topology.delete() }
    // Nothing listens on port 9: over a working link the connection is refused (an RST, curl's 7); over a
    // cut one the SYN vanishes and curl gives up at its timeout (28).
    let client = "http://\(topology.members[0].clientAddress):9"
    let peer = topology.members[0].namespace.execPrefix
    let peerURL = "http://\(topology.members[1].peerAddress):9"
    func curl(_ url: String, prefix: [String] = []) throws -> Int32 {
      try run(prefix + ["curl", "-s", "--max-time", "1", url]).status
    }
    #expect(try curl(client) == 7)
    #expect(try curl(peerURL, prefix: peer) == 7)

    try topology.members[0].clientLink.cut()
    #expect(try curl(client) == 28)
    #expect(try curl(peerURL, prefix: peer) == 7, "the peer link is not the client link")
    try topology.members[0].clientLink.restore()
    #expect(try curl(client) == 7)

    try topology.members[1].peerLink.cut()
    #expect(try curl(peerURL, prefix: peer) == 28)
    #expect(try curl(client) == 7, "the client link is not the peer link")
    try topology.members[1].peerLink.restore()
    #expect(try curl(peerURL, prefix: peer) == 7)
  }

  @Test func aLeaderCutOffFromItsPeersIsReplacedServesNoStaleReadAndCatchesUpAfterwards() async throws {
    let cluster = try await NetworkNamespaceCluster()
    defer { cluster.close() }
    let old = try await cluster.leader()
    let client = try makeClient(cluster.endpoints)
    defer { Task { await client.close() } }
    // Knows only the old leader: its reads cannot go anywhere else.
    let isolated = try makeClient([cluster.endpoint(of: old)])
    defer { Task { await isolated.close() } }
    try await client.put("iso", "before")
    #expect(try await isolated.get("iso").kvs.first?.valueString == "before")

    try cluster.isolateFromPeers(old)
    // The other two elect a leader, and a client that knows every member keeps writing: a put that the
    // client sends to the cut-off member waits there for its whole deadline (a member without a leader
    // holds proposals), fails typed, and succeeds on another member when the writer repeats it.
    // A put that failed is of unknown outcome: a copy of it held in a cut link may still be applied once the
    // link heals, after the puts that followed it.
    var lastAcknowledged: (value: String, revision: Int64)?
    var uncertain: Set<String> = []
    for index in 0..<6 {
      let began = ContinuousClock.now
      var failures: [EtcdError] = []
      for _ in 0..<5 {
        do {
          let put = try await client.put("iso", "during \(index)", timeout: .seconds(2))
          lastAcknowledged = ("during \(index)", put.header.revision)
          break
        } catch {
          failures.append(error)
          uncertain.insert("during \(index)")
        }
      }
      #expect(failures.count < 5, "put \(index) failed 5 times: \(failures)")
      #expect(ContinuousClock.now - began < .seconds(7), "put \(index) took \(ContinuousClock.now - began)")
      for failure in failures { #expect(failure.code == .deadlineExceeded, "\(failure)") }
    }
    #expect(try await cluster.leader() != old)

    // A linearizable read on the cut-off member cannot confirm it is current: it fails, typed, within its
    // deadline, and never answers the value from before the cut.
    let read = ContinuousClock.now
    do {
      let stale = try await isolated.get("iso", timeout: .seconds(2))
      Issue.record("the cut-off member answered \(stale.kvs.first?.valueString ?? "nothing")")
    } catch {
      #expect(isTyped(error), "untyped failure: \(error)")
    }
    #expect(ContinuousClock.now - read < .seconds(3), "the deadline bounds the read")
    // Clients still reach it: a serializable read answers from its own, stale, store.
    let local = try await isolated.get("iso", options: .init(serializable: true), timeout: .seconds(2))
    #expect(local.kvs.first?.valueString == "before")

    // Back on the bridge, the old leader follows the new one, catches up and serves the newest value: the last
    // acknowledged put, or a failed put that was applied after it.
    let acknowledged = try #require(lastAcknowledged)
    try cluster.rejoinPeers(old)
    let newest = try await firstSuccess(within: .seconds(15)) {
      let response = try await isolated.get("iso", timeout: .seconds(2))
      guard let kv = response.kvs.first, kv.modRevision >= acknowledged.revision else {
        throw FixtureError("the old leader answers \(response.kvs.first?.valueString ?? "nothing") at revision "
          + "\(response.kvs.first?.modRevision ?? 0), before the last acknowledged put (\(acknowledged.revision))")
      }
      return kv
    }
    if newest.modRevision == acknowledged.revision {
      #expect(newest.valueString == acknowledged.value)
    } else {
      #expect(uncertain.contains(newest.valueString), "\(newest.valueString) at \(newest.modRevision)")
    }
    let status = try await firstSuccess(within: .seconds(10)) {
      let status = try await client.status(endpoint: cluster.endpoint(of: old), timeout: .seconds(1))
      guard status.leader != 0 else { throw FixtureError("the old leader knows no leader yet") }
      return status
    }
    #expect(status.leader != status.header.memberID, "the old leader leads again")
  }

  @Test func aClientCutOffFromItsMemberFailsOverAndReconnects() async throws {
    let cluster = try await NetworkNamespaceCluster()
    defer { cluster.close() }
    // The client's first pick is the first endpoint: member 0.
    var configuration = EtcdClient.Configuration(endpoints: cluster.endpoints)
    configuration.dialTimeout = .seconds(1)
    configuration.keepalive = .init(interval: .seconds(1), timeout: .seconds(1))
    let client = try EtcdClient(configuration: configuration)
    defer { Task { await client.close() } }
    try await client.put("dc", "0", timeout: .seconds(2))

    try cluster.disconnectClient(from: 0)
    // The cut drops packets: a new connection hangs until its timeout (curl 28), nothing refuses it (7).
    let probe = try run(["curl", "-s", "--max-time", "1", "http://\(cluster.endpoint(of: 0))/health"])
    #expect(probe.status == 28, "curl ended with \(probe.status): \(probe.output)")
    await expectTypedFailure { _ = try await client.status(endpoint: cluster.endpoint(of: 0), timeout: .seconds(1)) }

    // The keepalive (1 s interval + 1 s timeout) finds the connection dead and calls go to another member:
    // at worst a put waits out its own 3 s on the dead connection, and the next one succeeds elsewhere.
    let cut = ContinuousClock.now
    try await firstSuccess(within: .seconds(10)) { try await client.put("dc", "1", timeout: .seconds(3)) }
    #expect(ContinuousClock.now - cut < .seconds(6), "failing over took \(ContinuousClock.now - cut)")
    for index in 0..<5 {
      try await client.put("dc/\(index)", "\(index)", timeout: .seconds(2))
      #expect(try await client.get("dc/\(index)", timeout: .seconds(2)).kvs.first?.valueString == "\(index)")
    }

    // Reconnected, member 0 is reachable through the same client again, with every write.
    try cluster.reconnectClient(to: 0)
    try await firstSuccess(within: .seconds(10)) {
      _ = try await client.status(endpoint: cluster.endpoint(of: 0), timeout: .seconds(1))
    }
    let direct = try makeClient([cluster.endpoint(of: 0)])
    defer { Task { await direct.close() } }
    #expect(try await direct.get("dc/", options: .prefix, timeout: .seconds(2)).kvs.count == 5)

    // Killed and restarted in its namespace, with its data.
    cluster.kill(0)
    #expect(cluster.pid(of: 0) == nil)
    try await cluster.restart(0)
    #expect(try await direct.get("dc/", options: .prefix, timeout: .seconds(2)).kvs.count == 5)
  }

  @Test func aFlappingPeerLinkLosesNoAcknowledgedWrite() async throws {
    let cluster = try await NetworkNamespaceCluster()
    defer { cluster.close() }
    let leader = try await cluster.leader()
    let client = try makeClient(cluster.endpoints)
    defer { Task { await client.close() } }
    let flapping = Atomic(true)
    let writer = Task {
      var acknowledged: [Int] = []
      var failures: [EtcdError] = []
      // Bounded in count and in time, whatever the flapping does.
      let deadline = ContinuousClock.now + .seconds(30)
      for index in 0..<2000 where flapping.load(ordering: .relaxed) && ContinuousClock.now < deadline {
        do throws(EtcdError) {
          try await client.put("flap/\(index)", "v\(index)", timeout: .seconds(2))
          acknowledged.append(index)
        } catch {
          failures.append(error)
        }
      }
      return (acknowledged, failures)
    }
    try await cluster.flapPeerLink(of: leader, period: .seconds(1), count: 5)
    flapping.store(false, ordering: .relaxed)
    let (acknowledged, failures) = await writer.value
    for failure in failures {
      #expect(isTyped(failure), "untyped failure: \(failure)")
    }
    #expect(acknowledged.count >= 3, "only \(acknowledged.count) puts succeeded, \(failures.count) failed")

    let stored = try await firstSuccess(within: .seconds(10)) {
      try await client.get("flap/", options: .prefix, timeout: .seconds(2))
    }
    let values = Dictionary(uniqueKeysWithValues: stored.kvs.map { ($0.keyString, $0.valueString) })
    for index in acknowledged {
      #expect(values["flap/\(index)"] == "v\(index)", "acknowledged put \(index) is missing")
    }
  }

  @Test func aPutWhoseAnswerIsLostTimesOutTypedAndIsApplied() async throws {
    try await withProxiedMember(clusterSize: 3) { proxy, client, direct in
      // The connection is up, through the proxy, before answers are dropped.
      try await client.put("lost", "1", timeout: .seconds(2))

      proxy.set(.dropResponses)
      let sent = ContinuousClock.now
      await expectEtcdError(.deadlineExceeded) { try await client.put("lost", "2", timeout: .seconds(1)) }
      #expect(ContinuousClock.now - sent < .seconds(2), "the deadline bounds the put")
      // The request reached etcd: the put that failed is applied, the "pending" outcome a history checker
      // must allow.
      let value = try await firstSuccess(within: .seconds(5)) {
        let value = try await direct.get("lost", timeout: .seconds(2)).kvs.first?.valueString
        guard value == "2" else { throw FixtureError("the value is \(value ?? "missing")") }
        return value
      }
      #expect(value == "2")
    }
  }

  @Test func theProxyDelaysDropsRequestsAndResetsConnections() async throws {
    try await withProxiedMember(clusterSize: 1) { proxy, client, direct in
      try await client.put("mode", "pass", timeout: .seconds(2))

      // Held 300 ms each way, and still answered.
      proxy.set(.delay(.milliseconds(300)))
      let delayed = ContinuousClock.now
      #expect(try await client.get("mode", timeout: .seconds(3)).kvs.first?.valueString == "pass")
      #expect(ContinuousClock.now - delayed >= .milliseconds(600))

      // A request that never arrives is not applied.
      proxy.set(.dropRequests)
      await expectEtcdError(.deadlineExceeded) { try await client.put("mode", "dropped", timeout: .seconds(1)) }
      #expect(try await direct.get("mode", timeout: .seconds(2)).kvs.first?.valueString == "pass")

      // Reset connections: the client dials again and carries on.
      proxy.set(.pass)
      proxy.resetAll()
      try await firstSuccess(within: .seconds(10)) { try await client.put("mode", "after", timeout: .seconds(2)) }
      #expect(try await direct.get("mode", timeout: .seconds(2)).kvs.first?.valueString == "after")
    }
  }
}

/// Runs `body` with a cluster of `clusterSize` members, a ``FaultProxy`` before member 0, a client that
/// knows only the proxy, and a client of every member directly; stops them all afterwards.
private func withProxiedMember(
  clusterSize: Int,
  _ body: (FaultProxy, EtcdClient, EtcdClient) async throws -> Void
) async throws {
  let cluster = try await NetworkNamespaceCluster(size: clusterSize)
  defer { cluster.close() }
  let proxy = try await FaultProxy(upstream: cluster.endpoint(of: 0))
  defer { proxy.close() }
  let client = try makeClient([proxy.endpoint])
  defer { Task { await client.close() } }
  let direct = try makeClient(cluster.endpoints)
  defer { Task { await direct.close() } }
  try await body(proxy, client, direct)
}

/// A client of `endpoints` that gives up dialing a member after 1 s.
private func makeClient(_ endpoints: [String]) throws -> EtcdClient {
  var configuration = EtcdClient.Configuration(endpoints: endpoints)
  configuration.dialTimeout = .seconds(1)
  return try EtcdClient(configuration: configuration)
}

/// Calls `body` until it succeeds, pausing 100 ms between tries, for at most `limit`; the last error is
/// thrown after that.
@discardableResult
private func firstSuccess<T>(within limit: Duration, _ body: () async throws -> T) async throws -> T {
  let deadline = ContinuousClock.now + limit
  while true {
    do {
      return try await body()
    } catch where ContinuousClock.now < deadline {
      try await Task.sleep(for: .milliseconds(100))
    }
  }
}

/// Whether `error` says what happened: any code but `.rpcFailed` (a server error the client does not know).
private func isTyped(_ error: EtcdError) -> Bool {
  error.code != .rpcFailed
}

/// Runs `body`, which must fail with a typed `EtcdError` (``isTyped(_:)``).
private func expectTypedFailure(
  sourceLocation: SourceLocation = #_sourceLocation,
  _ body: () async throws -> Void
) async {
  do {
    try await body()
    Issue.record("expected a typed failure, but the call succeeded", sourceLocation: sourceLocation)
  } catch let error as EtcdError {
    #expect(isTyped(error), "untyped failure: \(error)", sourceLocation: sourceLocation)
  } catch {
    Issue.record("expected an EtcdError, got \(error)", sourceLocation: sourceLocation)
  }
}
