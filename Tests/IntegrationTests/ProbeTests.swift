import Foundation
import Testing
import LoopbackTestSupport

#if canImport(Glibc)
  import Glibc
#endif

@testable import EtcdClient

@Suite("etcd-probe against a real 3-node etcd", .serialized)
struct ProbeTests {
  @Test func probesEveryMemberAndTheClusterAndSurvivesAKilledMember() async throws {
    try await withEtcd(size: 3) { etcd in
      // One member written with its scheme, one with a trailing slash: every member is labelled host:port.
      let written = [
        "http://" + etcd.endpoints[0], etcd.endpoints[1], "http://" + etcd.endpoints[2] + "/", etcd.endpoints[1],
      ]
      let probe = try EtcdProbeProcess(arguments: [
        "--endpoints", written.joined(separator: ","), "--interval", "300ms", "--timeout", "1s",
        "--hash-interval", "2s", "--log-level", "debug",
      ])
      let first = try await probe.waitForScrape { samples in
        sum(samples, "etcd_probe_rounds_total") >= 3
          && sum(samples, "etcd_probe_hash_check_outcomes_total", containing: ["outcome=\"agreed\""]) >= 1
      }
      for endpoint in etcd.endpoints + ["cluster"] {
        for op in ["put", "get", "get_serializable", "delete", "watch"] {
          #expect(first["etcd_probe_success{cluster=\"default\",endpoint=\"\(endpoint)\",op=\"\(op)\"}"] == 1, "\(endpoint) \(op)")
        }
        #expect(first["etcd_probe_serializable_lag_revisions{cluster=\"default\",endpoint=\"\(endpoint)\"}"] != nil, "\(endpoint)")
      }
      #expect(Set(first.keys.filter { $0.hasPrefix("etcd_probe_attempts_total{") }.map(label("endpoint"))) == Set(etcd.endpoints + ["cluster"]))
      // Every answer was checked and right: no failure of a call that returned OK.
      #expect(sum(first, "etcd_probe_failures_total", containing: ["code=\"OK\""]) == 0)
      #expect(first["etcd_probe_cluster_members{cluster=\"default\"}"] == 3)
      #expect(sum(first, "etcd_probe_endpoint_is_leader") == 1)
      #expect(sum(first, "etcd_probe_hash_mismatch") == 0)
      #expect(sum(first, "etcd_probe_hash_check_outcomes_total", containing: ["outcome=\"mismatch\""]) == 0)
      // The leader's id is a hex label, the same on every member's leader series and one member's info series.
      let leaderIDs = Set(first.keys.filter { $0.hasPrefix("etcd_probe_endpoint_leader_info{") }.map(label("leader_id")))
      let memberIDs = Set(first.keys.filter { $0.hasPrefix("etcd_probe_endpoint_info{") }.map(label("member_id")))
      #expect(leaderIDs.count == 1 && memberIDs.count == 3 && leaderIDs.isSubset(of: memberIDs), "\(leaderIDs) \(memberIDs)")
      #expect(sum(first, "etcd_probe_watch_delay_seconds_count") > 0)
      #expect(sum(first, "grpc_client_handled_total", containing: ["grpc_method=\"Put\""]) > 0)

      // The output passes promtool, and the probe families move between two scrapes.
      let text = try #require(probe.scrape())
      let file = NSTemporaryDirectory() + "probe-\(getpid()).prom"
      try text.write(toFile: file, atomically: true, encoding: .utf8)
      defer { try? FileManager.default.removeItem(atPath: file) }
      let check = try run(["sh", "-c", "promtool check metrics < \(file)"])
      #expect(check.status == 0, "\(check.output)")
      let rounds = sum(parseExposition(text), "etcd_probe_rounds_total")
      _ = try await probe.waitForScrape { sum($0, "etcd_probe_rounds_total") > rounds }

      // Kill one member: its failures rise with a code, the others still succeed.
      let victim = etcd.members[2]
      victim.kill()
      let down = try await probe.waitForScrape { samples in
        sum(samples, "etcd_probe_failures_total", containing: ["endpoint=\"\(victim.endpoint)\"", "op=\"put\""]) >= 2
      }
      #expect(sum(down, "etcd_probe_failures_total", containing: ["endpoint=\"\(victim.endpoint)\"", "code=\"Unavailable\""]) > 0)
      for endpoint in etcd.endpoints.prefix(2) {
        #expect(down["etcd_probe_success{cluster=\"default\",endpoint=\"\(endpoint)\",op=\"put\"}"] == 1, "\(endpoint)")
      }
      #expect(down["etcd_probe_success{cluster=\"default\",endpoint=\"\(victim.endpoint)\",op=\"put\"}"] == 0)

      // The probe itself is ready (its rounds complete), and its status page says why the member fails.
      let ready = try probe.get("/readyz?verbose")
      #expect(ready.status == 200 && ready.body.contains("[+]default: round ok"), "\(ready)")
      let status = try probe.get("/status?target=\(victim.endpoint)")
      #expect(status.status == 200)
      #expect(status.body.contains("put               FAILED") && status.body.contains("Unavailable"), "\(status.body)")
      #expect(!status.body.contains(etcd.endpoints[0]), "\(status.body)")

      // Restart it: it succeeds again.
      try await etcd.restart(victim)
      _ = try await probe.waitForScrape(timeout: .seconds(45)) { samples in
        samples["etcd_probe_success{cluster=\"default\",endpoint=\"\(victim.endpoint)\",op=\"put\"}"] == 1
          && samples["etcd_probe_success{cluster=\"default\",endpoint=\"\(victim.endpoint)\",op=\"watch\"}"] == 1
      }
      #expect(probe.stop() == 0)
      // The outage shows in the log once at warning as it starts and once at info as it ends, not per call.
      let putLines = probe.log.split(separator: "\n").filter {
        $0.contains("endpoint=\(victim.endpoint) ") && $0.contains("op=put ")
      }
      #expect(putLines.filter { $0.contains("warning") && $0.contains("probe failing") }.count == 1, "\(putLines)")
      #expect(putLines.filter { $0.contains("info") && $0.contains("probe succeeding again") }.count == 1, "\(putLines)")
    }
  }

