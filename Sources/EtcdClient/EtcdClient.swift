import GRPCProtocol
import Logging
import NIOCore
import SwiftProtobuf
import Synchronization

/// An etcd v3 client: KV, Watch, Lease, Cluster, Maintenance and Auth over gRPC on HTTP/2.
///
/// One HTTP/2 connection per endpoint carries all calls, concurrently; calls go to the healthy endpoints in
/// turn and are retried as clientv3 retries them. Every call is bounded by a deadline (its
/// `timeout`, or the configuration's default) and by the caller's Task: cancelling the Task resets the stream.
///
/// ```swift
/// try await withEtcdClient(configuration: .init(endpoints: ["127.0.0.1:2379"])) { client in
///   try await client.put("sample_key", "sample_value")
///   let response = try await client.get("sample_key", timeout: .seconds(1))
///   for kv in response.kvs { print(kv.keyString, kv.valueString) }
/// }   // the client is closed here
/// ```
/// A client made with `init` is closed with `close()`.
public final class EtcdClient: Sendable {
  /// The configuration the client was made with.
  public let configuration: Configuration
  /// The endpoints, their connections and their health.
  let endpoints: EndpointSet
  /// The executor of the event loop every connection of this client runs on (one of
  /// `configuration.eventLoopGroup`'s loops). A task that prefers it makes calls without thread hand-offs;
  /// see `EventLoopTaskExecutor` for when that is worth it and what such a task must not do.
  public let taskExecutor: EventLoopTaskExecutor
  private let closed = Atomic<Bool>(false)
  private let framer: GRPCMessageFramer
  /// The auth token, when the configuration names a user.
  let authTokenStore: AuthTokenStore?
  /// The tracing interceptor, when the configuration has a tracer.
  let tracing: TracingInterceptor?
  /// The interceptors every call passes through: the tracing one, the auth token's, then the
  /// configured ones.
  let interceptors: [any ClientInterceptor]
  /// The interceptors of the calls that fetch the auth token: `interceptors` without the token's.
  let interceptorsWithoutToken: [any ClientInterceptor]
  /// The shared streams' drivers, started on first use; none starts once the client is closed.
  private let sharedStreams = Mutex(SharedStreams())
  /// The endpoint auto-sync task, when configured.
  private let autoSync = Mutex<Task<Void, Never>?>(nil)
  /// Fires when the client starts closing (`close()`, `deinit`, or a graceful shutdown of `run()`).
  let closedSignal = OneTimeSignal()
  /// Set by the auto-sync task as it returns.
  let autoSyncFinished = Atomic<Bool>(false)

  /// Creates a client. Connections are made on first use, so this does no I/O.
  ///
  /// - Throws: `EtcdError` with code `.invalidConfiguration` when there is no endpoint or one is malformed.
  public init(configuration: Configuration) throws(EtcdError) {
    guard !configuration.endpoints.isEmpty else {
      throw EtcdError(
        code: .invalidConfiguration,
        status: GRPCStatus(code: .invalidArgument, message: "no endpoints given")
      )
    }
    guard configuration.maxSendMessageSize > 0, configuration.maxReceiveMessageSize > 0 else {
      throw EtcdError(
        code: .invalidConfiguration,
        status: GRPCStatus(code: .invalidArgument, message: "message size limits must be positive")
      )
    }
    var endpoints: [Endpoint] = []
    for text in configuration.endpoints {
      endpoints.append(try Endpoint(parsing: text, defaultTLS: configuration.tls != nil))
    }
    self.configuration = configuration
    let settings = GRPCConnection.Settings(
      dialTimeout: TimeAmount(configuration.dialTimeout),
      initialStreamWindow: 4 * 1024 * 1024,
      connectionWindow: 16 * 1024 * 1024,
      userAgent: configuration.userAgent,
      tls: try GRPCConnection.TLS(configuration.tls, endpoints: endpoints),
      keepalive: configuration.keepalive.map {
        GRPCConnectionHandler.Keepalive(
          interval: TimeAmount($0.interval), timeout: TimeAmount($0.timeout))
      },
      logger: configuration.logger
    )
    // Every connection of one client runs on one event loop, so a caller can run there too (`taskExecutor`).
    let eventLoop = configuration.eventLoopGroup.next()
    self.taskExecutor = EventLoopTaskExecutor(eventLoop)
    self.endpoints = EndpointSet(
      endpoints: endpoints,
      settings: settings,
      eventLoop: eventLoop
    )
    self.framer = GRPCMessageFramer(maxMessageLength: configuration.maxSendMessageSize)
    self.authTokenStore = configuration.username.map {
      AuthTokenStore(username: $0, password: configuration.password ?? "")
    }
    let tracing = configuration.tracer.map(TracingInterceptor.init(tracer:))
    self.tracing = tracing
    let traced: [any ClientInterceptor] = tracing.map { [$0] } ?? []
    self.interceptorsWithoutToken = traced + configuration.interceptors
    self.interceptors =
      traced + (authTokenStore.map { [AuthTokenInterceptor(store: $0)] } ?? [])
      + configuration.interceptors
    if let interval = configuration.autoSyncInterval {
      startAutoSync(every: interval)
    }
  }

