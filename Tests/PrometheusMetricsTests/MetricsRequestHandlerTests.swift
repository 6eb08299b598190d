import Testing

@testable import PrometheusMetrics

/// The routing and negotiation logic of the server, without sockets.
@Suite("MetricsRequestHandler")
struct MetricsRequestHandlerTests {
  private func makeHandler(
    _ configure: (inout MetricsServer.Configuration) -> Void = { _ in }
  ) -> MetricsRequestHandler {
    var configuration = MetricsServer.Configuration(host: "127.0.0.1", port: 0)
    configure(&configuration)
    return MetricsRequestHandler(
      registry: ExpositionFixtures.populatedRegistry(), configuration: configuration)
  }

  @Test(
    "routes",
    arguments: [
      (ExporterRequest(method: "GET", path: "/metrics"), 200, PrometheusTextFormat.contentType),
      (ExporterRequest(method: "HEAD", path: "/metrics"), 200, PrometheusTextFormat.contentType),
      (
        ExporterRequest(
          method: "GET", path: "/metrics", accept: ContentNegotiationTests.prometheus242),
        200, OpenMetricsTextFormat.contentType
      ),
      (ExporterRequest(method: "GET", path: "/healthz"), 200, "text/plain; charset=utf-8"),
      (ExporterRequest(method: "POST", path: "/metrics"), 405, "text/plain; charset=utf-8"),
      (ExporterRequest(method: "OPTIONS", path: "/healthz"), 405, "text/plain; charset=utf-8"),
      (ExporterRequest(method: "GET", path: "/"), 404, "text/plain; charset=utf-8"),
      (ExporterRequest(method: "GET", path: "/metrics/"), 404, "text/plain; charset=utf-8"),
    ] as [(ExporterRequest, Int, String)])
  func routes(request: ExporterRequest, status: Int, contentType: String) {
    let response = makeHandler().handle(request)
    #expect(response.status == status)
    #expect(response.header("Content-Type") == contentType)
  }

  @Test("extra pages get their query, answer GET and HEAD only, and never shadow /metrics")
  func pages() {
    let handler = makeHandler { configuration in
      configuration.pages = [
        .init(path: "/readyz") { query in
          query["verbose"] != nil
            ? .init(status: 503, body: "[-]round failed\n") : .init(status: 503, body: "not ready\n")
        },
        .init(path: "/metrics") { _ in .init(body: "shadowed\n") },
      ]
    }
    let plain = handler.handle(ExporterRequest(method: "GET", path: "/readyz"))
    #expect(plain.status == 503)
    #expect(plain.body == Array("not ready\n".utf8))
    #expect(plain.header("Content-Type") == "text/plain; charset=utf-8")
    #expect(plain.header("Cache-Control") == "no-store")
    let verbose = handler.handle(ExporterRequest(method: "GET", path: "/readyz", query: ["verbose": ""]))
    #expect(verbose.body == Array("[-]round failed\n".utf8))
    let head = handler.handle(ExporterRequest(method: "HEAD", path: "/readyz"))
    #expect(head.status == 503 && head.body.isEmpty)
    #expect(handler.handle(ExporterRequest(method: "POST", path: "/readyz")).status == 405)
    #expect(handler.handle(ExporterRequest(method: "GET", path: "/readyz/")).status == 404)
    #expect(handler.handle(ExporterRequest(method: "GET", path: "/metrics")).body != Array("shadowed\n".utf8))
  }

  @Test("custom paths and gzip switched off")
  func configuration() throws {
    let handler = makeHandler {
      $0.metricsPath = "/m"
      $0.healthPath = "/-/healthy"
      $0.enableGzip = false
    }
    let metrics = handler.handle(ExporterRequest(method: "GET", path: "/m", acceptEncoding: "gzip"))
    #expect(metrics.status == 200)
    #expect(metrics.header("Content-Encoding") == nil)
    #expect(handler.handle(ExporterRequest(method: "GET", path: "/-/healthy")).status == 200)
    #expect(handler.handle(ExporterRequest(method: "GET", path: "/metrics")).status == 404)
  }

  @Test("gzip only when accepted")
  func gzip() throws {
    let handler = makeHandler()
    let plain = handler.handle(
      ExporterRequest(method: "GET", path: "/metrics", acceptEncoding: "gzip;q=0"))
    #expect(plain.header("Content-Encoding") == nil)
    let zipped = handler.handle(
      ExporterRequest(method: "GET", path: "/metrics", acceptEncoding: "br, gzip"))
    #expect(zipped.header("Content-Encoding") == "gzip")
    #expect(try #require(gunzip(zipped.body)).text.contains("etcd_client_connections 3\n"))
  }

  @Test("without self-instrumentation nothing is registered")
  func noInstruments() {
    let registry = MetricsRegistry()
    var configuration = MetricsServer.Configuration(host: "127.0.0.1", port: 0)
    configuration.instrumentsItself = false
    _ = MetricsRequestHandler(registry: registry, configuration: configuration)
    #expect(registry.collect().isEmpty)
  }
}
