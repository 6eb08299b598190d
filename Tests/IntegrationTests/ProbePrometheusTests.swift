import Foundation
import LoopbackTestSupport
import Testing

@testable import EtcdMetrics

#if canImport(Glibc)
  import Glibc
#endif

/// A real Prometheus scraping one probe: `/metrics` over HTTPS with basic auth (and refused with a wrong
/// password), and `/probe` for several targets through blackbox_exporter-style relabeling.
@Suite("etcd-probe scraped by a real Prometheus", .serialized)
struct ProbePrometheusTests {
  static let prometheus = "/usr/bin/prometheus"

  @Test(
    .enabled(if: FileManager.default.isExecutableFile(atPath: prometheus), "prometheus is not installed"),
    .timeLimit(.minutes(3)))
  func prometheusScrapesMetricsOverHTTPSWithBasicAuthAndProbesTargetsThroughRelabeling() async throws {
    try await withTestCertificates { certificates in
      try await withEtcd { a in
        try await withEtcd { b in
          let directory = certificates.directory
          let hash = try #require(Bcrypt.makeHash(password: "scrape-secret", cost: 6))
          try """
            tls_server_config:
              cert_file: \(certificates.server.certificate)
              key_file: \(certificates.server.key)
            basic_auth_users:
              prometheus: '\(hash)'
            """.write(toFile: directory + "/web.yml", atomically: true, encoding: .utf8)
          try """
            clusters:
              - name: a
                endpoints: [\(a.endpoints[0])]
                interval: 500ms
                timeout: 1s
              - name: b
                endpoints: [\(b.endpoints[0])]
                interval: 500ms
                timeout: 1s
            modules:
              local: {timeout: 2s, target_pattern: '127\\.0\\.0\\.1:[0-9]+'}
            """.write(toFile: directory + "/clusters.yml", atomically: true, encoding: .utf8)
          let probe = try EtcdProbeProcess(arguments: [
            "--config.file", directory + "/clusters.yml", "--web.config.file", directory + "/web.yml",
          ])
          defer { probe.stop() }
          let dead = try freeLoopbackPort()

          let prometheusPort = try freeLoopbackPort()
          let address = "127.0.0.1:\(probe.port)"
          try """
            global: {scrape_interval: 1s, scrape_timeout: 1s}
            scrape_configs:
              - job_name: etcd-probe
                scheme: https
                tls_config: {ca_file: \(certificates.ca.certificate)}
                basic_auth: {username: prometheus, password: scrape-secret}
                static_configs: [{targets: ["\(address)"]}]
              - job_name: wrong-password
                scheme: https
                tls_config: {ca_file: \(certificates.ca.certificate)}
                basic_auth: {username: prometheus, password: guessed}
                static_configs: [{targets: ["\(address)"]}]
              - job_name: etcd
                metrics_path: /probe
                params: {module: [local]}
                scheme: https
                scrape_timeout: 1s
                tls_config: {ca_file: \(certificates.ca.certificate)}
                basic_auth: {username: prometheus, password: scrape-secret}
                static_configs:
                  - targets: ["\(a.endpoints[0])", "\(b.endpoints[0])", "127.0.0.1:\(dead)"]
                relabel_configs:
                  - {source_labels: [__address__], target_label: __param_target}
                  - {source_labels: [__param_target], target_label: instance}
                  - {target_label: __address__, replacement: "\(address)"}
            """.write(toFile: directory + "/prometheus.yml", atomically: true, encoding: .utf8)
          let server = try spawn(
            [
              Self.prometheus, "--config.file", directory + "/prometheus.yml",
              "--storage.tsdb.path", directory + "/tsdb", "--web.listen-address", "127.0.0.1:\(prometheusPort)",
              "--log.level", "warn",
            ],
            logFile: directory + "/prometheus.log")
          defer {
            kill(server, SIGTERM)
            var status: Int32 = 0
            waitpid(server, &status, 0)
          }

          // Bounded: 60 s for every expectation to hold at once.
          let expectations: [(String, Int)] = [
            ("up{job=\"etcd-probe\"} == 1", 1),
            ("up{job=\"wrong-password\"} == 0", 1),
            ("etcd_probe_rounds_total{job=\"etcd-probe\", cluster=~\"a|b\"} > 0", 2),
            ("etcd_probe_success{job=\"etcd-probe\", cluster=~\"a|b\", op=\"put\"} == 1", 2),
            ("probe_success{job=\"etcd\", instance=~\"\(a.endpoints[0])|\(b.endpoints[0])\"} == 1", 2),
            ("probe_success{job=\"etcd\", instance=\"127.0.0.1:\(dead)\"} == 0", 1),
            ("up{job=\"etcd\"} == 1", 3),
          ]
          var unmet = expectations
          let deadline = ContinuousClock.now + .seconds(60)
          while !unmet.isEmpty && ContinuousClock.now < deadline {
            unmet = unmet.filter { (expression, count) in
              (try? Self.query(port: prometheusPort, expression).count) != count
            }
            if !unmet.isEmpty { try await Task.sleep(for: .seconds(1)) }
          }
          #expect(unmet.isEmpty, "not met within 60 s: \(unmet.map(\.0)); probe log: \(probe.log.suffix(1500))")

          // Plain HTTP, no credentials and a wrong password are refused; the refusals are counted.
          let noCredentials = try run([
            "curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--cacert", certificates.ca.certificate,
            "https://\(address)/metrics",
          ])
          #expect(noCredentials.output == "401")
          let plain = try run(["curl", "-s", "--max-time", "3", "http://\(address)/metrics"])
          #expect(plain.status != 0 || !plain.output.contains("etcd_probe_"))
          let metrics = try run([
            "curl", "-s", "--cacert", certificates.ca.certificate, "-u", "prometheus:scrape-secret",
            "https://\(address)/metrics",
          ])
          #expect(sum(parseExposition(metrics.output), "metrics_server_authentication_failures_total") > 0, "\(metrics.output.prefix(300))")
        }
      }
    }
  }

