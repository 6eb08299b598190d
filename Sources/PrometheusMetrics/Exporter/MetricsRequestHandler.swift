import Synchronization

/// The parts of an HTTP request that routing needs.
package struct ExporterRequest: Sendable, Equatable {
  /// The method, e.g. `GET`.
  package var method: String
  /// The path without the query string.
  package var path: String
  /// The `Accept` header, if present.
  package var accept: String?
  /// The `Accept-Encoding` header, if present.
  package var acceptEncoding: String?
  /// The query arguments (`?verbose&target=a` gives `["verbose": "", "target": "a"]`).
  package var query: [String: String]
  /// All header fields by lowercased name, the values of a repeated field joined with `", "`.
  package var headers: [String: String]

  /// A request with the given parts; no query arguments or other headers unless given.
  package init(
    method: String, path: String, accept: String? = nil, acceptEncoding: String? = nil,
    query: [String: String] = [:], headers: [String: String] = [:]
  ) {
    self.method = method
    self.path = path
    self.accept = accept
    self.acceptEncoding = acceptEncoding
    self.query = query
    self.headers = headers
  }
}

/// A complete HTTP response.
package struct ExporterResponse: Sendable, Equatable {
  /// The status code.
  package var status: Int
  /// Header fields other than `Content-Length` (which the HTTP layer adds).
  package var headers: [ExporterHeader]
  /// The body.
  package var body: [UInt8]

  init(status: Int, headers: [ExporterHeader] = [], body: [UInt8]) {
    self.status = status
    self.headers = headers
    self.body = body
  }

  init(status: Int, text: String, headers: [ExporterHeader] = []) {
    self.init(
      status: status,
      headers: [ExporterHeader(name: "Content-Type", value: "text/plain; charset=utf-8")] + headers,
      body: Array(text.utf8))
  }

  /// The value of the first header field of this name (case-insensitive).
  package func header(_ name: String) -> String? {
    headers.first { $0.name.lowercased() == name.lowercased() }?.value
  }
}

/// One HTTP header field.
package struct ExporterHeader: Sendable, Equatable {
  /// The field's name.
  package var name: String
  /// The field's value.
  package var value: String
}

/// Authenticates and routes requests to the metrics and health endpoints and the pages:
/// everything the server does except I/O.
///
/// Called concurrently from the HTTP server's threads. With
/// ``MetricsServer/Configuration/basicAuthUsers``, every request is authenticated before it is
/// routed. The in-flight limit is an atomic counter: past
/// ``MetricsServer/Configuration/maxRequestsInFlight`` concurrent scrapes, a scrape gets 503 at
/// once, as with promhttp's `MaxRequestsInFlight`.
package final class MetricsRequestHandler: Sendable {
  private let registry: MetricsRegistry
  private let configuration: MetricsServer.Configuration
  private let instruments: MetricsServerInstruments?
  private let authenticator: BasicAuthenticator?
  /// The 401 response, with its `WWW-Authenticate` challenge.
  private let unauthorized: ExporterResponse
  private let inFlight = Atomic<Int>(0)

  /// A handler serving `registry` as `configuration` says (paths, pages, gzip, limits, basic auth).
  package init(registry: MetricsRegistry, configuration: MetricsServer.Configuration) {
    self.registry = registry
    self.configuration = configuration
    let authenticates = !configuration.basicAuthUsers.isEmpty
    self.instruments =
      configuration.instrumentsItself
      ? MetricsServerInstruments(registry: registry, authentication: authenticates) : nil
    self.authenticator =
      authenticates ? BasicAuthenticator(users: configuration.basicAuthUsers) : nil
    self.unauthorized = ExporterResponse(
      status: 401, text: "401 Unauthorized\n",
      headers: [
        ExporterHeader(
          name: "WWW-Authenticate", value: Self.challenge(realm: configuration.basicAuthRealm))
      ])
  }

  /// Counts a connection the server ended early.
  func connectionClosed(_ reason: ConnectionDeadlines.CloseReason) {
    instruments?.connectionsClosed[reason]?.increment()
  }

  /// The response to one request: authentication first, then the route its method and path pick.
  package func handle(_ request: ExporterRequest) -> ExporterResponse {
    if let authenticator {
      let outcome = authenticator.authenticate(authorization: request.headers["authorization"])
      if case .refused(let refusal) = outcome {
        instruments?.authenticationFailures?[refusal]?.increment()
        return unauthorized
      }
    }
    let isRead = request.method == "GET" || request.method == "HEAD"
    switch request.path {
    case configuration.metricsPath:
      guard isRead else { return Self.getOrHeadOnly }
      return scrape(request)
    case configuration.healthPath:
      guard isRead else { return Self.getOrHeadOnly }
      return ExporterResponse(status: 200, text: "ok\n")
    default:
      guard let page = configuration.pages.first(where: { $0.path == request.path }) else {
        return ExporterResponse(status: 404, text: "404 page not found\n")
      }
      let method = MetricsServer.HTTPMethod(rawValue: request.method)
      guard page.accepts(method) else {
        return Self.methodNotAllowed(allow: page.allowHeader)
      }
      let response = page.render(MetricsServer.Request(request))
      return ExporterResponse(
        status: response.status,
        headers: [
          ExporterHeader(name: "Content-Type", value: response.contentType),
          ExporterHeader(name: "Cache-Control", value: "no-store"),
        ],
        body: request.method == "HEAD" ? [] : response.bytes)
    }
  }

  private static let getOrHeadOnly = methodNotAllowed(allow: "GET, HEAD")

  private static func methodNotAllowed(allow: String) -> ExporterResponse {
    ExporterResponse(
      status: 405, text: "405 method not allowed\n",
      headers: [ExporterHeader(name: "Allow", value: allow)])
  }

  /// The `WWW-Authenticate` value for `realm`: the realm as a quoted string (RFC 9110), with
  /// control characters dropped so the header stays one line.
  static func challenge(realm: String) -> String {
    var quoted = ""
    for scalar in realm.unicodeScalars where scalar.value >= 0x20 && scalar.value != 0x7F {
      if scalar == "\"" || scalar == "\\" { quoted.unicodeScalars.append("\\") }
      quoted.unicodeScalars.append(scalar)
    }
    return "Basic realm=\"\(quoted)\", charset=\"UTF-8\""
  }

  private func scrape(_ request: ExporterRequest) -> ExporterResponse {
    let limit = configuration.maxRequestsInFlight
    let current = inFlight.wrappingAdd(1, ordering: .relaxed).newValue
    defer { inFlight.wrappingSubtract(1, ordering: .relaxed) }
    if limit > 0 && current > limit {
      instruments?.unavailable.increment()
      return ExporterResponse(
        status: 503,
        text: "Limit of concurrent requests reached (\(limit)), try again later.\n")
    }
    instruments?.inFlight.increment()
    defer { instruments?.inFlight.decrement() }
    let clock = ContinuousClock()
    let start = clock.now
    configuration.testingHookBeforeScrape?()

    let format = ExpositionFormat.negotiate(accept: request.accept)
    var body = registry.exposition(format: format)
    var headers = [ExporterHeader(name: "Content-Type", value: format.contentType)]
    if configuration.enableGzip, AcceptHeader.acceptsEncoding(request.acceptEncoding, "gzip"),
      let compressed = Gzip.compress(body)
    {
      body = compressed
      headers.append(ExporterHeader(name: "Content-Encoding", value: "gzip"))
    }
    instruments?.duration.observe(clock.now - start)
    instruments?.ok.increment()
    return ExporterResponse(status: 200, headers: headers, body: body)
  }
}