  /// Creates a client for these endpoints with the default configuration.
  public convenience init(endpoints: [String]) throws(EtcdError) {
    try self.init(configuration: Configuration(endpoints: endpoints))
  }

  /// Closes what `close()` was not called for: a client released without it starts closing its connections
  /// (and stops auto-sync) here, so its sockets do not outlive it. Nothing can be in flight by now: every call
  /// holds the client. A watch still being iterated ends with `clientClosed`.
  deinit {
    guard markClosed() else { return }
    for stream in sharedStreams.withLock({ $0.watch.values }) { stream.driver.requestShutdown() }
    sharedStreams.withLock { $0.lease }?.driver.requestShutdown()
    for connection in endpoints.all { connection.closeWithoutWaiting() }
  }

  /// Closes the client: calls in flight fail with `connectionClosed`, new calls fail with `clientClosed`, and
  /// this returns once every connection's socket is closed. Calling it again does nothing. A client released
  /// without it closes its connections too, without waiting (`deinit`); `close()` is how to know they are.
  public func close() async {
    guard markClosed() else { return }
    await autoSync.withLock({ $0 })?.value
    let streams = sharedStreams.withLock { $0 }
    for stream in streams.watch.values { await stream.stop() }
    await streams.lease?.stop()
    for connection in endpoints.all {
      await connection.close()
    }
  }

  /// Marks the client closed and stops auto-sync; false when it was closed already.
  private func markClosed() -> Bool {
    guard !closed.exchange(true, ordering: .acquiringAndReleasing) else { return false }
    autoSync.withLock { $0?.cancel() }
    closedSignal.fire()
    return true
  }

  func setAutoSyncTask(_ task: Task<Void, Never>) {
    autoSync.withLock { $0 = task }
  }

  /// Whether the auto-sync task, if there is one, has returned (for tests).
  var isAutoSyncFinished: Bool {
    autoSync.withLock { $0 == nil } || autoSyncFinished.load(ordering: .acquiring)
  }

  /// How many connection attempts the client made, over all endpoints.
  var connectAttempts: Int {
    endpoints.all.reduce(0) { $0 + $1.connectAttempts.load(ordering: .relaxed) }
  }

  // MARK: - Calls

  /// The connection of one configured endpoint, named as configured or as `host:port`.
  func connection(for endpoint: String) throws(EtcdError) -> GRPCConnection {
    if let match = endpoints.connection(for: endpoint) { return match }
    throw EtcdError(
      code: .invalidRequest,
      status: GRPCStatus(
        code: .invalidArgument,
        message:
          "\(endpoint) is not one of the client's endpoints (\(endpoints.all.map(\.endpoint.description).joined(separator: ", ")))"
      ),
      endpoint: endpoint
    )
  }

  private func deadline(for timeout: Duration?) -> NIODeadline? {
    guard let timeout = timeout ?? configuration.defaultRequestTimeout else { return nil }
    return .now() + TimeAmount(timeout)
  }

