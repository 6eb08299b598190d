import EtcdMetrics
import Logging
import Synchronization

/// `GET /probe?target=…&module=…`: one round against the target, answered with that round's metrics only, in
/// the exposition format the scrape's `Accept` asks for (text, OpenMetrics or protobuf, as `/metrics`). A bad request gets 400 with a one-line reason;
/// past `limit` rounds at once, 503. An unreachable target is a `probe_success 0` answer, not an HTTP error.
/// Every request is counted in `etcd_probe_probe_requests_total{outcome}` on `/metrics`.
final class ProbePage: Sendable {
  /// The modules, by name.
  let modules: ModuleTable
  /// The most rounds run at once.
  let limit: Int
  let logger: Logger
  private let running = Atomic<Int>(0)
  private let requests: MetricFamily<Counter>

  init(modules: ModuleTable, limit: Int, registry: MetricsRegistry, logger: Logger) {
    self.modules = modules
    self.limit = limit
    self.logger = logger
    requests = registry.makeCounterFamily(
      name: "etcd_probe_probe_requests_total",
      help: "Requests of /probe by outcome: probed, bad_request (400) or over_limit (503).",
      labelNames: ["outcome"])
    for outcome in ["probed", "bad_request", "over_limit"] { _ = requests.labels(outcome) }
  }

  var page: MetricsServer.Page {
    .init(path: "/probe", methods: [.get]) { request in self.answer(request) }
  }

  func answer(_ request: MetricsServer.Request) -> MetricsServer.PageResponse {
    let probe: ProbeRequest
    do {
      probe = try ProbeRequest(
        query: request.query, scrapeTimeout: request.scrapeTimeout, modules: { self.modules[$0] })
    } catch {
      requests.labels("bad_request").increment()
      return .init(status: 400, body: error.reason + "\n")
    }
    guard running.wrappingAdd(1, ordering: .acquiring).newValue <= limit else {
      running.wrappingSubtract(1, ordering: .releasing)
      requests.labels("over_limit").increment()
      return .init(status: 503, body: "more than \(limit) probes are running; try again later\n")
    }
    defer { running.wrappingSubtract(1, ordering: .releasing) }
    requests.labels("probed").increment()
    let round = TargetProbeRound(request: probe, logger: logger)
    let outcome = waitOnServerThread { await round.run() }
    if let failure = outcome.setupFailure {
      logger.warning("cannot probe the target", metadata: ["target": "\(probe.endpoints)", "error": "\(failure)"])
    }
    let format = ExpositionFormat.negotiate(accept: request.header("Accept"))
    let body = TargetProbeRound.registry(of: outcome).exposition(format: format)
    return .init(status: 200, contentType: format.contentType, bytes: body)
  }
}
