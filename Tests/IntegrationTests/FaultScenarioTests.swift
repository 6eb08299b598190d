import Foundation
import Synchronization
import Testing

#if canImport(Glibc)
  import Glibc
#endif

@testable import EtcdClient

/// The fault scenarios of etcd's functional tester, each against real etcd processes on loopback: what the
/// client returns, that no acknowledged write is lost, and how watches carry on (or end, with a typed error).
@Suite("Fault scenarios", .serialized)
struct FaultScenarioTests {
  @Test func killingTheLeaderRepeatedlyLosesNoAcknowledgedWriteAndTheWatchSeesEachOnce() async throws {
    try await withEtcd(size: 3) { etcd in
      var configuration = EtcdClient.Configuration(endpoints: etcd.endpoints)
      configuration.dialTimeout = .seconds(1)
      let client = try EtcdClient(configuration: configuration)
      defer { Task { await client.close() } }
      let probe = try EtcdProbeProcess(arguments: [
        "--endpoints", etcd.endpoints.joined(separator: ","), "--interval", "300ms", "--timeout", "1s",
      ])
      defer { probe.stop() }
      let start = try await client.get("kl/", options: .init(countOnly: true)).header.revision + 1
      let watch = WatchRecorder(client.watch("kl/", options: .init(range: .prefix, startRevision: start)))

      var acknowledged: [Int64: String] = [:]
      var failed = 0
      var index = 0
      func write(_ count: Int) async {
        for _ in 0..<count {
          index += 1
          do {
            let revision = try await client.put("kl/\(index)", "v\(index)", timeout: .seconds(5)).header.revision
            acknowledged[revision] = "kl/\(index)"
          } catch {
            // Typed, and bounded by the deadline; whether it was applied is unknown (docs/reliability.md).
            #expect(error.code != .rpcFailed, "untyped failure: \(error)")
            failed += 1
          }
        }
      }
      for _ in 0..<3 {
        let leader = try await currentLeader(of: etcd)
        leader.kill()
        await write(30)
        try await etcd.restart(leader)
        await write(10)
      }
      // Only the calls in flight around each kill and election may fail.
      #expect(failed <= 9, "\(failed) of \(index) puts failed")
      #expect(acknowledged.count >= index - 9)

      let stored = try await client.get("kl/", options: .prefix)
      let keys = Set(stored.kvs.map(\.keyString))
      for (revision, key) in acknowledged {
        #expect(keys.contains(key), "\(key), acknowledged at revision \(revision), is missing")
      }
      // The watch, resumed on another member each time its member died, delivers every acknowledged
      // revision, once, in order.
      let newest = try #require(acknowledged.keys.max())
      let complete = try await watch.wait(timeout: .seconds(30)) { recorder in
        (recorder.events.last?.kv.modRevision ?? 0) >= newest || recorder.ended
      }
      #expect(complete, "the watch stopped at revision \(watch.events.last?.kv.modRevision ?? 0) of \(newest)")
      #expect(watch.ending == nil)
      // The probe kept serving and saw the leader move.
      _ = try await probe.waitForScrape { sum($0, "etcd_probe_leader_changes_total") >= 1 }
      let revisions = watch.events.map(\.kv.modRevision)
      #expect(zip(revisions, revisions.dropFirst()).allSatisfy { $0 < $1 }, "a revision was repeated or reordered")
      let delivered = Set(revisions)
      for revision in acknowledged.keys.sorted() {
        #expect(delivered.contains(revision), "the watch skipped acknowledged revision \(revision)")
      }
      watch.cancel()
    }
  }

