extension MetricsServer {
  /// A page the server serves beside the metrics and health paths: a readiness check, a status
  /// page, or an action such as `POST /-/reload`.
  ///
  /// ```swift
  /// configuration.pages = [
  ///   .init(path: "/readyz") { query in
  ///     ready() ? .init(body: "ok\n") : .init(status: 503, body: "not ready\n")
  ///   },
  ///   .init(path: "/-/reload", methods: [.post]) { request in
  ///     reload() ? .init(body: "reloaded\n") : .init(status: 500, body: "reload failed\n")
  ///   },
  /// ]
  /// ```
  ///
  /// A request with a method the page does not accept gets `405 Method Not Allowed` with an `Allow`
  /// header that lists the page's methods.
  ///
  /// Rendering is synchronous, on one of the server's threads (``Configuration/threadCount``), and
  /// may block for a bounded time, e.g. for a probe that runs a few seconds. While it blocks, its
  /// thread serves nothing else, scrapes included: give the server one thread more than the number
  /// of blocking renders that may run at once. Nothing interrupts a render, not even a client that
  /// hung up, so it must bound its own time (``Request/scrapeTimeout`` tells how long a Prometheus
  /// scraper waits).
  public struct Page: Sendable {
    /// The path, e.g. `/readyz`; a query string is not part of it.
    public var path: String
    /// The methods the page answers. A page that answers `GET` also answers `HEAD`, with the same
    /// status and headers and no body.
    public var methods: Set<HTTPMethod>
    /// Renders the page for a request, on a server thread (see ``Page``).
    public var render: @Sendable (_ request: Request) -> PageResponse

    /// Creates a page for `GET` and `HEAD` that sees the request's query arguments.
    ///
    /// - Parameters:
    ///   - path: The path it answers.
    ///   - render: Renders it from the query arguments (`?verbose` gives `["verbose": ""]`).
    public init(
      path: String, render: @escaping @Sendable (_ query: [String: String]) -> PageResponse
    ) {
      self.init(path: path, methods: [.get, .head]) { request in render(request.query) }
    }

    /// Creates a page for the given methods that sees the whole request: method, query arguments
    /// and header fields.
    ///
    /// - Parameters:
    ///   - path: The path it answers.
    ///   - methods: The methods it answers, e.g. `[.post]`; `.get` implies `.head`. Must not be
    ///     empty.
    ///   - render: Renders it for a request.
    public init(
      path: String, methods: Set<HTTPMethod>,
      render: @escaping @Sendable (_ request: Request) -> PageResponse
    ) {
      precondition(!methods.isEmpty, "page \(path) accepts no method")
      self.path = path
      self.methods = methods
      self.render = render
    }

    /// Whether the page answers `method`.
    func accepts(_ method: HTTPMethod) -> Bool {
      methods.contains(method) || (method == .head && methods.contains(.get))
    }

    /// The `Allow` header's value: the methods it answers, the common ones in a fixed order first.
    var allowHeader: String {
      var allowed = methods
      if allowed.contains(.get) { allowed.insert(.head) }
      let order: [HTTPMethod] = [.get, .head, .post, .put, .patch, .delete, .options]
      let known = order.filter { allowed.contains($0) }
      let others = allowed.subtracting(order).map(\.rawValue).sorted()
      return (known.map(\.rawValue) + others).joined(separator: ", ")
    }
  }

  /// What a ``Page`` answers.
  public struct PageResponse: Sendable, Equatable {
    /// The HTTP status code.
    public var status: Int
    /// The `Content-Type`.
    public var contentType: String
    /// The body's bytes.
    public var bytes: [UInt8]

    /// The body as UTF-8 text.
    public var body: String {
      get { String(decoding: bytes, as: UTF8.self) }
      set { bytes = Array(newValue.utf8) }
    }

    /// Creates a response with a text body.
    ///
    /// - Parameters:
    ///   - status: The HTTP status code. Default: 200.
    ///   - contentType: Default: plain UTF-8 text.
    ///   - body: The body.
    public init(
      status: Int = 200, contentType: String = "text/plain; charset=utf-8", body: String
    ) {
      self.init(status: status, contentType: contentType, bytes: Array(body.utf8))
    }

    /// Creates a response with a binary body, such as a protobuf exposition.
    ///
    /// - Parameters:
    ///   - status: The HTTP status code. Default: 200.
    ///   - contentType: The body's type.
    ///   - bytes: The body.
    public init(status: Int = 200, contentType: String, bytes: [UInt8]) {
      self.status = status
      self.contentType = contentType
      self.bytes = bytes
    }
  }

}
