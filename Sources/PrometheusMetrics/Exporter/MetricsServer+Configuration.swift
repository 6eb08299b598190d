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
    /// are served concurrently. A request holds its thread until it is answered: a ``Page`` whose
    /// render blocks (say, for a probe of a few seconds) takes a thread from scrapes for that long,
    /// and so does a bcrypt check of ``basicAuthUsers`` credentials (tens of milliseconds). Count
    /// one thread per render that may block at the same time, plus one for scrapes. Default: 2.
    public var threadCount: Int = 2
    /// The most open connections. Past it the server accepts no more until one closes: new
    /// connections, scrapes among them, wait in the kernel's listen queue. Keep it well above
    /// what slow or idle clients can hold within ``requestHeadTimeout``; each connection takes a
    /// file descriptor, and ``MetricsServer/start()`` raises the process's soft open-file limit
    /// (`RLIMIT_NOFILE`) towards its hard limit to fit it, as Go programs do. Default: 2048.
    public var maxConnections: Int = 2048
    /// The most connections one client address may hold; a connection past it is closed as soon
    /// as it is accepted and counted as
    /// `metrics_server_connections_closed_total{reason="address_limit"}`. Keep it well above the concurrency of legitimate scrapers behind one address (a proxy or
    /// NAT). 0 means no limit. Default: 1024.
    public var maxConnectionsPerAddress: Int = 1024
    /// How long a connection may take to send a complete request head, from its start or, on a
    /// keep-alive connection, from the end of its previous request. A connection past it is
    /// closed and counted as `metrics_server_connections_closed_total{reason="head_timeout"}`:
    /// this bounds clients that send their head slowly or never. A keep-alive connection that sent
    /// no next request line in that time is idle, not slow: it is counted as `idle_timeout`. A client that ends its side of
    /// the connection with the head incomplete is closed within about a second instead, counted as
    /// `metrics_server_connections_closed_total{reason="incomplete_head"}`. Default: 10 seconds.
    public var requestHeadTimeout: Duration = .seconds(10)
    /// How long the server may take to send a response, from the moment it is ready. A connection
    /// past it (a client reading very slowly) is closed and counted as
    /// `metrics_server_connections_closed_total{reason="send_timeout"}`. Default: 30 seconds.
    public var responseSendTimeout: Duration = .seconds(30)
    /// The memory each connection gets for its request (libmicrohttpd's connection memory
    /// limit), which bounds the request head: a head that does not fit is answered
    /// `431 Request Header Fields Too Large` (`414 URI Too Long` when the request line alone does
    /// not) and the connection closed; a 431 is counted as
    /// `metrics_server_connections_closed_total{reason="head_too_large"}`. At least 4096.
    /// Default: 32 KiB.
    public var maxRequestHeadBytes: Int = 32 * 1024
    /// How long a connection may stay without any traffic. Default: 30 seconds.
    public var connectionTimeout: Duration = .seconds(30)
    /// Further pages, such as a readiness check (`GET`) or a reload action (`POST`). A page on the
    /// metrics or health path is never reached. Default: none.
    public var pages: [Page] = []
    /// Whether to gzip the metrics when the scrape's `Accept-Encoding` allows it. Default: true.
    public var enableGzip: Bool = true
    /// Whether to register and record the `promhttp_metric_handler_*` metrics in the served
    /// registry, `metrics_server_connections_closed_total{reason}` (connections the server closed
    /// early: `head_timeout`, `idle_timeout`, `head_too_large`, `send_timeout`, `address_limit`,
    /// `incomplete_head`; see the connection knobs above), and with ``basicAuthUsers``
    /// `metrics_server_authentication_failures_total{reason}` (`missing`, `malformed` or
    /// `invalid` credentials). Default: true.
    public var instrumentsItself: Bool = true
    /// HTTPS: the server's certificate and key, and optionally client-certificate checks. `nil`
    /// serves plain HTTP. Default: `nil`.
    public var tls: TLS? = nil
    /// Users allowed in, by name, each with the bcrypt hash of their password (`$2a$`, `$2b$` or
    /// `$2y$`, as `htpasswd -nBC 10 user` prints after the colon): exporter-toolkit's
    /// `basic_auth_users`. When not empty, every path (metrics, health and pages alike) answers
    /// `401 Unauthorized` with a `WWW-Authenticate` challenge unless the request carries the
    /// credentials of one of these users. Empty means no authentication. Default: empty.
    ///
    /// Credentials that passed the bcrypt check are remembered (as a SHA-256 digest, never in
    /// clear) for the server's lifetime, at most 100 of them, so a scraper that sends the same ones
    /// every scrape costs one bcrypt check. Use TLS as well: basic auth sends the password in
    /// clear.
    public var basicAuthUsers: [String: String] = [:]
    /// The realm named in the `WWW-Authenticate` challenge. Default: `metrics`.
    public var basicAuthRealm: String = "metrics"
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

extension MetricsServer.Configuration {
  /// Checks what can be checked without reading files: the connection limits and deadlines, the TLS
  /// client-certificate settings and the basic-auth users' hashes.
  ///
  /// - Throws: ``MetricsServerError`` with `.invalidConfiguration`.
  func validate() throws(MetricsServerError) {
    try tls?.validate()
    func invalid(_ message: String) -> MetricsServerError {
      MetricsServerError(code: .invalidConfiguration, message: message)
    }
    guard maxConnections >= 1 else { throw invalid("maxConnections must be at least 1") }
    guard maxConnectionsPerAddress >= 0 else {
      throw invalid("maxConnectionsPerAddress must not be negative")
    }
    guard requestHeadTimeout > .zero, responseSendTimeout > .zero else {
      throw invalid("requestHeadTimeout and responseSendTimeout must be positive")
    }
    guard maxRequestHeadBytes >= 4096 else {
      throw invalid("maxRequestHeadBytes must be at least 4096")
    }
    for (user, hash) in basicAuthUsers.sorted(by: { $0.key < $1.key }) {
      if user.contains(":") {
        throw MetricsServerError(
          code: .invalidConfiguration,
          message: "basic-auth user \"\(user)\" contains a colon, which basic auth cannot carry")
      }
      if BcryptHash(hash) == nil {
        throw MetricsServerError(
          code: .invalidConfiguration,
          message: "the password hash of basic-auth user \"\(user)\" is not a bcrypt hash "
            + "($2a$, $2b$ or $2y$, cost 04 to 31, 60 characters)")
      }
    }
  }
}
