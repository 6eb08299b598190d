import Foundation
import Testing

@testable import PrometheusMetrics
import LoopbackTestSupport

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// End to end: a real Prometheus (Debian's `/usr/bin/prometheus`, 2.42) with native histograms
/// enabled scrapes a ``MetricsServer`` on loopback every second, and its HTTP API must return the
/// native histogram (which only the protobuf format carries) and a classic histogram's buckets.
@Suite("Real Prometheus scrapes native histograms", .serialized)
struct PrometheusServerTests {
  static let prometheus = "/usr/bin/prometheus"
  static var hasPrometheus: Bool { FileManager.default.isExecutableFile(atPath: prometheus) }

  @Test(
    "native histogram via protobuf: histogram_count, histogram_quantile, classic _bucket",
    .enabled(
      if: hasPrometheus, "prometheus is not installed at /usr/bin/prometheus (Debian: prometheus)"),
    .timeLimit(.minutes(1)))
  func nativeHistogramEndToEnd() throws {
    let registry = MetricsRegistry()
    let native = registry.makeHistogram(
      name: "e2e_native_latency_seconds", help: "Latency, native.",
      buckets: HistogramBuckets.defaults, native: NativeHistogramOptions())
    let classic = registry.makeHistogram(
      name: "e2e_classic_latency_seconds", help: "Latency, classic.",
      buckets: HistogramBuckets.defaults)
    // 1 ms, 2 ms, ..., 100 ms: the median is about 50 ms.
    for step in 1...100 {
      native.observe(Double(step) / 1000)
      classic.observe(Double(step) / 1000)
    }

    let server = MetricsServer(
      registry: registry, configuration: .init(host: "127.0.0.1", port: 0))
    try server.start()
    defer { server.stop() }
    let target = try #require(server.port)

    let directory = FileManager.default.temporaryDirectory
      .appendingPathComponent("etcd-metrics-prometheus-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    let config = directory.appendingPathComponent("prometheus.yml")
    try Data(
      """
      global:
        scrape_interval: 1s
        evaluation_interval: 1s
      scrape_configs:
        - job_name: etcd_metrics
          scrape_interval: 1s
          scrape_timeout: 1s
          static_configs:
            - targets: ['127.0.0.1:\(target)']

      """.utf8
    ).write(to: config)
    let apiPort = try freeLoopbackPort()
    let log = directory.appendingPathComponent("prometheus.log")
    try #require(FileManager.default.createFile(atPath: log.path, contents: nil))
    let logHandle = try FileHandle(forWritingTo: log)
    defer { try? logHandle.close() }

    let process = Process()
    process.executableURL = URL(fileURLWithPath: Self.prometheus)
    process.arguments = [
      "--config.file=\(config.path)",
      "--storage.tsdb.path=\(directory.appendingPathComponent("data").path)",
      "--web.listen-address=127.0.0.1:\(apiPort)",
      "--enable-feature=native-histograms",
      "--log.level=warn",
    ]
    process.standardOutput = logHandle
    process.standardError = logHandle
    try process.run()
    defer {
      // Stop by PID and wait, so the data directory can be removed.
      kill(process.processIdentifier, SIGTERM)
      process.waitUntilExit()
    }
    let printedLog = { String(decoding: (try? Data(contentsOf: log)) ?? Data(), as: UTF8.self) }

    let deadline = ContinuousClock.now + .seconds(30)
    func poll(_ query: String, until done: ([[String: Any]]) -> Bool) throws -> [[String: Any]] {
      var last: [[String: Any]] = []
      while ContinuousClock.now < deadline {
        if process.isRunning, let result = try? Self.query(query, port: apiPort) {
          last = result
          if done(result) { return result }
        }
        usleep(250_000)
      }
      return last
    }

    let up = try poll("up") { Self.scalar($0.first) == 1 }
    try #require(Self.scalar(up.first) == 1, "target never up; prometheus log:\n\(printedLog())")

    // The native histogram arrives as one series with a histogram value (not _bucket series).
    let raw = try poll("e2e_native_latency_seconds") { $0.first?["histogram"] != nil }
    #expect(raw.first?["histogram"] != nil, "no native sample: \(raw); log:\n\(printedLog())")

    let count = try poll("histogram_count(e2e_native_latency_seconds)") { !$0.isEmpty }
    #expect(Self.scalar(count.first) == 100)
    let sum = try poll("histogram_sum(e2e_native_latency_seconds)") { !$0.isEmpty }
    #expect(abs((Self.scalar(sum.first) ?? 0) - 5.05) < 1e-9)

    let median = try poll("histogram_quantile(0.5, e2e_native_latency_seconds)") { !$0.isEmpty }
    let value = try #require(Self.scalar(median.first), "no quantile: \(median)")
    // Schema 3 buckets are about 9 % wide; the true median is 50 ms.
    #expect(value > 0.045 && value < 0.056, "median \(value)")

    // A classic histogram still gives _bucket series with le labels. (Prometheus 2.42 stores a
    // histogram that has native buckets only as a native histogram: the classic buckets we send
    // beside them are read only by 2.45+ with `scrape_classic_histograms: true`.)
    let buckets = try poll("e2e_classic_latency_seconds_bucket") { $0.count == 12 }
    #expect(buckets.count == 12, "classic buckets: \(buckets)")
    let les = buckets.compactMap { ($0["metric"] as? [String: String])?["le"] }
    #expect(les.contains("0.05") && les.contains("+Inf"))
    let classicMedian = try poll("histogram_quantile(0.5, e2e_classic_latency_seconds_bucket)") {
      !$0.isEmpty
    }
    #expect(Self.scalar(classicMedian.first).map { $0 > 0.025 && $0 <= 0.1 } == true)
  }

  /// Runs an instant query; returns `data.result`.
  static func query(_ query: String, port: Int) throws -> [[String: Any]] {
    let encoded = query.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? query
    // Go's server sends larger answers chunked; LoopbackHTTP gives the decoded body.
    let response = try LoopbackHTTP.request(port: port, path: "/api/v1/query?query=\(encoded)")
    guard response.status == 200,
      let json = try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any],
      let data = json["data"] as? [String: Any],
      let result = data["result"] as? [[String: Any]]
    else {
      throw LoopbackHTTPError("bad answer to \(query): \(response.body.text)")
    }
    return result
  }

  /// The value of a vector element (`"value": [time, "1.5"]`).
  static func scalar(_ element: [String: Any]?) -> Double? {
    guard let value = element?["value"] as? [Any], value.count == 2, let text = value[1] as? String
    else { return nil }
    return Double(text)
  }
}
