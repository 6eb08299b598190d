/// The metrics the server records about its own `/metrics` requests (names, help and buckets).
///
/// The names follow promhttp's `InstrumentMetricHandler`, so dashboards built for Go exporters
/// work.
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

  let ok: Counter
  let internalError: Counter
  let unavailable: Counter
  let inFlight: Gauge
  let duration: Histogram

  /// Registers the families (or reuses them when another server registered them in this registry).
  init(registry: MetricsRegistry) {
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
  }
}