  @Test func aFullBackendRaisesNoSpaceTheClientReportsItAndRecoveryWorks() async throws {
    // A 1 MiB quota fills after a few dozen 64 KiB values.
    try await withEtcd(extraArguments: ["--quota-backend-bytes", "\(1 << 20)"]) { etcd in
      let client = try EtcdClient(endpoints: etcd.endpoints)
      defer { Task { await client.close() } }
      let probe = try EtcdProbeProcess(arguments: [
        "--endpoints", etcd.endpoints.joined(separator: ","), "--interval", "200ms", "--timeout", "2s",
      ])
      defer { probe.stop() }
      _ = try await probe.waitForScrape { sum($0, "etcd_probe_rounds_total") >= 1 }

      let value = [UInt8](repeating: UInt8(ascii: "x"), count: 64 << 10)
      var written: [String] = []
      var noSpace: EtcdError?
      for index in 0..<200 where noSpace == nil {
        do {
          try await client.put(Array("fill/\(index)".utf8), value, timeout: .seconds(5))
          written.append("fill/\(index)")
        } catch let error as EtcdError where error.code == .noSpace {
          noSpace = error
        }
      }
      let error = try #require(noSpace, "200 puts of 64 KiB fitted into a 1 MiB quota")
      #expect(error.status.code == .resourceExhausted)
      #expect(error.message == "etcdserver: mvcc: database space exceeded")

      // Writes fail, reads go on, and every acknowledged write is there. The put that crossed the quota may
      // be stored too (etcd applies it, then answers NOSPACE); nothing after it is.
      await expectEtcdError(.noSpace) { try await client.put("more", "x") }
      let stored = Set(
        try await client.get("fill/", options: .init(range: .prefix, keysOnly: true)).kvs.map(\.keyString))
      #expect(stored.isSuperset(of: written))
      #expect(stored.subtracting(written).isSubset(of: ["fill/\(written.count)"]), "\(stored.subtracting(written))")
      #expect(try await client.get("more").kvs.isEmpty)
      let memberID = try await client.status().header.memberID
      #expect(try await client.alarms().contains(Alarm(memberID: memberID, type: .noSpace)))

      // The probe keeps serving /metrics, shows the alarm, and counts its failed puts by etcd's reason.
      let alarmed = try await probe.waitForScrape { samples in
        sum(samples, "etcd_probe_endpoint_alarm", containing: ["alarm=\"nospace\""]) == 1
          && sum(samples, "etcd_probe_failures_total", containing: ["op=\"put\"", "reason=\"no_space\""]) >= 1
      }
      #expect(sum(alarmed, "etcd_probe_success", containing: ["op=\"get\""]) >= 1)

      // The operator's recovery: free space, defragment, disarm; then writes succeed again.
      try await client.delete("fill/", options: .prefix)
      let revision = try await client.get("fill/", options: .init(countOnly: true)).header.revision
      try await client.compact(revision: revision, physical: true)
      _ = try await client.defragment()
      _ = try await client.disarmAlarm(Alarm(memberID: memberID, type: .noSpace))
      try await client.put("after", "recovery")
      #expect(try await client.get("after").kvs.first?.valueString == "recovery")
      _ = try await probe.waitForScrape { samples in
        sum(samples, "etcd_probe_endpoint_alarm", containing: ["alarm=\"nospace\""]) == 0
          && sum(samples, "etcd_probe_success", containing: ["op=\"put\""]) >= 1
      }
    }
  }

