/// The metrics the server records about its own requests (names, help and buckets).
///
/// The scrape metrics follow promhttp's `InstrumentMetricHandler`, so dashboards built for Go
/// exporters work. They count scrapes that reached the metrics handler, as promhttp's do behind
/// exporter-toolkit's authentication: a request refused for its credentials is counted in the
/// authentication-failure counter instead, on every path.
struct MetricsServerInstruments: Sendable {
  /// Scrapes of the metrics path by HTTP status code.
  static let requestsName = "promhttp_metric_handler_requests_total"
  static let requestsHelp = "Total number of scrapes by HTTP status code."
  /// Scrapes being served now.
  static let inFlightName = "promhttp_metric_handler_requests_in_flight"
  static let inFlightHelp = "Current number of scrapes being served."
  /// Time to collect, encode and compress a scrape.
  static let durationName = "promhttp_metric_handler_request_duration_seconds"
  static let durationHelp =
    "Time to serve a scrape (collecting, encoding and compressing the metrics), in seconds."
  static let durationBuckets: [Double] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5,
  ]

  /// Requests refused with 401 for their basic-auth credentials, by reason.
  static let authenticationFailuresName = "metrics_server_authentication_failures_total"
  static let authenticationFailuresHelp =
    "Total number of requests refused with 401 for missing, malformed or invalid basic-auth "
    + "credentials, by reason."

  /// Connections the server ended before their clients did, by reason.
  static let connectionsClosedName = "metrics_server_connections_closed_total"
  static let connectionsClosedHelp =
    "Total number of connections the server closed early: request head not complete in time "
    + "(head_timeout), keep-alive connection without a next request in that time (idle_timeout) "
    + "or head too large (head_too_large), response not sent in time (send_timeout), "
    + "client address over its connection limit (address_limit), client ended its side with the "
    + "head incomplete (incomplete_head)."

  let ok: Counter
  let internalError: Counter
  let unavailable: Counter
  let inFlight: Gauge
  let duration: Histogram
  /// The authentication-failure counters by reason; `nil` when the server has no basic-auth users.
  let authenticationFailures: [BasicAuthenticator.Refusal: Counter]?
  /// The early-close counters by reason.
  let connectionsClosed: [ConnectionDeadlines.CloseReason: Counter]

  /// Registers the families (or reuses them when another server registered them in this registry).
  ///
  /// - Parameters:
  ///   - registry: The registry the server serves.
  ///   - authentication: Whether the server checks basic-auth credentials; only then is the
  ///     authentication-failure family registered.
  init(registry: MetricsRegistry, authentication: Bool = false) {
    let requests = registry.registerOrReuse(
      registry.makeCounterFamilyUnregistered(
        name: Self.requestsName, help: Self.requestsHelp, labelNames: ["code"]))
    // Pre-resolved like promhttp's, so the series exist from the first scrape.
    ok = requests.labels("200")
    internalError = requests.labels("500")
    unavailable = requests.labels("503")
    inFlight = registry.registerOrReuse(
      registry.makeGaugeFamilyUnregistered(
        name: Self.inFlightName, help: Self.inFlightHelp, labelNames: [])
    ).labels()
    duration = registry.registerOrReuse(
      registry.makeHistogramFamilyUnregistered(
        name: Self.durationName, help: Self.durationHelp, labelNames: [],
        buckets: Self.durationBuckets)
    ).labels()
    connectionsClosed = Self.countersByReason(
      registry, name: Self.connectionsClosedName, help: Self.connectionsClosedHelp)
    authenticationFailures =
      authentication
      ? Self.countersByReason(
        registry, name: Self.authenticationFailuresName, help: Self.authenticationFailuresHelp)
      : nil
  }

  /// Registers (or reuses) a counter family labelled `reason` with one series per reason,
  /// pre-resolved so every reason's series exists from the first scrape.
  private static func countersByReason<Reason>(
    _ registry: MetricsRegistry, name: String, help: String
  ) -> [Reason: Counter] where Reason: CaseIterable & Hashable & RawRepresentable<String> {
    let family = registry.registerOrReuse(
      registry.makeCounterFamilyUnregistered(name: name, help: help, labelNames: ["reason"]))
    return Dictionary(
      uniqueKeysWithValues: Reason.allCases.map { ($0, family.labels($0.rawValue)) })
  }
}
