import EtcdClient
import Foundation
import LoopbackTestSupport
import Testing

#if canImport(Glibc)
  import Glibc
#endif

/// One probe process over several real etcd clusters from a clusters file: reloads that add, remove and
/// refuse, and `/probe` for targets it is given.
@Suite("etcd-probe over a fleet of real etcd clusters", .serialized)
struct ProbeFleetTests {
  static func clustersFile(_ clusters: [(name: String, endpoints: [String])], extra: String = "") -> String {
    var text = "clusters:\n"
    for cluster in clusters {
      text += "  - name: \(cluster.name)\n    endpoints: [\(cluster.endpoints.joined(separator: ", "))]\n"
      text += "    interval: 300ms\n    timeout: 1s\n    hash_interval: 1s\n"
    }
    return text + extra
  }

  static func rounds(_ samples: [String: Double], _ cluster: String) -> Double {
    samples["etcd_probe_rounds_total{cluster=\"\(cluster)\"}"] ?? 0
  }

  @Test func reloadsAddAndRemoveClustersWhileTheOthersKeepCounting() async throws {
    try await withEtcd { a in
      try await withEtcd { b in
        try await withEtcd { c in
          let directory = NSTemporaryDirectory() + "etcd-probe-fleet-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
          try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
          defer { try? FileManager.default.removeItem(atPath: directory) }
          let file = directory + "/clusters.yml"
          try Self.clustersFile([("a", a.endpoints), ("b", b.endpoints)])
            .write(toFile: file, atomically: true, encoding: .utf8)
          let probe = try EtcdProbeProcess(arguments: ["--config.file", file, "--log-level", "info"])
          defer { probe.stop() }

          // Both clusters are probed, each series labelled with its cluster.
          let first = try await probe.waitForScrape { samples in
            Self.rounds(samples, "a") >= 2 && Self.rounds(samples, "b") >= 2
          }
          for (name, etcd) in [("a", a), ("b", b)] {
            for op in ["put", "get", "get_serializable", "delete", "watch", "status"] {
              let series = "etcd_probe_success{cluster=\"\(name)\",endpoint=\"\(etcd.endpoints[0])\",op=\"\(op)\"}"
              #expect(first[series] == 1, "\(series)")
            }
          }
          #expect(first["etcd_probe_config_last_reload_successful"] == 1)
          #expect((first["etcd_probe_config_last_reload_success_timestamp_seconds"] ?? 0) > 1_700_000_000)
          let ready = try probe.get("/readyz?verbose")
          #expect(ready.status == 200 && ready.body.contains("[+]a: round ok") && ready.body.contains("[+]b: round ok"))

          // Reload by POST: c comes, b goes, a keeps counting without a reset.
          let aBefore = Self.rounds(try #require(probe.scrape()).samples, "a")
          try Self.clustersFile([("a", a.endpoints), ("c", c.endpoints)])
            .write(toFile: file, atomically: true, encoding: .utf8)
          let reload = try LoopbackHTTP.request(port: probe.port, method: "POST", path: "/-/reload")
          let reloadBody = String(decoding: reload.body, as: UTF8.self)
          #expect(reload.status == 200, "\(reloadBody)")
          #expect(reloadBody.contains("started [\"c\"]") && reloadBody.contains("stopped [\"b\"]"), "\(reloadBody)")
          #expect(reloadBody.contains("unchanged [\"a\"]"), "\(reloadBody)")
          // Adding a cluster does not make the probe unready while the new cluster's first round is due.
          #expect(try probe.get("/readyz").status == 200)
          let afterReload = try await probe.waitForScrape { samples in
            Self.rounds(samples, "c") >= 2 && !samples.keys.contains { $0.contains("cluster=\"b\"") }
          }
          #expect(Self.rounds(afterReload, "a") > aBefore)
          #expect(try probe.get("/-/reload").status == 405)
          // b's probe key and lease are gone with it.
          let bClient = try EtcdClient(endpoints: b.endpoints)
          #expect(try await bClient.get("/etcd-probe/", options: .prefix).kvs.isEmpty)
          #expect(try await bClient.leases().isEmpty)
          await bClient.close()

          // A bad file changes nothing, and says why: in the answer, the log and the metrics.
          let aBeforeBad = Self.rounds(afterReload, "a")
          try (Self.clustersFile([("a", a.endpoints)]) + "  - name: a\n    endpoints: [\(c.endpoints[0])]\n    intervall: 1s\n")
            .write(toFile: file, atomically: true, encoding: .utf8)
          let refused = try LoopbackHTTP.request(port: probe.port, method: "POST", path: "/-/reload")
          let refusedBody = String(decoding: refused.body, as: UTF8.self)
          #expect(refused.status == 500)
          #expect(refusedBody.contains("another cluster is named a") && refusedBody.contains("intervall: unknown field"), "\(refusedBody)")
          let afterBad = try await probe.waitForScrape { samples in
            samples["etcd_probe_config_last_reload_successful"] == 0 && Self.rounds(samples, "a") > aBeforeBad + 2
              && Self.rounds(samples, "c") > 2
          }
          #expect(afterBad["etcd_probe_success{cluster=\"c\",endpoint=\"\(c.endpoints[0])\",op=\"put\"}"] == 1)
          #expect(probe.log.contains("intervall: unknown field"))

          // SIGHUP reloads too: b comes back, changed settings restart only c.
          try (Self.clustersFile([("a", a.endpoints), ("b", b.endpoints)])
            + "  - name: c\n    endpoints: [\(c.endpoints[0])]\n    interval: 400ms\n    timeout: 1s\n")
            .write(toFile: file, atomically: true, encoding: .utf8)
          kill(probe.pid, SIGHUP)
          let afterHangup = try await probe.waitForScrape { samples in
            samples["etcd_probe_config_last_reload_successful"] == 1 && Self.rounds(samples, "b") >= 1
          }
          #expect(Self.rounds(afterHangup, "a") >= Self.rounds(afterBad, "a"))
          #expect(probe.log.contains("restarted [\"c\"]"), "\(probe.log.suffix(2000))")
        }
      }
    }
  }

  @Test func probeEndpointAnswersForTheTargetItIsGiven() async throws {
    try await withEtcd(size: 3) { etcd in
      let directory = NSTemporaryDirectory() + "etcd-probe-multi-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
      try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
      defer { try? FileManager.default.removeItem(atPath: directory) }
      let file = directory + "/clusters.yml"
      try """
        clusters: []
        modules:
          local: {timeout: 3s, target_pattern: '127\\.0\\.0\\.1:[0-9]+'}
          reads: {timeout: 3s, operations: [get_serializable, status]}
        """.write(toFile: file, atomically: true, encoding: .utf8)
      let probe = try EtcdProbeProcess(arguments: ["--config.file", file])
      defer { probe.stop() }
      _ = try await probe.waitForScrape { $0["etcd_probe_config_last_reload_successful"] == 1 }

      // One member.
      let member = try probe.get("/probe?target=\(etcd.endpoints[0])&module=local")
      #expect(member.status == 200)
      let memberSamples = parseExposition(member.body)
      #expect(memberSamples["probe_success"] == 1, "\(member.body)")
      for op in ["put", "get", "get_serializable", "delete", "watch", "status"] {
        #expect(memberSamples["probe_etcd_operation_success{op=\"\(op)\"}"] == 1, "\(op): \(member.body)")
      }
      #expect((memberSamples["probe_duration_seconds"] ?? 0) > 0)
      #expect(!member.body.contains("etcd_probe_"), "only the round's own metrics")
      // The formats of /metrics: protobuf when the scrape asks for it.
      let binary = try LoopbackHTTP.request(
        port: probe.port, path: "/probe?target=\(etcd.endpoints[0])",
        headers: ["Accept": "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited"])
      #expect(binary.status == 200)
      #expect(binary.headers["content-type"]?.hasPrefix("application/vnd.google.protobuf") == true, "\(binary.headers)")

      // The whole cluster, through a client over every member; a module with fewer operations.
      let cluster = try probe.get("/probe?target=\(etcd.endpoints.joined(separator: ","))")
      #expect(parseExposition(cluster.body)["probe_success"] == 1, "\(cluster.body)")
      let reads = parseExposition(try probe.get("/probe?target=\(etcd.endpoints[1])&module=reads").body)
      #expect(reads["probe_success"] == 1 && reads["probe_etcd_operation_success{op=\"status\"}"] == 1)
      #expect(reads["probe_etcd_operation_success{op=\"put\"}"] == nil)

      // An unreachable target is an answer, not an HTTP error.
      let port = try freeLoopbackPort()
      let unreachable = try probe.get("/probe?target=127.0.0.1:\(port)")
      #expect(unreachable.status == 200)
      #expect(parseExposition(unreachable.body)["probe_success"] == 0, "\(unreachable.body)")
      #expect(unreachable.body.contains("probe_etcd_operation_failure_info{op=\"put\",code=\"Unavailable\""), "\(unreachable.body)")

      // Bad requests get 400 with a reason, and are counted.
      for (path, reason) in [
        ("/probe", "target parameter is missing"),
        ("/probe?target=\(etcd.endpoints[0])&module=nope", "unknown module \"nope\""),
        ("/probe?target=not-an-endpoint", "is not host:port"),
        ("/probe?target=10.0.0.1:2379&module=local", "does not accept the target"),
      ] {
        let answer = try probe.get(path)
        #expect(answer.status == 400 && answer.body.contains(reason), "\(path): \(answer)")
      }
      let counted = parseExposition(try #require(probe.scrape()))
      #expect(counted["etcd_probe_probe_requests_total{outcome=\"bad_request\"}"] == 4)
      #expect(counted["etcd_probe_probe_requests_total{outcome=\"probed\"}"] == 5)
      // The rounds' keys and leases go after their answers.
      let client = try EtcdClient(endpoints: etcd.endpoints)
      defer { Task { await client.close() } }
      let deadline = ContinuousClock.now + .seconds(10)
      while try await !client.leases().isEmpty && ContinuousClock.now < deadline {
        try await Task.sleep(for: .milliseconds(200))
      }
      #expect(try await client.leases().isEmpty)
      #expect(try await client.get("/etcd-probe/", options: .prefix).kvs.isEmpty)
    }
  }
}

extension ProbeFleetTests {
  @Test func rotatedCertificatesAreUsedWithoutAFailedRoundAndTheirExpiryMoves() async throws {
    try await withTestCertificates { certificates in
      let setup = try TLSReloadTests.Setup(certificates)
      try await withEtcd(
        extraArguments: setup.etcdArguments, clientScheme: "https",
        healthCheckCurlArguments: certificates.clientCurlArguments
      ) { etcd in
        let file = certificates.directory + "/clusters.yml"
        try """
          clusters:
            - name: mtls
              endpoints: [https://\(etcd.endpoints[0])]
              interval: 300ms
              timeout: 2s
              tls: {ca_file: \(setup.caFile), cert_file: \(setup.certificateFile), key_file: \(setup.keyFile)}
          """.write(toFile: file, atomically: true, encoding: .utf8)
        let probe = try EtcdProbeProcess(arguments: ["--config.file", file])
        defer { probe.stop() }
        let series = { (endpoint: String, cert: String) in
          "etcd_probe_tls_cert_not_after_timestamp_seconds{cluster=\"mtls\",endpoint=\"\(endpoint)\",cert=\"\(cert)\"}"
        }
        let oldClient = try TLSReloadTests.notAfter(certificates.client.certificate).timeIntervalSince1970
        let before = try await probe.waitForScrape { samples in
          Self.rounds(samples, "mtls") >= 3 && samples[series("cluster", "client")] == oldClient
        }
        #expect(before[series("cluster", "ca")] == (try TLSReloadTests.notAfter(certificates.ca.certificate).timeIntervalSince1970))
        #expect(before[series(etcd.endpoints[0], "server")] == (try TLSReloadTests.notAfter(certificates.server.certificate).timeIntervalSince1970))

        // Rotate the client's certificate, key and CA bundle under the running probe.
        try TLSReloadTests.Setup.install(setup.newClient.certificate, at: setup.certificateFile)
        try TLSReloadTests.Setup.install(setup.newClient.key, at: setup.keyFile)
        try TLSReloadTests.Setup.write(
          try TLSReloadTests.Setup.read(certificates.ca.certificate)
            + TLSReloadTests.Setup.read(certificates.otherCA.certificate),
          to: setup.caFile)
        let newClient = try TLSReloadTests.notAfter(setup.newClient.certificate).timeIntervalSince1970
        let rounds = Self.rounds(before, "mtls")
        let after = try await probe.waitForScrape(timeout: .seconds(30)) { samples in
          samples[series("cluster", "client")] == newClient && Self.rounds(samples, "mtls") > rounds + 3
        }
        #expect(newClient != oldClient)
        #expect(sum(after, "etcd_probe_failures_total", containing: ["cluster=\"mtls\""]) == 0, "\(probe.log.suffix(1500))")
        #expect(sum(after, "etcd_probe_tls_reload_failures_total") == 0)
      }
    }
  }
}

extension ProbeFleetTests {
  @Test func probesPastTheConcurrencyLimitGet503AndAreCounted() async throws {
    try await withEtcd { etcd in
      let directory = NSTemporaryDirectory() + "etcd-probe-limit-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
      try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
      defer { try? FileManager.default.removeItem(atPath: directory) }
      try "clusters: []\nmodules: {slow: {timeout: 3s}}\n"
        .write(toFile: directory + "/clusters.yml", atomically: true, encoding: .utf8)
      let probe = try EtcdProbeProcess(arguments: [
        "--config.file", directory + "/clusters.yml", "--probe.concurrency", "1",
      ])
      defer { probe.stop() }
      _ = try await probe.waitForScrape { $0["etcd_probe_config_last_reload_successful"] == 1 }
      // A frozen member holds the first round until its deadline; the second request finds the limit taken.
      etcd.members[0].signal(SIGSTOP)
      defer { etcd.members[0].signal(SIGCONT) }
      let path = "/probe?target=\(etcd.endpoints[0])&module=slow"
      let port = probe.port
      let first = Task.detached { try LoopbackHTTP.request(port: port, path: path) }
      try await Task.sleep(for: .milliseconds(500))
      let second = try LoopbackHTTP.request(port: port, path: path)
      #expect(second.status == 503, "\(second)")
      let held = try await first.value
      #expect(held.status == 200)
      #expect(parseExposition(String(decoding: held.body, as: UTF8.self))["probe_success"] == 0)
      let counted = parseExposition(try #require(probe.scrape()))
      #expect(counted["etcd_probe_probe_requests_total{outcome=\"over_limit\"}"] == 1)
      #expect(counted["etcd_probe_probe_requests_total{outcome=\"probed\"}"] == 1)
    }
  }
}

extension String {
  /// The samples of an exposition text.
  var samples: [String: Double] { parseExposition(self) }
}