  /// deploy/prometheus/prometheus-shard-0.yml's relabeling, run by two real Prometheus servers (shard 0 and
  /// shard 1) over six targets: every target is scraped through `/probe` by exactly one of them.
  @Test(
    .enabled(if: FileManager.default.isExecutableFile(atPath: prometheus), "prometheus is not installed"),
    .timeLimit(.minutes(3)))
  func theHashmodExampleSplitsTargetsBetweenTwoServers() async throws {
    let example = try String(
      contentsOfFile: URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../deploy/prometheus/prometheus-shard-0.yml").standardized.path,
      encoding: .utf8)
    let lines = example.split(separator: "\n", omittingEmptySubsequences: false)
    let start = try #require(lines.firstIndex { $0.trimmingCharacters(in: .whitespaces) == "relabel_configs:" })
    let relabeling = lines[start...].joined(separator: "\n")
    #expect(relabeling.contains("action: hashmod") && relabeling.contains("replacement: probe-host:9379"))

    try await withEtcd(size: 3) { etcd in
      let directory = NSTemporaryDirectory() + "etcd-probe-shards-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
      try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
      defer { try? FileManager.default.removeItem(atPath: directory) }
      try "clusters: []\n".write(toFile: directory + "/clusters.yml", atomically: true, encoding: .utf8)
      let probe = try EtcdProbeProcess(arguments: ["--config.file", directory + "/clusters.yml"])
      defer { probe.stop() }
      let targets = etcd.endpoints + (try (0..<3).map { _ in "127.0.0.1:\(try freeLoopbackPort())" })

      var servers: [(pid: pid_t, port: Int)] = []
      defer {
        for server in servers {
          kill(server.pid, SIGTERM)
          var status: Int32 = 0
          waitpid(server.pid, &status, 0)
        }
      }
      for shard in ["0", "1"] {
        let port = try freeLoopbackPort()
        let shardRelabeling = relabeling
          .replacingOccurrences(of: "regex: \"0\"", with: "regex: \"\(shard)\"")
          .replacingOccurrences(of: "probe-host:9379", with: "127.0.0.1:\(probe.port)")
        try """
          global: {scrape_interval: 1s, scrape_timeout: 1s}
          scrape_configs:
            - job_name: etcd-probe-targets
              metrics_path: /probe
              params: {module: [default]}
              static_configs:
                - targets: [\(targets.map { "\"\($0)\"" }.joined(separator: ", "))]
          \(shardRelabeling)
          """.write(toFile: directory + "/shard-\(shard).yml", atomically: true, encoding: .utf8)
        let pid = try spawn(
          [
            Self.prometheus, "--config.file", directory + "/shard-\(shard).yml",
            "--storage.tsdb.path", directory + "/tsdb-\(shard)", "--web.listen-address", "127.0.0.1:\(port)",
            "--log.level", "warn",
          ],
          logFile: directory + "/prometheus-\(shard).log")
        servers.append((pid, port))
      }

      // Bounded: 60 s for both servers to have scraped their targets.
      var scraped: [[String]] = [[], []]
      let deadline = ContinuousClock.now + .seconds(60)
      while ContinuousClock.now < deadline {
        scraped = try servers.map { server in
          try Self.query(port: server.port, "probe_success").compactMap { ($0["metric"] as? [String: String])?["instance"] }
        }
        if scraped[0].count + scraped[1].count == targets.count { break }
        try await Task.sleep(for: .seconds(1))
      }
      #expect(Set(scraped[0]).isDisjoint(with: scraped[1]), "\(scraped)")
      #expect(Set(scraped[0] + scraped[1]) == Set(targets), "\(scraped)")
      let live = try servers.flatMap { try Self.query(port: $0.port, "probe_success == 1") }
      #expect(live.count == etcd.endpoints.count, "the etcd members succeed, the dead ports do not")
    }
  }

  /// An instant query's result vector.
  static func query(port: Int, _ expression: String) throws -> [[String: Any]] {
    let response = try run([
      "curl", "-s", "--max-time", "5", "--data-urlencode", "query=\(expression)",
      "http://127.0.0.1:\(port)/api/v1/query",
    ])
    guard let object = try? JSONSerialization.jsonObject(with: Data(response.output.utf8)) as? [String: Any],
      let data = object["data"] as? [String: Any], let result = data["result"] as? [[String: Any]]
    else { return [] }
    return result
  }
}