  /// Runs a unary call through the interceptors and the transport; with a user name configured, sends the
  /// auth token, fetching it first if needed and once more if the server says it is invalid.
  func unary<Response: SwiftProtobuf.Message>(
    _ method: RPCMethod,
    _ request: some SwiftProtobuf.Message,
    timeout: Duration?,
    endpoint: String? = nil,
    as: Response.Type = Response.self
  ) async throws(EtcdError) -> Response {
    guard authTokenStore != nil, method != RPCMethod.Auth.authenticate else {
      return try await performUnary(
        method, request, timeout: timeout, endpoint: endpoint,
        interceptors: interceptorsWithoutToken)
    }
    try await refreshToken(after: nil)
    let generation = authTokenStore?.current.generation
    do {
      return try await performUnary(
        method, request, timeout: timeout, endpoint: endpoint, interceptors: interceptors)
    } catch where error.code == .invalidAuthToken || error.code == .authOldRevision {
      try await refreshToken(after: generation)
      return try await performUnary(
        method, request, timeout: timeout, endpoint: endpoint, interceptors: interceptors)
    }
  }

  /// Runs one unary call through `interceptors` and the transport, retrying it on another endpoint when
  /// `RetryPolicy` allows, within the call's deadline.
  func performUnary<Response: SwiftProtobuf.Message>(
    _ method: RPCMethod,
    _ request: some SwiftProtobuf.Message,
    timeout: Duration?,
    endpoint: String? = nil,
    interceptors: [any ClientInterceptor]
  ) async throws(EtcdError) -> Response {
    guard !closed.load(ordering: .relaxed) else { throw EtcdError.clientClosed() }
    let pinned = try endpoint.map(self.connection(for:))
    var connection = pinned ?? endpoints.pick()
    let deadline = deadline(for: timeout)
    let maxReceive = configuration.maxReceiveMessageSize

    // Interceptors see the call once, each attempt, and the end; with none, none of this is done.
    var metadata = ClientMetadata()
    let info: ClientCallInfo?
    if interceptors.isEmpty {
      info = nil
    } else {
      let endpoint = connection.endpoint.description
      let span = tracing?.startSpan(method, endpoint: endpoint, metadata: &metadata)
      let started = ClientCallInfo(
        method: method, endpoint: endpoint, started: MonotonicClock.now(), span: span)
      // Indexed, not iterated: a `for ... in` copies each existential out of the array (a retain, a
      // release and a few value-witness calls per interceptor and hook).
      for index in interceptors.indices {
        interceptors[index].callStarted(started, metadata: &metadata)
      }
      info = started
    }
    func finish(
      _ status: GRPCStatus, _ error: EtcdError?, attempts: Int, sent: Int, received: Int?,
      elapsed: Int64? = nil
    ) {
      guard let info else { return }
      let outcome = ClientCallOutcome(
        status: status,
        error: error,
        durationNanoseconds: elapsed ?? info.elapsed(),
        messagesSent: attempts > 0 ? attempts : 0,
        bytesSent: sent * attempts,
        messagesReceived: received == nil ? 0 : 1,
        bytesReceived: received ?? 0,
        attempts: max(attempts, 1),
        endpoint: connection.endpoint.description
      )
      for index in interceptors.indices.reversed() {
        interceptors[index].callFinished(info, outcome: outcome)
      }
    }

    let framed: GRPCFramedMessage
    do {
      framed = try frame(request)
    } catch {
      finish(error.status, error, attempts: 0, sent: 0, received: nil)
      throw error
    }

    var tried = Set<ObjectIdentifier>()
    var attempt = 0
    // The reason the latest attempt found no server, if one did not.
    var connectionFailure: EtcdError?
    // The clock is read only for interceptors: the first attempt starts with the call, and a successful
    // attempt ends with it, so one call costs two readings. Times are nanoseconds from the call's start.
    var attemptOffset: Int64 = 0
    while true {
      if let info, attempt > 0 { attemptOffset = info.elapsed() }
      if let info {
        for index in interceptors.indices { interceptors[index].messageSent(info, size: framed.count) }
      }
      let result: Result<[UInt8], EtcdError>
      do {
        result = .success(
          try await connection.unary(
            method: method,
            request: framed,
            metadata: metadata,
            deadline: deadline,
            maxReceiveMessageLength: maxReceive
          ))
      } catch {
        result = .failure(error)
      }
      attempt += 1
      switch result {
      case .success(let bytes):
        endpoints.succeeded(connection)
        // Decoded before the hooks run, so the attempt and the call both end after the decode, on one
        // clock reading.
        let decoded: Result<Response, EtcdError>
        do {
          decoded = .success(try Self.decode(bytes, endpoint: connection.endpoint.description))
        } catch {
          decoded = .failure(error)
        }
        let elapsed = info?.elapsed()
        if let info, let elapsed {
          for index in interceptors.indices {
            interceptors[index].messageReceived(info, size: bytes.count)
          }
          let record = ClientAttempt(
            number: attempt - 1, endpoint: connection.endpoint.description, status: .ok,
            durationNanoseconds: elapsed - attemptOffset, bytesSent: framed.count,
            bytesReceived: bytes.count)
          for index in interceptors.indices.reversed() {
            interceptors[index].attemptFinished(info, attempt: record)
          }
        }
        switch decoded {
        case .success(let response):
          finish(.ok, nil, attempts: attempt, sent: framed.count, received: bytes.count, elapsed: elapsed)
          return response
        case .failure(let error):
          finish(
            error.status, error, attempts: attempt, sent: framed.count, received: bytes.count,
            elapsed: elapsed)
          throw error
        }

      case .failure(let attemptError):
        // A deadline that ends a call while it is still connecting, after an attempt that found no server,
        // ends it with that connection failure: the call never reached a server, and the connection error
        // says why; the deadline only stopped the retrying.
        let error: EtcdError
        if attemptError.code == .deadlineExceeded, attemptError.requestNeverProcessed,
          let connectionFailure
        {
          error = connectionFailure
        } else if attemptError.code == .connectionFailed || attemptError.code == .connectionClosed {
          endpoints.failed(connection)
          connectionFailure = attemptError
          error = attemptError
        } else {
          connectionFailure = nil
          error = attemptError
        }
        if let info {
          let record = ClientAttempt(
            number: attempt - 1, endpoint: connection.endpoint.description, status: error.status,
            durationNanoseconds: info.elapsed() - attemptOffset, bytesSent: framed.count,
            bytesReceived: 0)
          for index in interceptors.indices.reversed() {
            interceptors[index].attemptFinished(info, attempt: record)
          }
        }
        tried.insert(ObjectIdentifier(connection))
        let everyEndpointTried = tried.count >= endpoints.all.count
        // A TLS set-up problem does not go away by retrying: stop once every endpoint refused it.
        let retry =
          pinned == nil && attempt < RetryPolicy.maximumAttempts
          && !(error.isTLSHandshakeFailure && everyEndpointTried)
          && RetryPolicy.mayRetry(method, after: error, neverProcessed: error.requestNeverProcessed)
          && !closed.load(ordering: .relaxed)
        let pause = RetryPolicy.pause.delay(afterFailures: attempt, random: Double.random(in: 0...1))
        let inTime = deadline.map { NIODeadline.now() + TimeAmount(pause) < $0 } ?? true
        guard retry, inTime, (try? await Task.sleep(for: pause)) != nil else {
          finish(error.status, error, attempts: attempt, sent: framed.count, received: nil)
          throw error
        }
        if everyEndpointTried { tried.removeAll() }
        let failed = connection
        connection = endpoints.pick(excluding: tried)
        logRetry(method, attempt: attempt, after: error, from: failed, to: connection)
      }
    }
  }

