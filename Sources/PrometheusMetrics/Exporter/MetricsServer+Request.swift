extension MetricsServer {
  /// An HTTP request method, such as `GET` or `POST`.
  ///
  /// Methods are compared case-sensitively, as HTTP defines them: `get` is not ``get``.
  public struct HTTPMethod: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    /// The method's token, e.g. `GET`.
    public var rawValue: String

    /// Creates a method from its token.
    ///
    /// - Parameter rawValue: The token, e.g. `PURGE`.
    public init(rawValue: String) {
      self.rawValue = rawValue
    }

    /// `GET`.
    public static let get = HTTPMethod(rawValue: "GET")
    /// `HEAD`: a `GET` without the body.
    public static let head = HTTPMethod(rawValue: "HEAD")
    /// `POST`.
    public static let post = HTTPMethod(rawValue: "POST")
    /// `PUT`.
    public static let put = HTTPMethod(rawValue: "PUT")
    /// `PATCH`.
    public static let patch = HTTPMethod(rawValue: "PATCH")
    /// `DELETE`.
    public static let delete = HTTPMethod(rawValue: "DELETE")
    /// `OPTIONS`.
    public static let options = HTTPMethod(rawValue: "OPTIONS")

    /// The token.
    public var description: String { rawValue }
  }

  /// A request as a ``Page`` sees it: its method, path, query arguments and header fields.
  ///
  /// A request body is not part of it: the server discards bodies unread.
  public struct Request: Sendable {
    /// The method.
    public var method: HTTPMethod
    /// The path, without the query string.
    public var path: String
    /// The query arguments, decoded (`?verbose&target=a` gives `["verbose": "", "target": "a"]`).
    public var query: [String: String]
    /// Header fields by lowercased name; a field sent more than once has its values joined with
    /// `", "`.
    private var headers: [String: String]

    /// The header that Prometheus sends with every scrape: how long it waits for the response.
    public static let scrapeTimeoutHeader = "X-Prometheus-Scrape-Timeout-Seconds"

    /// Creates a request, e.g. to test a page's render closure.
    ///
    /// - Parameters:
    ///   - method: The method. Default: `GET`.
    ///   - path: The path, without the query string.
    ///   - query: The decoded query arguments.
    ///   - headers: Header fields; names are matched case-insensitively.
    public init(
      method: HTTPMethod = .get, path: String, query: [String: String] = [:],
      headers: [String: String] = [:]
    ) {
      self.method = method
      self.path = path
      self.query = query
      var folded: [String: String] = [:]
      for (name, value) in headers {
        let key = name.lowercased()
        folded[key] = folded[key].map { $0 + ", " + value } ?? value
      }
      self.headers = folded
    }

    /// The value of a header field, looked up case-insensitively.
    ///
    /// - Parameter name: The field's name, e.g. `User-Agent`.
    /// - Returns: Its value (the values of a repeated field joined with `", "`), or `nil` if the
    ///   request has no such field.
    public func header(_ name: String) -> String? {
      headers[name.lowercased()]
    }

    /// How long the scraper waits for the response, from ``scrapeTimeoutHeader``: `nil` when the
    /// header is absent or not a positive number of seconds (at most 10⁹).
    ///
    /// A page that runs a bounded operation, such as a probe, can keep it under this budget.
    public var scrapeTimeout: Duration? {
      guard let text = header(Self.scrapeTimeoutHeader),
        let seconds = Double(text.trimmingWhitespace()), seconds.isFinite, seconds > 0,
        seconds <= 1e9
      else { return nil }
      return .seconds(seconds)
    }
  }
}

extension MetricsServer.Request {
  /// The request a page sees for a request the server routed to it.
  init(_ request: ExporterRequest) {
    self.init(
      method: MetricsServer.HTTPMethod(rawValue: request.method), path: request.path,
      query: request.query)
    // The HTTP layer hands over names already lowercased and repeated fields already joined.
    self.headers = request.headers
  }
}

extension String {
  /// The string without leading and trailing spaces and tabs.
  func trimmingWhitespace() -> String {
    let isWhitespace: (Character) -> Bool = { $0 == " " || $0 == "\t" }
    guard let first = firstIndex(where: { !isWhitespace($0) }),
      let last = lastIndex(where: { !isWhitespace($0) })
    else { return "" }
    return String(self[first...last])
  }
}
