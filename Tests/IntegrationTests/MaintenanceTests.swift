import Foundation
import LoopbackTestSupport
import Testing

#if canImport(Glibc)
  import Glibc
#endif

@testable import EtcdClient

@Suite("Maintenance against a real etcd", .serialized)
struct MaintenanceTests {
  @Test func statusAlarmsAndDefragment() async throws {
    try await withEtcd { etcd in
      let client = try EtcdClient(endpoints: etcd.endpoints)
      defer { Task { await client.close() } }
      try await client.put("k", "v")
      let status = try await client.status()
      // The server reports the version of the binary the fixture started (3.4.23 from Debian, or 3.5.1).
      let expected = try #require(EtcdTestCluster.binaryVersion, "\(EtcdTestCluster.binary) --version failed")
      #expect(status.version == expected)
      #expect(status.dbSize > 0)
      #expect(status.dbSizeInUse > 0)
      #expect(status.dbSizeInUse <= status.dbSize)
      #expect(status.leader != 0)
      #expect(status.leader == status.header.memberID)
      #expect(status.raftIndex > 0)
      #expect(status.raftTerm >= 1)
      #expect(status.raftAppliedIndex > 0)
      #expect(status.errors.isEmpty)
      #expect(!status.isLearner)

      #expect(try await client.alarms().isEmpty)
      // Disarming an alarm that is not raised disarms nothing.
      let disarmed = try await client.disarmAlarm(
        Alarm(memberID: status.header.memberID, type: .noSpace)
      )
      #expect(disarmed.alarms.isEmpty)
      #expect(try await client.alarms().isEmpty)

      // etcd 3.4 answers Defragment with an empty header.
      try await client.defragment()
      #expect(try await client.status().dbSize > 0)
      #expect(try await client.get("k").kvs.first?.valueString == "v")
    }
  }

  @Test func hashAndHashKV() async throws {
    try await withEtcd { etcd in
      let client = try EtcdClient(endpoints: etcd.endpoints)
      defer { Task { await client.close() } }
      for index in 0..<10 { try await client.put("key/\(index)", "value \(index)") }

      let hash = try await client.hash()
      #expect(hash.hash != 0)

      let first = try await client.hashKV()
      let second = try await client.hashKV()
      #expect(first.hash != 0)
      #expect(first.hash == second.hash)
      #expect(first.header.revision == second.header.revision)
      #expect(first.compactRevision == -1 || first.compactRevision == 0)

      try await client.put("key/new", "changes the hash")
      let changed = try await client.hashKV()
      #expect(changed.hash != first.hash)
      // Hashing up to the old revision gives the old hash.
      let atFirst = try await client.hashKV(revision: first.header.revision)
      #expect(atFirst.hash == first.hash)

      await expectEtcdError(.futureRevision, grpcCode: .outOfRange) {
        _ = try await client.hashKV(revision: changed.header.revision + 100)
      }
    }
  }

