import Foundation
import Testing
import LoopbackTestSupport

#if canImport(Glibc)
  import Glibc
#endif

/// The dashboards and rules of `dashboards/` against a real Prometheus: it scrapes a real
/// `etcd-probe` and the `/metrics` of a real 3-member etcd, every PromQL expression of the
/// dashboards and rules must parse, and each one that should show something on a healthy cluster
/// must return data. `promtool` checks and tests the rules.
///
/// The expressions come from `dashboards/test/extract-queries.py`, which also says which ones may
/// be empty.
@Suite("Dashboards and rules against Prometheus", .serialized)
struct DashboardQueryTests {
  static let packageRoot = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
  static let dashboards = packageRoot + "/dashboards"
  static let prometheus = "/usr/bin/prometheus"
  static let promtool = "/usr/bin/promtool"

  /// The `cluster` label of the probe this test starts: configured by flags, it probes one cluster
  /// named `default`. The dashboard's `$cluster` is set to it, as a user picking it would.
  static let probeCluster = "default"

  static var hasPromtool: Bool { FileManager.default.isExecutableFile(atPath: promtool) }
  static var hasPrometheus: Bool { FileManager.default.isExecutableFile(atPath: prometheus) }

  /// The built `etcd-probe`: `ETCD_PROBE_BINARY`, else next to the test runner (the build directory
  /// that `swift build --build-tests` fills), else the package's `.build/debug`.
  static var probeBinary: String? {
    var candidates: [String] = []
    if let explicit = ProcessInfo.processInfo.environment["ETCD_PROBE_BINARY"] {
      candidates.append(explicit)
    }
    for runner in [CommandLine.arguments.first, Bundle.main.executablePath].compactMap({ $0 }) {
      var directory = URL(fileURLWithPath: runner).deletingLastPathComponent()
      // On Darwin the runner sits inside `<name>.xctest/Contents/MacOS`.
      while directory.path.contains(".xctest") { directory.deleteLastPathComponent() }
      candidates.append(directory.appendingPathComponent("etcd-probe").path)
    }
    candidates.append(packageRoot + "/.build/debug/etcd-probe")
    return candidates.first { FileManager.default.isExecutableFile(atPath: $0) }
  }

  /// One line of `extract-queries.py`.
  struct Query: Decodable, CustomStringConvertible {
    let source: String
    let kind: String
    let location: String
    let expr: String
    let expectData: Bool
    let reason: String?

    enum CodingKeys: String, CodingKey {
      case source, kind, expr, reason
      case location = "where"
      case expectData = "expect_data"
    }

    var description: String { "\(source) \(location)" }
  }

  /// The expressions, with Grafana's variables at All (`.*`) but those in `variables`.
  ///
  /// - Parameter variables: Variable values, such as `["cluster": "default"]`.
  static func extractQueries(variables: [String: String] = [:]) throws -> [Query] {
    let settings = variables.sorted { $0.key < $1.key }.flatMap {
      ["--set", "\($0.key)=\($0.value)"]
    }
    let script = dashboards + "/test/extract-queries.py"
    let result = try run(["python3", script, dashboards] + settings)
    guard result.status == 0 else {
      throw FixtureError("extract-queries.py failed:\n\(result.output)")
    }
    let decoder = JSONDecoder()
    return try result.output.split(separator: "\n").map { line in
      try decoder.decode(Query.self, from: Data(line.utf8))
    }
  }

  @Test(
    "promtool checks and tests the rules",
    .enabled(if: hasPromtool, "promtool is not installed at /usr/bin/promtool (Debian: prometheus)")
  )
  func promtoolRules() throws {
    let check = try run([Self.promtool, "check", "rules", Self.dashboards + "/alerts.yml"])
    #expect(check.status == 0, "promtool check rules:\n\(check.output)")
    let test = try run([Self.promtool, "test", "rules", Self.dashboards + "/alerts.test.yml"])
    #expect(test.status == 0, "promtool test rules:\n\(test.output)")
  }

