import Foundation
import Synchronization
import Testing

@testable import PrometheusMetrics
import LoopbackTestSupport

/// 200 concurrent scrapers against an in-process server whose in-flight limit is below its thread count, so
/// both of its answers to a scrape (200, and 503 past the limit) occur; `SCRAPE_LOAD_SECONDS` (default 3)
/// lengthens the run. The same load against the probe process is IntegrationTests' `ProbeLoadTests`.
@Suite("MetricsServer under 200 concurrent scrapers", .serialized)
struct MetricsServerLoadTests {
  static let seconds = ProcessInfo.processInfo.environment["SCRAPE_LOAD_SECONDS"].flatMap { Int($0) } ?? 3

  @Test func everyScrapeIsAnsweredAndTheServerCountsWhatTheClientsSaw() async throws {
    let registry = ExpositionFixtures.populatedRegistry()
    let observed = registry.makeHistogram(
      name: "load_observed_seconds", help: "Observed while scraped.", buckets: [0.001, 0.01, 0.1])
    var configuration = MetricsServer.Configuration(host: "127.0.0.1", port: 0)
    // With libmicrohttpd a request is served on its thread from start to end, so at most `threadCount` scrapes
    // are in flight: only a limit below the thread count can be reached. The hook keeps each scrape in flight
    // a little, as a large registry would.
    configuration.threadCount = 8
    configuration.maxRequestsInFlight = 4
    configuration.testingHookBeforeScrape = { usleep(1_000) }
    let server = MetricsServer(registry: registry, configuration: configuration)
    try server.start()
    defer { server.stop() }
    let port = try #require(server.port)

    let statuses = Mutex<[Int: Int]>([:])
    let failures = Mutex<[String]>([])
    let finished = Atomic<Int>(0)
    let deadline = ContinuousClock.now + .seconds(Self.seconds)
    for _ in 0..<200 {
      let thread = Thread {
        defer { finished.add(1, ordering: .releasing) }
        for _ in 0..<100_000 where ContinuousClock.now < deadline {
          observed.observe(0.005)
          do {
            let response = try LoopbackHTTP.request(port: port, path: "/metrics")
            let body = response.body.text
            let valid =
              response.status == 200
              ? body.contains("load_observed_seconds_bucket{le=\"+Inf\"}") && body.hasSuffix("\n")
              : response.status == 503
                && body == "Limit of concurrent requests reached (4), try again later.\n"
            if !valid { failures.withLock { $0.append("\(response.status): \(body.prefix(80))") } }
            statuses.withLock { $0[response.status, default: 0] += 1 }
          } catch {
            failures.withLock { $0.append("\(error)") }
          }
        }
      }
      thread.stackSize = 1 << 20
      thread.start()
    }
    // A last request may start just before the deadline and take its 10 s socket timeout.
    while finished.load(ordering: .acquiring) < 200 && ContinuousClock.now < deadline + .seconds(30) {
      try await Task.sleep(for: .milliseconds(50))
    }
    try #require(finished.load(ordering: .acquiring) == 200)

    let seen = statuses.withLock { $0 }
    let problems = failures.withLock { $0 }
    print("MetricsServerLoadTests: \(Self.seconds) s, statuses \(seen), failures \(problems.count)")
    #expect(problems.isEmpty, "\(problems.prefix(5))")
    #expect(Set(seen.keys).isSubset(of: [200, 503]), "\(seen)")
    #expect(seen[200, default: 0] > 0)

    // Afterwards a scrape answers, and the server's own counts are the clients' (this scrape is in flight).
    let after = try LoopbackHTTP.request(port: port, path: "/metrics")
    #expect(after.status == 200)
    let text = after.body.text
    #expect(text.contains("promhttp_metric_handler_requests_total{code=\"200\"} \(seen[200, default: 0])\n"))
    #expect(text.contains("promhttp_metric_handler_requests_total{code=\"503\"} \(seen[503, default: 0])\n"))
    #expect(text.contains("promhttp_metric_handler_requests_in_flight 1\n"))
  }
}
