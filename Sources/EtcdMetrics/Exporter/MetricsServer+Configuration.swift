extension MetricsServer {
  /// How the metrics server listens and serves.
  ///
  /// The address is required; every other knob has a production-safe default.
  ///
  /// ```swift
  /// var configuration = MetricsServer.Configuration(host: "0.0.0.0", port: 9090)
  /// configuration.maxRequestsInFlight = 4
  /// ```
  public struct Configuration: Sendable {
    /// The address to bind: an IPv4 or IPv6 literal or a host name (the first address it
    /// resolves to is used), e.g. `127.0.0.1`, `::1`, `0.0.0.0`.
    public var host: String
    /// The TCP port to bind; 0 picks a free one (read it from ``MetricsServer/port``).
    public var port: Int
    /// The path that serves the metrics. Default: `/metrics`.
    public var metricsPath: String = "/metrics"
    /// The path that answers 200 `ok` while the server runs. Default: `/healthz`.
    public var healthPath: String = "/healthz"
    /// The most scrapes served at once; more get 503 at once. 0 means no limit. Default: 10.
    public var maxRequestsInFlight: Int = 10
    /// The number of server threads (each with its own epoll loop), which is how many requests
    /// are served concurrently. Default: 2.
    public var threadCount: Int = 2
    /// The most open connections; more are refused. Default: 64.
    public var maxConnections: Int = 64
    /// How long an idle connection is kept open. Default: 30 seconds.
    public var connectionTimeout: Duration = .seconds(30)
    /// Further pages served for `GET` and `HEAD`, such as a readiness check. A page on the metrics or
    /// health path is never reached. Default: none.
    public var pages: [Page] = []
    /// Whether to gzip the metrics when the scrape's `Accept-Encoding` allows it. Default: true.
    public var enableGzip: Bool = true
    /// Whether to register and record the `promhttp_metric_handler_*` metrics in the served
    /// registry. Default: true.
    public var instrumentsItself: Bool = true
    /// Called at the start of each scrape that passed the in-flight limit, on a server thread.
    /// For tests that need a scrape to stay in flight.
    var testingHookBeforeScrape: (@Sendable () -> Void)? = nil

    /// Creates a configuration with default values for everything but the address.
    ///
    /// - Parameters:
    ///   - host: The address to bind, e.g. `127.0.0.1` or `0.0.0.0`.
    ///   - port: The TCP port; 0 picks a free one.
    public init(host: String, port: Int) {
      self.host = host
      self.port = port
    }
  }
}