  @Test("the harness finds the expressions of both dashboards and of the rules")
  func extraction() throws {
    let queries = try Self.extractQueries()
    for source in ["etcd-probe.json", "etcd-client.json", "alerts.yml"] {
      #expect(queries.contains { $0.source == source }, "no expression found in \(source)")
    }
    for query in queries {
      // `$1` is label_replace's first capture group, not a variable.
      let unsubstituted = query.expr.replacingOccurrences(of: "\"$1\"", with: "")
      #expect(
        !unsubstituted.contains("$"), "an unsubstituted variable is left in \(query): \(query.expr)")
      #expect(query.expectData || query.reason != nil, "\(query) may be empty but says not why")
    }
  }

  @Test("every probe selector of the probe dashboard filters on the cluster variable")
  func clusterFilter() throws {
    // One probe serves several clusters: a panel that reads etcd_probe_* series without
    // `cluster=~"$cluster"` mixes them. The `job` and `cluster` variables come before it: they
    // list the jobs and clusters to choose from.
    let unfiltered: Set = ["variable job", "variable cluster"]
    let queries = try Self.extractQueries(variables: ["cluster": "CLUSTER"]).filter {
      $0.source == "etcd-probe.json" && !unfiltered.contains($0.location)
    }
    #expect(queries.contains { $0.expr.contains("etcd_probe_") })
    for query in queries {
      for match in query.expr.matches(of: /etcd_probe_\w+(\{[^}]*\})?/) {
        #expect(
          match.output.1?.contains("cluster=~\"CLUSTER\"") == true,
          "\(query) reads \(match.output.0) without the cluster filter: \(query.expr)")
      }
    }
  }

  @Test(
    "every expression parses, and those that should have data return some",
    .enabled(
      if: hasPrometheus, "prometheus is not installed at /usr/bin/prometheus (Debian: prometheus)"),
    .enabled(
      if: probeBinary != nil,
      "etcd-probe is not built: run `swift build` (or set ETCD_PROBE_BINARY) before the tests"),
    .timeLimit(.minutes(3))
  )
  func expressionsAgainstPrometheus() async throws {
    // `$cluster` is the probe's cluster rather than `.*`: a probe series without that label leaves
    // the panels that read it empty, and fails below.
    let queries = try Self.extractQueries(variables: ["cluster": Self.probeCluster])
    let binary = try #require(Self.probeBinary)
    let base =
      FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm" : NSTemporaryDirectory()
    let directory = base + "/dashboards-test-\(getpid())-\(UUID().uuidString.prefix(8))"
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: directory) }

    // --metrics=extensive makes etcd serve grpc_server_handling_seconds, so the "Probe vs server"
    // panels that need it are exercised too (they may be empty elsewhere, and are marked so).
    try await withEtcd(size: 3, extraArguments: ["--metrics", "extensive"]) { etcd in
      let probePort = try freeLoopbackPort()
      let probe = try spawn(
        [
          binary, "--endpoints", etcd.endpoints.joined(separator: ","),
          "--listen-address", "127.0.0.1:\(probePort)",
          "--interval", "0.5", "--timeout", "2", "--hash-interval", "5",
        ],
        logFile: directory + "/probe.log")
      defer { stopProcess(probe) }

      let prometheusPort = try freeLoopbackPort()
      let config = """
        global:
          scrape_interval: 1s
          scrape_timeout: 1s
          evaluation_interval: 1s
        rule_files:
          - \(Self.dashboards)/alerts.yml
        scrape_configs:
          - job_name: etcd-probe
            static_configs:
              - targets: ["127.0.0.1:\(probePort)"]
          - job_name: etcd
            static_configs:
              - targets: [\(etcd.endpoints.map { "\"\($0)\"" }.joined(separator: ", "))]

        """
      try config.write(toFile: directory + "/prometheus.yml", atomically: true, encoding: .utf8)
      let server = try spawn(
        [
          Self.prometheus, "--config.file", directory + "/prometheus.yml",
          "--storage.tsdb.path", directory + "/tsdb",
          "--web.listen-address", "127.0.0.1:\(prometheusPort)",
          "--log.level", "warn",
        ],
        logFile: directory + "/prometheus.log")
      defer { stopProcess(server) }
      let api = PrometheusAPI(port: prometheusPort)

      // Wait (at most 60 s) for every target to be up and every expression that should have data
      // to have some: rates need two scrapes, the hash check runs every 5 s, rules every second.
      let deadline = ContinuousClock.now + .seconds(60)
      var targetsUp = false
      var empty: [Query] = queries.filter(\.expectData)
      while ContinuousClock.now < deadline {
        if !targetsUp {
          let up = (try? api.query("up == 1")) ?? []
          targetsUp = up.count == 1 + etcd.endpoints.count
        }
        if targetsUp {
          empty = empty.filter { query in ((try? api.query(query.expr)) ?? []).isEmpty }
          if empty.isEmpty { break }
        }
        try await Task.sleep(for: .seconds(1))
      }
      guard targetsUp else {
        let targets =
          (try? run(["curl", "-s", "--max-time", "5", api.url("targets")]).output) ?? ""
        let probeLog =
          (try? String(contentsOfFile: directory + "/probe.log", encoding: .utf8)) ?? ""
        Issue.record(
          """
          not every target came up within 60 s.
          targets: \(targets.prefix(3000))
          probe log tail: \(probeLog.suffix(2000))
          """)
        return
      }

      // The final pass: every expression parses and evaluates (errors such as many-to-many matches
      // show only with data), and none that should have data is empty.
      var firing: [String] = []
      for query in queries {
        let result: [[String: Any]]
        do {
          result = try api.query(query.expr)
        } catch {
          Issue.record("\(query) fails: \(error)\n\(query.expr)")
          continue
        }
        if query.expectData && result.isEmpty {
          Issue.record("\(query) returned no data on a healthy cluster\n\(query.expr)")
        }
        if query.kind == "alert" && !result.isEmpty { firing.append(query.location) }
      }
      // A fresh cluster can trip an alert's condition for a moment (its first probes): say so, but
      // do not fail.
      if !firing.isEmpty {
        print("DashboardQueryTests: alert conditions true right now: \(firing)")
      }
      print(
        "DashboardQueryTests: \(queries.count) expressions evaluated, "
          + "\(queries.filter(\.expectData).count) of them expected to return data")
    }
  }
}

