extension MetricsServer {
  /// A page the server serves beside the metrics and health paths, for `GET` and `HEAD`: a readiness check,
  /// a status page.
  ///
  /// ```swift
  /// configuration.pages = [
  ///   .init(path: "/readyz") { query in
  ///     ready() ? .init(body: "ok\n") : .init(status: 503, body: "not ready\n")
  ///   }
  /// ]
  /// ```
  public struct Page: Sendable {
    /// The path, e.g. `/readyz`; a query string is not part of it.
    public var path: String
    /// Renders the page on a server thread from the request's query arguments (`?verbose` gives
    /// `["verbose": ""]`). It must not block for long: a server thread waits for it.
    public var render: @Sendable (_ query: [String: String]) -> PageResponse

    /// Creates a page.
    ///
    /// - Parameters:
    ///   - path: The path it answers.
    ///   - render: Renders it from the query arguments.
    public init(path: String, render: @escaping @Sendable (_ query: [String: String]) -> PageResponse) {
      self.path = path
      self.render = render
    }
  }

  /// What a ``Page`` answers.
  public struct PageResponse: Sendable, Equatable {
    /// The HTTP status code.
    public var status: Int
    /// The `Content-Type`.
    public var contentType: String
    /// The body.
    public var body: String

    /// Creates a response.
    ///
    /// - Parameters:
    ///   - status: The HTTP status code. Default: 200.
    ///   - contentType: Default: plain UTF-8 text.
    ///   - body: The body.
    public init(status: Int = 200, contentType: String = "text/plain; charset=utf-8", body: String) {
      self.status = status
      self.contentType = contentType
      self.body = body
    }
  }
}