  /// Logs a retry: at notice when it fails over to another member, at info when it tries the same one.
  /// The error is named by its code, not its message, which may quote the request.
  private func logRetry(
    _ method: RPCMethod, attempt: Int, after error: EtcdError, from failed: GRPCConnection,
    to next: GRPCConnection
  ) {
    let logger = configuration.logger
    let failover = failed !== next
    guard logger.logLevel <= (failover ? .notice : .info) else { return }
    let metadata: Logger.Metadata = [
      "etcd.endpoint": "\(failed.endpoint.description)",
      "rpc.method": "\(method.path)",
      "etcd.attempt": "\(attempt)",
      "error": "\(error.code.name)",
    ]
    if failover {
      var metadata = metadata
      metadata["etcd.next_endpoint"] = "\(next.endpoint.description)"
      logger.notice("call failing over to another member", metadata: metadata)
    } else {
      logger.info("call retried", metadata: metadata)
    }
  }

  /// The shared streams' drivers and their tasks.
  private struct SharedStreams: Sendable {
    /// The Watch streams: [false] plain, [true] with `requireLeader`.
    var watch: [Bool: RunningSharedStream<WatchStreamWatchers>] = [:]
    /// The LeaseKeepAlive stream.
    var lease: RunningSharedStream<LeaseKeepAliveLeases>?
  }