  @Test func compactingUnderALiveWatchLosesNothingAndAResumeBelowItEndsTyped() async throws {
    try await withEtcd(size: 3) { etcd in
      // A follower: a killed leader would stall the writes below for an election.
      let leader = try await currentLeader(of: etcd)
      let watched = try #require(etcd.members.first { $0 !== leader })
      // The writer never uses the member that gets killed.
      let writer = try EtcdClient(endpoints: etcd.members.filter { $0 !== watched }.map(\.endpoint))
      defer { Task { await writer.close() } }
      // The watching client knows only one member, so its watch resumes on that member.
      var configuration = EtcdClient.Configuration(endpoints: [watched.endpoint])
      configuration.dialTimeout = .milliseconds(500)
      let client = try EtcdClient(configuration: configuration)
      defer { Task { await client.close() } }

      let first = try await writer.put("cw/0", "0").header.revision
      let watch = WatchRecorder(client.watch("cw/", options: .init(range: .prefix, startRevision: first)))
      var revisions = [first]
      for index in 1...10 { revisions.append(try await writer.put("cw/\(index)", "\(index)").header.revision) }
      // Once the watch has caught up, a compaction at the newest revision does not touch it.
      #expect(try await watch.wait(timeout: .seconds(10)) { $0.events.count >= revisions.count })
      try await writer.compact(revision: revisions[10])
      for index in 11...20 { revisions.append(try await writer.put("cw/\(index)", "\(index)").header.revision) }
      #expect(try await watch.wait(timeout: .seconds(10)) { $0.events.count >= revisions.count })
      #expect(watch.events.map(\.kv.modRevision) == revisions)

      // While the watch's only member is down, history it has not seen is written and compacted away.
      watched.kill()
      var later: Int64 = 0
      for index in 21...25 { later = try await writer.put("cw/\(index)", "\(index)").header.revision }
      try await writer.compact(revision: later)
      try await etcd.restart(watched)
      // Resuming from a compacted revision cannot be gapless: the watch ends, typed, naming the compaction.
      #expect(try await watch.wait(timeout: .seconds(20)) { $0.ended })
      let ending = try #require(watch.ending, "the watch ended without an error")
      #expect(ending.code == .compacted)
      #expect(ending.compactRevision == later)
      #expect(watch.events.map(\.kv.modRevision) == revisions, "events past the gap were delivered")
    }
  }

  @Test func aNewClusterBehindTheSameAddressEndsWatchesTyped() async throws {
    try await withEtcd { etcd in
      let member = etcd.members[0]
      var configuration = EtcdClient.Configuration(endpoints: etcd.endpoints)
      configuration.dialTimeout = .milliseconds(500)
      let client = try EtcdClient(configuration: configuration)
      defer { Task { await client.close() } }
      let probe = try EtcdProbeProcess(arguments: [
        "--endpoints", etcd.endpoints.joined(separator: ","), "--interval", "200ms", "--timeout", "1s",
      ])
      defer { probe.stop() }
      let watchSucceeded = "etcd_probe_success{cluster=\"default\",endpoint=\"\(member.endpoint)\",op=\"watch\"}"
      _ = try await probe.waitForScrape { $0[watchSucceeded] == 1 }
      let before = try await client.put("nc/a", "1").header
      let watch = WatchRecorder(client.watch("nc/", options: .init(range: .prefix, startRevision: before.revision)))
      #expect(try await watch.wait(timeout: .seconds(10)) { $0.events.count == 1 })

      // Same address, new data, new cluster id: its revision 2 is not this cluster's revision 2.
      try await etcd.recreate(member)
      #expect(try await watch.wait(timeout: .seconds(20)) { $0.ended })
      let ending = try #require(watch.ending, "the watch ended without an error")
      #expect(ending.code == .clusterChanged)
      #expect(ending.status.code == .failedPrecondition)
      #expect(watch.events.count == 1)

      // Unary calls go to whatever the address serves now; the header says which cluster answered.
      let after = try await client.get("nc/a")
      #expect(after.kvs.isEmpty)
      #expect(after.header.clusterID != before.clusterID)
      // New watches follow the new cluster.
      let next = after.header.revision + 1
      let again = WatchRecorder(client.watch("nc/", options: .init(range: .prefix, startRevision: next)))
      try await client.put("nc/b", "2")
      #expect(try await again.wait(timeout: .seconds(10)) { $0.events.map(\.kv.keyString) == ["nc/b"] })
      again.cancel()
      // The probe counted the change and probes the new cluster, its watch included.
      _ = try await probe.waitForScrape { samples in
        sum(samples, "etcd_probe_watch_cluster_changes_total", containing: ["\"\(member.endpoint)\""]) >= 1
      }
      let changes = sum(
        parseExposition(try #require(probe.scrape())), "etcd_probe_watch_cluster_changes_total",
        containing: ["\"\(member.endpoint)\""])
      let rounds = sum(parseExposition(try #require(probe.scrape())), "etcd_probe_rounds_total")
      _ = try await probe.waitForScrape { samples in
        sum(samples, "etcd_probe_rounds_total") >= rounds + 3 && samples[watchSucceeded] == 1
      }
      #expect(changes == 1)
    }
  }
}
