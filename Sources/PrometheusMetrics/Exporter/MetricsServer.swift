public import ServiceLifecycle
import Synchronization

/// Serves a registry over HTTP for Prometheus: `GET /metrics` and `GET /healthz`.
///
/// Built on libmicrohttpd with its own threads (``Configuration/threadCount``, each with an epoll
/// loop), so scrapes never run on Swift's cooperative pool. A scrape negotiates the format from its
/// `Accept` header (protobuf, which carries native histograms, OpenMetrics 1.0 or text 0.0.4; see
/// ``ExpositionFormat/negotiate(accept:)``), is gzipped when `Accept-Encoding` allows it,
/// and past ``Configuration/maxRequestsInFlight`` concurrent scrapes gets 503. Further
/// ``Configuration/pages`` answer the methods they declare (`GET` and `HEAD`, or e.g. `POST`).
/// Other paths get 404; other methods get 405 with an `Allow` header. The server records
/// `promhttp_metric_handler_requests_total{code}`, `..._requests_in_flight` and
/// `..._request_duration_seconds` in the registry it serves.
///
/// Each connection's cost is bounded: its request head must arrive within
/// ``Configuration/requestHeadTimeout`` and fit ``Configuration/maxRequestHeadBytes``, its response
/// must be sent within ``Configuration/responseSendTimeout``, and one client address may hold at
/// most ``Configuration/maxConnectionsPerAddress`` of the ``Configuration/maxConnections``
/// connections. Slow or idle clients therefore cannot keep scrapes out; the connections the server
/// ends early are counted in `metrics_server_connections_closed_total{reason}`.
///
/// It can serve HTTPS (``Configuration/tls``, optionally requiring client certificates) and
/// require basic auth on every path (``Configuration/basicAuthUsers``, bcrypt hashes), as
/// exporter-toolkit's web configuration does for Go exporters; refused credentials are counted in
/// `metrics_server_authentication_failures_total{reason}`.
///
/// It is a swift-service-lifecycle `Service`: ``run()`` serves until the group shuts down
/// gracefully or the task is cancelled.
///
/// ```swift
/// let registry = MetricsRegistry()
/// let server = MetricsServer(
///   registry: registry, configuration: .init(host: "0.0.0.0", port: 9090))
/// let group = ServiceGroup(
///   services: [server], gracefulShutdownSignals: [.sigterm], logger: logger)
/// try await group.run()  // until SIGTERM
/// ```
///
/// Or, without structured concurrency: ``start()``, read ``port``, later ``stop()``.
public final class MetricsServer: Service, Sendable {
  /// The configuration the server was created with.
  public let configuration: Configuration
  private let handler: MetricsRequestHandler
  private let state = Mutex(State())

  private struct State: ~Copyable {
    enum Phase {
      case idle
      case running(MicroHTTPDServer)
      case stopped
    }

    var phase: Phase = .idle
    /// `run()` calls waiting for the server to stop.
    var waiters: [CheckedContinuation<Void, Never>] = []
  }

  /// Creates a server; nothing listens until ``start()`` or ``run()``.
  ///
  /// Registers the server's own metrics in `registry` unless
  /// ``Configuration/instrumentsItself`` is false (servers sharing a registry share them).
  ///
  /// - Parameters:
  ///   - registry: The registry to serve.
  ///   - configuration: The address and knobs.
  public init(registry: MetricsRegistry, configuration: Configuration) {
    self.configuration = configuration
    self.handler = MetricsRequestHandler(registry: registry, configuration: configuration)
  }

  deinit {
    stop()
  }

  /// Checks the configuration, reads the TLS files if any, binds the address and starts serving.
  ///
  /// - Throws: ``MetricsServerError``: `.invalidConfiguration` (e.g. a basic-auth hash that is not
  ///   bcrypt), `.tlsFileUnreadable` or `.invalidTLSCredentials` (naming the file),
  ///   `.invalidAddress`, `.startFailed` (e.g. the port is in use), or `.alreadyStarted` if the
  ///   server was started before.
  public func start() throws(MetricsServerError) {
    try state.withLock { (state) throws(MetricsServerError) in
      guard case .idle = state.phase else {
        throw MetricsServerError(code: .alreadyStarted, message: "a server starts only once")
      }
      state.phase = .running(try makeServer())
    }
  }

  /// Validates the configuration and binds: the work of ``start()``.
  private func makeServer() throws(MetricsServerError) -> MicroHTTPDServer {
    try configuration.validate()
    var tls: TLSCredentials? = nil
    if let setting = configuration.tls {
      tls = try TLSCredentials(loading: setting)
    }
    // Room for the connections beside the descriptors the rest of the process uses.
    OpenFileLimit.raise(toFit: configuration.maxConnections + 256)
    let seconds = configuration.connectionTimeout.components.seconds
    let deadlines = ConnectionDeadlines.Limits(
      headTimeout: configuration.requestHeadTimeout,
      sendTimeout: configuration.responseSendTimeout,
      maxConnectionsPerAddress: configuration.maxConnectionsPerAddress)
    return try MicroHTTPDServer(
      host: configuration.host, port: configuration.port,
      options: .init(
        threadCount: configuration.threadCount, maxConnections: configuration.maxConnections,
        connectionTimeoutSeconds: Int(clamping: seconds),
        connectionMemoryBytes: configuration.maxRequestHeadBytes, deadlines: deadlines, tls: tls),
      handler: { [handler] request in handler.handle(request) },
      closed: { [handler] reason in handler.connectionClosed(reason) })
  }

  /// The port the server listens on while it runs (the chosen one when configured with port 0).
  public var port: Int? {
    state.withLock { state in
      if case .running(let server) = state.phase { return server.port }
      return nil
    }
  }

  /// Stops listening, closes connections and waits for requests being served. Idempotent; a
  /// stopped server cannot be started again.
  public func stop() {
    let (server, waiters) = state.withLock {
      state -> (MicroHTTPDServer?, [CheckedContinuation<Void, Never>]) in
      var server: MicroHTTPDServer? = nil
      if case .running(let running) = state.phase { server = running }
      state.phase = .stopped
      let waiters = state.waiters
      state.waiters = []
      return (server, waiters)
    }
    server?.stop()
    for waiter in waiters { waiter.resume() }
  }

  /// Serves until graceful shutdown (in a swift-service-lifecycle `ServiceGroup`), the calling
  /// task's cancellation or ``stop()``, then stops the server.
  ///
  /// Starts the server unless ``start()`` already did: starting it first lets a caller handle a
  /// bind failure before anything else runs. Returns at once if the server was stopped before.
  ///
  /// - Throws: ``MetricsServerError`` if the server cannot start.
  public func run() async throws {
    try state.withLock { (state) throws(MetricsServerError) in
      if case .idle = state.phase { state.phase = .running(try makeServer()) }
    }
    await withGracefulShutdownHandler {
      await withTaskCancellationHandler {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
          let stopped = state.withLock { state in
            if case .running = state.phase {
              state.waiters.append(continuation)
              return false
            }
            return true
          }
          if stopped { continuation.resume() }
        }
      } onCancel: {
        stop()
      }
    } onGracefulShutdown: {
      self.stop()
    }
    stop()
  }
}