  /// The watch hub for watchers with or without `requireLeader`, started on first use; nil once the client is
  /// closed. The closed flag is read under the lock `close()` takes after setting it, so no hub starts that
  /// `close()` does not stop.
  func watchHub(requireLeader: Bool) -> WatchStreamHub? {
    sharedStreams.withLock { streams in
      guard !closed.load(ordering: .acquiring) else { return nil }
      if let running = streams.watch[requireLeader] { return running.driver }
      let driver = WatchStreamHub(
        client: self, content: WatchStreamWatchers(requireLeader: requireLeader),
        requireLeader: requireLeader)
      streams.watch[requireLeader] = .start(driver)
      return driver
    }
  }

  /// The keep-alive hub, started on first use; nil once the client is closed.
  func keepAliveHub() -> LeaseKeepAliveHub? {
    sharedStreams.withLock { streams in
      guard !closed.load(ordering: .acquiring) else { return nil }
      if let running = streams.lease { return running.driver }
      let driver = LeaseKeepAliveHub(
        client: self, content: LeaseKeepAliveLeases(logger: configuration.logger))
      streams.lease = .start(driver)
      return driver
    }
  }

  /// The watch hubs started so far.
  func existingWatchHubs() -> [WatchStreamHub] {
    sharedStreams.withLock { $0.watch.values.map(\.driver) }
  }

  /// Opens a bidirectional stream (Watch, LeaseKeepAlive) with no deadline.
  ///
  /// - Parameter resumption: how many times a shared stream has been reopened after a failure, for its
  ///   span; 0 for a stream opened for the first time.
  func bidirectionalStream(
    _ method: RPCMethod,
    metadata: ClientMetadata = ClientMetadata(),
    resumption: Int = 0
  ) throws(EtcdError) -> GRPCStreamingCall {
    guard !closed.load(ordering: .relaxed) else { throw EtcdError.clientClosed() }
    let connection = endpoints.pick()
    let endpoints = self.endpoints
    return GRPCStreamingCall(
      connection: connection,
      method: method,
      metadata: metadata,
      deadline: nil,
      maxReceiveMessageLength: configuration.maxReceiveMessageSize,
      interceptors: interceptors,
      tracing: tracing,
      resumption: resumption,
      onFinish: { error in
        if let error, error.code == .connectionFailed || error.code == .connectionClosed {
          endpoints.failed(connection)
        }
      }
    )
  }

  /// Frames a request message with the client's send limit.
  func frame(_ message: some SwiftProtobuf.Message) throws(EtcdError) -> GRPCFramedMessage {
    do {
      return try framer.frame(message)
    } catch {
      throw EtcdError(framing: error)
    }
  }

  private static func decode<Response: SwiftProtobuf.Message>(
    _ bytes: [UInt8],
    endpoint: String
  ) throws(EtcdError) -> Response {
    do {
      return try Response(serializedBytes: bytes)
    } catch {
      throw EtcdError(
        code: .invalidResponse,
        status: GRPCStatus(code: .internal, message: "grpc: failed to unmarshal the received message: \(error)"),
        endpoint: endpoint,
        cause: error
      )
    }
  }
}

/// Runs `body` with a client and closes the client afterwards, whether `body` returns or throws.
///
/// - Returns: What `body` returns; it may be ignored, as when `body` ends with a put.
@discardableResult
public func withEtcdClient<Result: Sendable>(
  configuration: EtcdClient.Configuration,
  _ body: (EtcdClient) async throws -> Result
) async throws -> Result {
  let client = try EtcdClient(configuration: configuration)
  do {
    let result = try await body(client)
    await client.close()
    return result
  } catch {
    await client.close()
    throw error
  }
}

extension TimeAmount {
  /// Converts a Swift `Duration`, saturating.
  init(_ duration: Duration) {
    let (seconds, attoseconds) = duration.components
    let nanoseconds = seconds.multipliedReportingOverflow(by: 1_000_000_000)
    if nanoseconds.overflow {
      self = .nanoseconds(seconds < 0 ? .min : .max)
    } else {
      self = .nanoseconds(nanoseconds.partialValue.addingReportingOverflow(attoseconds / 1_000_000_000).partialValue)
    }
  }
}