  /// A member that stops answering (SIGSTOP) fails its own serializable read, which no other member's depends
  /// on; the pause lasts until the probe has counted that failure, because the operations before the read in
  /// a round (lease, watch, put, linearizable get) may each take the whole timeout first.
  @Test func aPausedMemberShowsInItsOwnSeriesOnly() async throws {
    try await withEtcd(size: 3) { etcd in
      let probe = try EtcdProbeProcess(arguments: [
        "--endpoints", etcd.endpoints.joined(separator: ","), "--interval", "300ms", "--timeout", "1s",
      ])
      _ = try await probe.waitForScrape { sum($0, "etcd_probe_rounds_total") >= 2 }
      let failuresOf = { (samples: [String: Double], endpoint: String) in
        sum(samples, "etcd_probe_failures_total", containing: ["endpoint=\"\(endpoint)\"", "op=\"get_serializable\""])
      }
      let paused = etcd.members[1]
      let before = parseExposition(try #require(probe.scrape()))
      paused.signal(SIGSTOP)
      let during: [String: Double]
      do {
        during = try await probe.waitForScrape(timeout: .seconds(20)) {
          failuresOf($0, paused.endpoint) > failuresOf(before, paused.endpoint)
        }
      } catch {
        paused.signal(SIGCONT)
        throw error
      }
      paused.signal(SIGCONT)
      for other in [etcd.members[0], etcd.members[2]] {
        #expect(failuresOf(during, other.endpoint) == failuresOf(before, other.endpoint), "\(other.endpoint)")
      }
      // Running again, it answers again.
      _ = try await probe.waitForScrape { samples in
        samples["etcd_probe_success{cluster=\"default\",endpoint=\"\(paused.endpoint)\",op=\"get_serializable\"}"] == 1
      }
      probe.stop()
    }
  }

  /// With discovery on, the probe follows the member list: a member added as a learner is probed for what a
  /// learner serves and labelled as one, then as a voter once promoted; a removed member's series leave.
  @Test func followsMembersAddedPromotedAndRemoved() async throws {
    try await withEtcd(size: 3) { etcd in
      let client = try EtcdClient(endpoints: Array(etcd.endpoints.prefix(2)))
      defer { Task { await client.close() } }
      let probe = try EtcdProbeProcess(arguments: [
        "--endpoints", etcd.endpoints.joined(separator: ","), "--interval", "300ms", "--timeout", "1s",
      ])
      _ = try await probe.waitForScrape { sum($0, "etcd_probe_rounds_total") >= 2 }

      // A new member, as a learner.
      let added = try etcd.newMember()
      // etcd refuses reconfiguration until every member has been connected for a while.
      let learner = try await retrying(while: .unhealthy, for: .seconds(15)) {
        try await client.addMember(peerURLs: [added.peerURL], isLearner: true).member
      }
      try await etcd.join(added)
      let asLearner = try await probe.waitForScrape { samples in
        samples["etcd_probe_success{cluster=\"default\",endpoint=\"\(added.endpoint)\",op=\"get_serializable\"}"] == 1
          && samples["etcd_probe_success{cluster=\"default\",endpoint=\"\(added.endpoint)\",op=\"status\"}"] == 1
      }
      #expect(sum(asLearner, "etcd_probe_endpoint_info", containing: ["endpoint=\"\(added.endpoint)\"", "learner=\"true\""]) == 1)
      #expect(asLearner["etcd_probe_success{cluster=\"default\",endpoint=\"\(added.endpoint)\",op=\"put\"}"] == nil)
      #expect(sum(asLearner, "etcd_probe_failures_total", containing: ["endpoint=\"\(added.endpoint)\""]) == 0)

      // Promoted once it has caught up (etcd refuses while the learner lags).
      _ = try await retrying(while: .learnerNotReady, for: .seconds(20)) {
        try await client.promoteMember(id: learner.id)
      }
      let promoted = try await probe.waitForScrape { samples in
        samples["etcd_probe_success{cluster=\"default\",endpoint=\"\(added.endpoint)\",op=\"put\"}"] == 1
          && samples["etcd_probe_success{cluster=\"default\",endpoint=\"\(added.endpoint)\",op=\"watch\"}"] == 1
      }
      #expect(sum(promoted, "etcd_probe_endpoint_info", containing: ["endpoint=\"\(added.endpoint)\"", "learner=\"false\""]) == 1)
      #expect(sum(promoted, "etcd_probe_endpoint_info", containing: ["endpoint=\"\(added.endpoint)\"", "learner=\"true\""]) == 0)

      // A member removed: its series leave /metrics; the others carry on.
      let leaving = etcd.members[2]
      let list = try await client.memberList().members
      let leavingID = try #require(list.first { $0.peerURLs.contains(leaving.peerURL) }?.id)
      _ = try await client.removeMember(id: leavingID)
      _ = try await probe.waitForScrape { samples in
        !samples.keys.contains { $0.hasPrefix("etcd_probe_") && $0.contains("endpoint=\"\(leaving.endpoint)\"") }
          && samples["etcd_probe_cluster_members{cluster=\"default\"}"] == 3
      }
      // The client over every member may have sent the round's put to the member as it left (a failed put, truly
      // reported); the rounds after it succeed everywhere.
      let survivors = [etcd.endpoints[0], etcd.endpoints[1], added.endpoint, "cluster"]
      let after = try await probe.waitForScrape { samples in
        survivors.allSatisfy { samples["etcd_probe_success{cluster=\"default\",endpoint=\"\($0)\",op=\"put\"}"] == 1 }
      }
      #expect(!after.keys.contains { $0.hasPrefix("etcd_probe_") && $0.contains("endpoint=\"\(leaving.endpoint)\"") })
      #expect(probe.log.contains("probing a new member") && probe.log.contains("member left the cluster"))
      #expect(probe.stop() == 0)
      #expect(try await client.leases() == [], "\(probe.log.suffix(1500))")
    }
  }

  /// The probe revokes its leases and deletes its keys when it stops, after `--rounds` and after SIGTERM.
  @Test(arguments: [true, false])
  func leavesNoLeaseOrKeyBehind(stopWithSignal: Bool) async throws {
    try await withEtcd(size: 3) { etcd in
      let client = try EtcdClient(endpoints: etcd.endpoints)
      defer { Task { await client.close() } }
      var arguments = [
        "--endpoints", etcd.endpoints.joined(separator: ","), "--interval", "200ms", "--timeout", "1s",
        "--key-prefix", "/leases-test/",
      ]
      if !stopWithSignal { arguments += ["--rounds", "3"] }
      let probe = try EtcdProbeProcess(arguments: arguments)
      if stopWithSignal {
        _ = try await probe.waitForScrape { sum($0, "etcd_probe_rounds_total") >= 3 }
        // While it runs, each target (three members and the cluster) holds a lease.
        #expect(try await client.leases().count == 4)
        #expect(probe.stop() == 0, "\(probe.log.suffix(1500))")
      } else {
        #expect(try await probe.waitForExit() == 0, "\(probe.log.suffix(1500))")
      }
      #expect(try await client.leases() == [], "\(probe.log.suffix(1500))")
      #expect(try await client.get("/leases-test/", options: .init(range: .prefix)).kvs.isEmpty)
    }
  }

  @Test func badFlagsExitWithAClearMessage() throws {
    guard let binary = EtcdProbeProcess.binaryPath else {
      Issue.record("etcd-probe is not built")
      return
    }
    let help = try run([binary, "--help"])
    #expect(help.status == 0)
    #expect(help.output.contains("--endpoints") && help.output.contains("ETCD_PROBE_"))
    for (arguments, message) in [
      (["--endpoints", ""], "names no endpoint"),
      (["--endpoints", " , "], "names no endpoint"),
      (["--interval", "soon"], "interval"),
      (["--value-size", "-5"], "value-size"),
      (["--endpoints", "https//broken:x"], "invalid endpoint"),
      (["--listen-address", "nowhere"], "listen-address"),
      (["--log-level", "loud"], "log-level"),
      (["--client-metrics", "some"], "client-metrics"),
      (["--probe.concurrency", "0"], "probe.concurrency"),
      (["--web.max-connections", "0"], "web.max-connections"),
      (["--web.request-head-timeout", "soon"], "web.request-head-timeout"),
      (["--config.file", "/nonexistent/clusters.yml"], "/nonexistent/clusters.yml: cannot be read"),
      (["--config.file", "/nonexistent/clusters.yml", "--endpoints", "127.0.0.1:2379"], "do not go together"),
      (["--web.config.file", "/nonexistent/web.yml", "--endpoints", "127.0.0.1:1"], "/nonexistent/web.yml: cannot be read"),
    ] {
      let result = try run([binary] + arguments)
      #expect(result.status == 64, "\(arguments): \(result.output)")
      #expect(result.output.contains(message), "\(arguments): \(result.output)")
    }
  }

  @Test func anUnreachableEndpointIsProbedAndCountedNotFatal() async throws {
    let port = try freeLoopbackPort()
    let probe = try EtcdProbeProcess(arguments: [
      "--endpoints", "127.0.0.1:\(port)", "--interval", "300ms", "--timeout", "500ms", "--dial-timeout", "300ms",
    ])
    let samples = try await probe.waitForScrape { samples in
      sum(samples, "etcd_probe_failures_total", containing: ["op=\"put\"", "code=\"Unavailable\""]) >= 2
    }
    #expect(samples["etcd_probe_success{cluster=\"default\",endpoint=\"127.0.0.1:\(port)\",op=\"put\"}"] == 0)
    #expect(probe.stop() == 0)
  }
}

/// The value of label `name` in a series key such as `family{a="1",b="2"}`.
func label(_ name: String) -> (String) -> String {
  { series in
    guard let start = series.range(of: "\(name)=\"") else { return "" }
    return String(series[start.upperBound...].prefix { $0 != "\"" })
  }
}