/// Prometheus' HTTP API on loopback, through curl.
private struct PrometheusAPI {
  let port: Int

  struct QueryError: Error, CustomStringConvertible {
    let description: String
  }

  func url(_ path: String) -> String { "http://127.0.0.1:\(port)/api/v1/\(path)" }

  /// Runs an instant query; returns the result vector (or throws Prometheus' error).
  func query(_ expression: String) throws -> [[String: Any]] {
    let response = try run([
      "curl", "-s", "--max-time", "10", "--data-urlencode", "query=\(expression)", url("query"),
    ])
    guard response.status == 0 else {
      throw QueryError(description: "curl exited with \(response.status)")
    }
    guard
      let object = try? JSONSerialization.jsonObject(with: Data(response.output.utf8))
        as? [String: Any]
    else { throw QueryError(description: "not JSON: \(response.output.prefix(500))") }
    guard object["status"] as? String == "success" else {
      throw QueryError(
        description: "\(object["errorType"] ?? ""): \(object["error"] ?? response.output)")
    }
    let data = object["data"] as? [String: Any]
    switch data?["resultType"] as? String {
    case "vector", "matrix": return data?["result"] as? [[String: Any]] ?? []
    default: return [data ?? [:]]  // a scalar or string result is data too
    }
  }
}

/// Stops a process started with `spawn`: SIGTERM, then SIGKILL after 15 s (the probe removes its
/// keys on the way out, bounded by its timeout per endpoint).
private func stopProcess(_ pid: pid_t) {
  kill(pid, SIGTERM)
  var status: Int32 = 0
  for _ in 0..<300 {
    if waitpid(pid, &status, WNOHANG) == pid { return }
    usleep(50_000)
  }
  kill(pid, SIGKILL)
  waitpid(pid, &status, 0)
}