  @Test func snapshotToAFileThatEtcdctlReads() async throws {
    try await withEtcd { etcd in
      let client = try EtcdClient(endpoints: etcd.endpoints)
      defer { Task { await client.close() } }
      // Enough data for the snapshot to come in many chunks.
      let value = String(repeating: "x", count: 4096)
      for index in 0..<200 { try await client.put("snap/\(index)", value) }

      let directory = NSTemporaryDirectory() + "etcd-snapshot-\(UUID().uuidString)"
      try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
      defer { try? FileManager.default.removeItem(atPath: directory) }
      let path = directory + "/snapshot.db"

      let written = try await client.snapshot(to: path, timeout: .seconds(30))
      #expect(written > 0)
      let attributes = try FileManager.default.attributesOfItem(atPath: path)
      #expect((attributes[.size] as? NSNumber)?.int64Value == written)
      #expect(!FileManager.default.fileExists(atPath: path + ".part"))
      #expect(written >= (try await client.status()).dbSize)

      let (status, output) = try run(
        ["etcdctl", "snapshot", "status", path, "-w", "json"],
        environment: ["ETCDCTL_API": "3"]
      )
      #expect(status == 0, "\(output)")
      let json = try #require(output.firstIndex(of: "{").map { output[$0...] })
      let object = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any]
      let totalKey = (object?["totalKey"] as? NSNumber)?.intValue ?? 0
      #expect(totalKey >= 200, "\(output)")

      // A second snapshot replaces the file.
      let again = try await client.snapshot(to: path)
      #expect(again > 0)
      #expect(
        (try FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.int64Value
          == again
      )
    }
  }

  /// A snapshot this client takes restores with etcd's own tool (`etcdctl snapshot restore` on 3.4,
  /// `etcdutl snapshot restore` on 3.5, where it moved) into a new member that serves the data.
  @Test func aSnapshotRestoresWithEtcdsOwnTool() async throws {
    let directory = NSTemporaryDirectory() + "etcd-restore-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let path = directory + "/snapshot.db"
    let revision = try await withEtcd { etcd in
      let client = try EtcdClient(endpoints: etcd.endpoints)
      defer { Task { await client.close() } }
      for index in 0..<50 { try await client.put("restore/\(index)", "value \(index)") }
      _ = try await client.snapshot(to: path, timeout: .seconds(30))
      return try await client.get("restore/", options: .init(countOnly: true)).header.revision
    }

    let version = try #require(EtcdTestCluster.binaryMinorVersion, "\(EtcdTestCluster.binary) --version failed")
    let tool: String
    switch version {
    case "3.4": tool = "etcdctl"
    case "3.5": tool = "etcdutl"
    default:
      Issue.record("no restore tool known for etcd \(version)")
      return
    }
    let peerURL = "http://127.0.0.1:\(try freeLoopbackPort())"
    let clientURL = "http://127.0.0.1:\(try freeLoopbackPort())"
    let data = directory + "/restored"
    let restore = try run(
      [
        tool, "snapshot", "restore", path, "--data-dir", data, "--name", "restored",
        "--initial-cluster", "restored=\(peerURL)", "--initial-advertise-peer-urls", peerURL,
      ],
      environment: ["ETCDCTL_API": "3"])
    try #require(restore.status == 0, "\(tool) snapshot restore: \(restore.output)")

    let pid = try spawn(
      [
        EtcdTestCluster.binary, "--name", "restored", "--data-dir", data, "--listen-client-urls", clientURL,
        "--advertise-client-urls", clientURL, "--listen-peer-urls", peerURL,
        "--initial-advertise-peer-urls", peerURL, "--initial-cluster", "restored=\(peerURL)",
        "--unsafe-no-fsync",
      ],
      logFile: directory + "/restored.log")
    defer {
      kill(pid, SIGKILL)
      var status: Int32 = 0
      waitpid(pid, &status, 0)
    }
    let client = try EtcdClient(endpoints: [clientURL])
    defer { Task { await client.close() } }
    // Bounded wait for the restored member to serve.
    var restored: GetResponse?
    let deadline = ContinuousClock.now + .seconds(30)
    while restored == nil && ContinuousClock.now < deadline {
      restored = try? await client.get("restore/", options: .init(range: .prefix), timeout: .seconds(1))
      if restored == nil { try await Task.sleep(for: .milliseconds(100)) }
    }
    let log = (try? String(contentsOfFile: directory + "/restored.log", encoding: .utf8)) ?? ""
    let response = try #require(restored, "the restored member did not serve: \(log.suffix(1500))")
    #expect(response.kvs.count == 50)
    #expect(response.kvs.first { $0.keyString == "restore/7" }?.valueString == "value 7")
    #expect(response.header.revision >= revision)
  }

  @Test func snapshotFailuresLeaveNoFile() async throws {
    try await withEtcd { etcd in
      let client = try EtcdClient(endpoints: etcd.endpoints)
      defer { Task { await client.close() } }
      try await client.put("k", "v")

      // A file that cannot be created.
      let missing = NSTemporaryDirectory() + "no-such-directory-\(UUID().uuidString)/snapshot.db"
      let error = await expectEtcdError(.rpcFailed, grpcCode: .internal) {
        try await client.snapshot(to: missing)
      }
      #expect((error?.cause as? POSIXError)?.code == .ENOENT, "\(String(describing: error))")

      // A server that stops answering: the timeout ends the call and the partial file is deleted.
      let directory = NSTemporaryDirectory() + "etcd-snapshot-\(UUID().uuidString)"
      try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
      defer { try? FileManager.default.removeItem(atPath: directory) }
      let path = directory + "/snapshot.db"
      _ = try await client.status()
      etcd.members[0].signal(SIGSTOP)
      let start = ContinuousClock.now
      await expectEtcdError(.deadlineExceeded, grpcCode: .deadlineExceeded) {
        try await client.snapshot(to: path, timeout: .milliseconds(500))
      }
      #expect(ContinuousClock.now - start < .seconds(3))
      etcd.members[0].signal(SIGCONT)
      #expect(try FileManager.default.contentsOfDirectory(atPath: directory).isEmpty)
      #expect(try await client.snapshot(to: path, timeout: .seconds(10)) > 0)

      // Without a timeout, cancelling the caller's Task ends the call; the partial file goes too.
      try FileManager.default.removeItem(atPath: path)
      etcd.members[0].signal(SIGSTOP)
      let download = Task { try await client.snapshot(to: path) }
      try await Task.sleep(for: .milliseconds(300))
      download.cancel()
      await expectEtcdError(.cancelled, grpcCode: .cancelled) {
        _ = try await download.value
      }
      etcd.members[0].signal(SIGCONT)
      #expect(try FileManager.default.contentsOfDirectory(atPath: directory).isEmpty)
    }
  }

  @Test func moveLeaderOnAThreeMemberCluster() async throws {
    try await withEtcd(size: 3) { etcd in
      // One client per member: status and MoveLeader must reach a chosen member.
      var clients: [UInt64: EtcdClient] = [:]
      for member in etcd.members {
        let client = try EtcdClient(endpoints: [member.endpoint])
        clients[try await client.status().header.memberID] = client
      }
      defer { for client in clients.values { Task { await client.close() } } }
      #expect(clients.count == 3)

      let leader = try await leaderID(of: clients)
      let leaderClient = try #require(clients[leader])
      let target = try #require(clients.keys.first { $0 != leader })
      let bystander = try #require(clients.keys.first { $0 != leader && $0 != target })

      // Only the leader can hand over its leadership.
      await expectEtcdError(.notLeader, grpcCode: .failedPrecondition) {
        try await clients[bystander]!.moveLeader(to: target)
      }
      await expectEtcdError(.badLeaderTransferee, grpcCode: .failedPrecondition) {
        try await leaderClient.moveLeader(to: 0x1234)
      }

      try await leaderClient.moveLeader(to: target, timeout: .seconds(10))
      let start = ContinuousClock.now
      var seen: [UInt64] = []
      while ContinuousClock.now - start < .seconds(10) {
        seen = []
        for client in clients.values { seen.append(try await client.status().leader) }
        if seen.allSatisfy({ $0 == target }) { break }
        try await Task.sleep(for: .milliseconds(100))
      }
      #expect(seen == [target, target, target])
    }
  }

  /// Downgrade is an etcd 3.5 RPC. etcd 3.4 answers `UNIMPLEMENTED`, which the client reports as
  /// `.unsupportedByServer`. etcd 3.5.1 validates targets, and applies `.enable` and `.cancel`
  /// without ever answering them: the calls end at their deadline; `.validate` shows the effect.
  @Test func downgradeOnEachServerVersion() async throws {
    try await withEtcd { etcd in
      let client = try EtcdClient(endpoints: etcd.endpoints)
      defer { Task { await client.close() } }
      let version = try #require(
        EtcdTestCluster.binaryMinorVersion, "\(EtcdTestCluster.binary) --version failed")
      switch version {
      case "3.4":
        for action in DowngradeAction.allCases {
          let error = await expectEtcdError(.unsupportedByServer, grpcCode: .unimplemented) {
            try await client.downgrade(action, version: "3.3")
          }
          #expect(
            error?.message
              == "etcdserverpb.Maintenance/Downgrade needs etcd 3.5 or later: the server does not"
              + " implement it (unknown method Downgrade for service etcdserverpb.Maintenance)"
          )
        }

      case "3.5":
        let memberID = try await client.status().header.memberID
        // The cluster's version is 3.5.0, whose only downgrade target is 3.4, patch or not.
        // A fresh cluster may not have decided its version yet.
        let valid = try await retrying(
          while: .clusterVersionUnavailable, for: .seconds(5), pause: .milliseconds(100)
        ) {
          try await client.downgrade(.validate, version: "3.4")
        }
        #expect(valid.version == "3.5.0")
        #expect(valid.header.memberID == memberID)
        #expect(try await client.downgrade(.validate, version: "3.4.9").version == "3.5.0")
        for target in ["3.3", "3.5", "3.6", "4.0"] {
          await expectEtcdError(.invalidDowngradeTargetVersion, grpcCode: .invalidArgument) {
            try await client.downgrade(.validate, version: target)
          }
        }
        await expectEtcdError(.wrongDowngradeVersionFormat, grpcCode: .invalidArgument) {
          try await client.downgrade(.validate, version: "three")
        }
        await expectEtcdError(.noInflightDowngrade, grpcCode: .failedPrecondition) {
          try await client.downgrade(.cancel, version: "")
        }

        // Enabling is applied but not answered.
        await expectEtcdError(.deadlineExceeded, grpcCode: .deadlineExceeded) {
          try await client.downgrade(.enable, version: "3.4", timeout: .seconds(1))
        }
        await expectEtcdError(.downgradeInProcess, grpcCode: .failedPrecondition) {
          try await client.downgrade(.validate, version: "3.4")
        }
        await expectEtcdError(.downgradeInProcess, grpcCode: .failedPrecondition) {
          try await client.downgrade(.enable, version: "3.4")
        }
        // So is cancelling.
        await expectEtcdError(.deadlineExceeded, grpcCode: .deadlineExceeded) {
          try await client.downgrade(.cancel, version: "", timeout: .seconds(1))
        }
        #expect(try await client.downgrade(.validate, version: "3.4").version == "3.5.0")
        await expectEtcdError(.noInflightDowngrade, grpcCode: .failedPrecondition) {
          try await client.downgrade(.cancel, version: "")
        }
        // The member still runs its own release and serves.
        #expect(try await client.status().version == "3.5.1")
        try await client.put("after", "downgrade")

      default:
        Issue.record("no expectation for etcd \(version)")
      }
    }
  }

  /// The leader every member agrees on, waiting for the members to agree (at most 10 s).
  private func leaderID(of clients: [UInt64: EtcdClient]) async throws -> UInt64 {
    let start = ContinuousClock.now
    while ContinuousClock.now - start < .seconds(10) {
      var leaders = Set<UInt64>()
      for client in clients.values { leaders.insert(try await client.status().leader) }
      if leaders.count == 1, let leader = leaders.first, leader != 0 { return leader }
      try await Task.sleep(for: .milliseconds(100))
    }
    throw FixtureError("the members did not agree on a leader")
  }
}

@Suite("Maintenance calls pinned to an endpoint", .serialized)
struct PinnedMaintenanceTests {
  @Test func statusAndHashKVOfEachMemberOfAThreeNodeCluster() async throws {
    try await withEtcd(size: 3) { etcd in
      let client = try EtcdClient(endpoints: etcd.endpoints)
      defer { Task { await client.close() } }
      let revision = try await client.put("k", "v").header.revision
      var members: Set<UInt64> = []
      var leaders: Set<UInt64> = []
      var hashes: Set<UInt32> = []
      for endpoint in etcd.endpoints {
        let status = try await client.status(endpoint: endpoint)
        members.insert(status.header.memberID)
        leaders.insert(status.leader)
        hashes.insert(try await client.hashKV(revision: revision, endpoint: endpoint).hash)
      }
      #expect(members.count == 3, "each endpoint's own member answered")
      #expect(leaders.count == 1, "every member names the same leader")
      #expect(hashes.count == 1, "every member has the same data at the same revision")
      await expectEtcdError(.invalidRequest, grpcCode: .invalidArgument) {
        _ = try await client.status(endpoint: "127.0.0.1:1")
      }
    }
  }
}
