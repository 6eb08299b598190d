import Foundation
import LoopbackTestSupport
import Testing

@testable import PrometheusMetrics

/// Pages with methods and the request they see: routing without sockets, then on loopback.
@Suite("MetricsServer pages with methods", .serialized)
struct MetricsServerPageTests {
  private static func makeHandler(_ pages: [MetricsServer.Page]) -> MetricsRequestHandler {
    var configuration = MetricsServer.Configuration(host: "127.0.0.1", port: 0)
    configuration.pages = pages
    return MetricsRequestHandler(registry: MetricsRegistry(), configuration: configuration)
  }

  private static let pages: [MetricsServer.Page] = [
    .init(path: "/-/reload", methods: [.post]) { request in
      .init(body: "reloaded by \(request.method)\n")
    },
    .init(path: "/readyz") { _ in .init(body: "ok\n") },
    .init(path: "/probe", methods: [.get]) { request in
      .init(body: "timeout \(request.scrapeTimeout.map { "\($0)" } ?? "none")\n")
    },
    .init(path: "/purge", methods: [.delete, .init(rawValue: "PURGE"), .post]) { _ in
      .init(status: 202, body: "")
    },
  ]

  @Test(
    "answers the methods a page declares, and 405 with Allow to the others",
    arguments: [
      ("POST", "/-/reload", 200, nil),
      ("GET", "/-/reload", 405, "POST"),
      ("HEAD", "/-/reload", 405, "POST"),
      ("post", "/-/reload", 405, "POST"),
      ("GET", "/readyz", 200, nil),
      ("HEAD", "/readyz", 200, nil),
      ("POST", "/readyz", 405, "GET, HEAD"),
      ("GET", "/probe", 200, nil),
      ("HEAD", "/probe", 200, nil),
      ("PUT", "/probe", 405, "GET, HEAD"),
      ("PURGE", "/purge", 202, nil),
      ("GET", "/purge", 405, "POST, DELETE, PURGE"),
      ("POST", "/metrics", 405, "GET, HEAD"),
      ("POST", "/nowhere", 404, nil),
    ] as [(String, String, Int, String?)])
  func methods(method: String, path: String, status: Int, allow: String?) {
    let response = Self.makeHandler(Self.pages).handle(ExporterRequest(method: method, path: path))
    #expect(response.status == status)
    #expect(response.header("Allow") == allow)
  }

  @Test("a page sees the method, query and header fields, names in any case")
  func request() {
    let handler = Self.makeHandler([
      .init(path: "/echo", methods: [.get, .post]) { request in
        .init(
          body: [
            request.method.rawValue, request.path, request.query["target"] ?? "-",
            request.header("user-agent") ?? "-", request.header("X-Missing") ?? "-",
            request.scrapeTimeout.map { "\($0)" } ?? "-",
          ].joined(separator: "|"))
      }
    ])
    let response = handler.handle(
      ExporterRequest(
        method: "POST", path: "/echo", query: ["target": "a:2379"],
        headers: ["user-agent": "Prometheus/3.0", "x-prometheus-scrape-timeout-seconds": "9.5"]))
    #expect(response.body.text == "POST|/echo|a:2379|Prometheus/3.0|-|9.5 seconds")
  }

  @Test(
    "reads the scrape timeout Prometheus sends",
    arguments: [
      ("10", .seconds(10)), ("0.5", .milliseconds(500)), (" 3 ", .seconds(3)), ("0", nil),
      ("-1", nil), ("ten", nil), ("", nil), ("inf", nil), ("nan", nil), ("1e10", nil),
    ] as [(String, Duration?)])
  func scrapeTimeout(header: String, expected: Duration?) {
    let request = MetricsServer.Request(
      path: "/", headers: ["X-PROMETHEUS-SCRAPE-TIMEOUT-SECONDS": header])
    #expect(request.scrapeTimeout == expected)
    #expect(MetricsServer.Request(path: "/").scrapeTimeout == nil)
  }

  @Test("a request's repeated header names fold into one field")
  func repeatedHeaders() {
    let request = MetricsServer.Request(path: "/", headers: ["Accept": "a", "accept": "b"])
    let value = request.header("ACCEPT")
    #expect(value == "a, b" || value == "b, a")
  }

  @Test("over loopback: POST with a body reaches a POST page, GET gets 405 with Allow")
  func loopback() throws {
    var configuration = MetricsServer.Configuration(host: "127.0.0.1", port: 0)
    configuration.pages = Self.pages
    let server = MetricsServer(registry: MetricsRegistry(), configuration: configuration)
    try server.start()
    defer { server.stop() }
    let port = try #require(server.port)

    let posted = try LoopbackHTTP.request(
      port: port, method: "POST", path: "/-/reload", body: String(repeating: "x", count: 100_000))
    #expect(posted.status == 200)
    #expect(posted.text == "reloaded by POST\n")
    let empty = try LoopbackHTTP.request(port: port, method: "POST", path: "/-/reload")
    #expect(empty.status == 200)

    let get = try LoopbackHTTP.request(port: port, path: "/-/reload")
    #expect(get.status == 405)
    #expect(get.headers["allow"] == "POST")

    let probe = try LoopbackHTTP.request(
      port: port, path: "/probe", headers: ["X-Prometheus-Scrape-Timeout-Seconds": "4"])
    #expect(probe.text == "timeout 4.0 seconds\n")
  }

  @Test("a render that blocks holds only its own thread")
  func blockingRender() async throws {
    var configuration = MetricsServer.Configuration(host: "127.0.0.1", port: 0)
    configuration.threadCount = 2
    configuration.pages = [
      .init(path: "/slow", methods: [.post]) { _ in
        // A bounded blocking render, like a probe round.
        Thread.sleep(forTimeInterval: 1)
        return .init(body: "done\n")
      }
    ]
    let server = MetricsServer(registry: MetricsRegistry(), configuration: configuration)
    try server.start()
    defer { server.stop() }
    let port = try #require(server.port)
    let slow = Task.detached {
      try LoopbackHTTP.request(port: port, method: "POST", path: "/slow").status
    }
    try await Task.sleep(for: .milliseconds(200))
    // Meanwhile the other thread serves scrapes.
    let clock = ContinuousClock()
    let start = clock.now
    #expect(try LoopbackHTTP.request(port: port, path: "/metrics").status == 200)
    #expect(clock.now - start < .milliseconds(600))
    #expect(try await slow.value == 200)
  }
}
