import Foundation
import Logging
import NIOCore
import NIOPosix
import Synchronization

#if canImport(Glibc)
  import Glibc
#endif

/// The HTTP/2 connection to one endpoint, made on first use and made again after it was lost.
///
/// A call asks for the current connection with `withHandler`; while a connection is being made, calls wait in
/// a queue and start together once it is up, or fail together with `connectionFailed` naming the endpoint.
///
/// All mutable state is touched only on `eventLoop` (every entry point hops there first), which is what makes
/// the `@unchecked Sendable` safe.
final class GRPCConnection: @unchecked Sendable {
  /// Connection settings.
  struct Settings: Sendable {
    /// How long one TCP connection attempt may take.
    var dialTimeout: TimeAmount
    /// nghttp2 receive windows: each stream's, and the connection's.
    var initialStreamWindow: Int32
    var connectionWindow: Int32
    /// The `user-agent` header.
    var userAgent: String
    /// TLS for endpoints that use it (`Endpoint.isTLS`); nil when none does.
    var tls: TLS? = nil
    /// HTTP/2 PING keepalive; nil for none.
    var keepalive: GRPCConnectionHandler.Keepalive? = nil
    /// Where connection events are logged.
    var logger = Logger(label: "etcd-client", factory: { _ in SwiftLogNoOpLogHandler() })
  }

  /// The endpoint.
  let endpoint: Endpoint
  /// The event loop that owns the connection and every call on it.
  let eventLoop: any EventLoop
  private let settings: Settings
  /// `settings.logger` with this endpoint as `etcd.endpoint`.
  private let logger: Logger

  /// SETTINGS_INITIAL_WINDOW_SIZE: each stream's receive window on this endpoint's connections.
  var initialStreamWindow: Int32 { settings.initialStreamWindow }

  private enum State {
    case idle
    case connecting([(Result<GRPCConnectionHandler, EtcdError>) -> Void])
    case ready(any Channel, GRPCConnectionHandler)
    case closed
  }
  private var state: State = .idle
  /// How many connection attempts were made; tests read it to prove that calls reuse one connection.
  let connectAttempts = Atomic<Int>(0)
  /// Channels still open (including draining ones), so `close` can wait for all of them.
  private var openChannels: [ObjectIdentifier: any Channel] = [:]
  /// The `notAfter` of the certificate the server presented at the latest TLS handshake; read from any thread.
  private let serverCertificate = Mutex<Date?>(nil)

  /// The `notAfter` of the certificate the server presented at the latest TLS handshake, if any.
  var serverCertificateNotAfter: Date? { serverCertificate.withLock { $0 } }

  init(endpoint: Endpoint, eventLoop: any EventLoop, settings: Settings) {
    self.endpoint = endpoint
    self.eventLoop = eventLoop
    self.settings = settings
    var logger = settings.logger
    logger[metadataKey: "etcd.endpoint"] = "\(endpoint.description)"
    self.logger = logger
  }

  /// Calls `body` on the event loop with a live connection handler, connecting first if needed.
  func withHandler(_ body: @escaping (Result<GRPCConnectionHandler, EtcdError>) -> Void) {
    eventLoop.assertInEventLoop()
    switch state {
    case .ready(_, let handler) where !handler.isDraining:
      body(.success(handler))
    case .ready:
      state = .idle
      withHandler(body)
    case .connecting(var waiters):
      waiters.append(body)
      state = .connecting(waiters)
    case .idle:
      state = .connecting([body])
      connect()
    case .closed:
      body(.failure(EtcdError.clientClosed(endpoint: endpoint.description)))
    }
  }

  private func connect() {
    connectAttempts.add(1, ordering: .relaxed)
    let settings = self.settings
    let endpoint = self.endpoint
    let tls = endpoint.isTLS ? settings.tls : nil
    // Looks at the TLS files (and reloads them when they changed) once per connection, not per channel.
    let tlsContext = tls?.store.contextForNewConnection()
    let handler = GRPCConnectionHandler(
      endpoint: endpoint,
      settings: .init(
        initialStreamWindow: settings.initialStreamWindow,
        connectionWindow: settings.connectionWindow
      ),
      userAgent: settings.userAgent,
      isTLS: tls != nil,
      keepalive: settings.keepalive,
      logger: logger,
      onClose: { [weak self] handler in self?.handlerClosed(handler) }
    )
    // The handler is made here and used only on `eventLoop`, which is also the channel's loop.
    let boundHandler = NIOLoopBound(handler, eventLoop: eventLoop)
    let readiness = NIOLoopBound(TLSReadinessHandlers(), eventLoop: eventLoop)
    let bootstrap = ClientBootstrap(group: eventLoop)
      .connectTimeout(settings.dialTimeout)
      .channelOption(.tcpOption(.tcp_nodelay), value: 1)
      .channelInitializer { channel in
        channel.eventLoop.makeCompletedFuture {
          if let tls, let tlsContext {
            try readiness.value.add(
              tls: tls, context: tlsContext, endpoint: endpoint, timeout: settings.dialTimeout, to: channel)
          }
          try channel.pipeline.syncOperations.addHandler(boundHandler.value)
        }
      }
    bootstrap.connect(host: endpoint.host, port: endpoint.port).hop(to: eventLoop)
      .whenComplete { result in
        // A TLS connection is ready once its handshake is done and the server spoke HTTP/2.
        guard case .success(let channel) = result, let tlsReady = readiness.value.handler(of: channel) else {
          self.connectFinished(result, handler: boundHandler.value)
          return
        }
        self.track(channel)
        tlsReady.whenReady { ready in
          if let certificate = tlsReady.peerCertificate {
            let notAfter = GRPCConnection.TLS.notAfter(certificate)
            self.serverCertificate.withLock { $0 = notAfter }
          }
          self.connectFinished(ready.map { channel }.mapError { $0 }, handler: boundHandler.value)
        }
      }
  }

  private func connectFinished(_ result: Result<any Channel, any Error>, handler: GRPCConnectionHandler) {
    guard case .connecting(let waiters) = state else {
      // Closed while connecting.
      if case .success(let channel) = result { channel.close(promise: nil) }
      return
    }
    switch result {
    case .success(let channel):
      track(channel)
      state = .ready(channel, handler)
      logger.info("connected")
      for waiter in waiters { waiter(.success(handler)) }
    case .failure(let error):
      state = .idle
      let failure = (error as? EtcdError) ?? EtcdError(
        code: .connectionFailed,
        status: GRPCStatus(
          code: .unavailable,
          message: "cannot connect to \(endpoint): \(Self.describe(error))"
        ),
        endpoint: endpoint.description,
        cause: error
      )
      logger.warning(
        "connect failed", metadata: ["error": "\(failure.code.name): \(failure.status.message)"])
      for waiter in waiters { waiter(.failure(failure)) }
    }
  }

  /// Keeps `channel` in `openChannels` until it closes, so `close` closes it and waits for it.
  private func track(_ channel: any Channel) {
    guard openChannels.updateValue(channel, forKey: ObjectIdentifier(channel)) == nil else { return }
    channel.closeFuture.hop(to: eventLoop).whenComplete { _ in
      self.openChannels.removeValue(forKey: ObjectIdentifier(channel))
    }
  }

  private func handlerClosed(_ handler: GRPCConnectionHandler) {
    eventLoop.assertInEventLoop()
    if case .ready(_, let current) = state, current === handler { state = .idle }
  }

  /// Closes the connection: open calls fail, and this returns once the socket is closed.
  func close() async {
    let submitted = eventLoop.submit { self.closeChannels() }
    let channels = (try? await submitted.get()) ?? []
    for channel in channels {
      try? await channel.closeFuture.get()
    }
  }

  /// Starts closing, as `close` does, without waiting: for a client released without `close()`. The task
  /// keeps this connection alive until it has run.
  func closeWithoutWaiting() {
    eventLoop.execute { _ = self.closeChannels() }
  }

  /// Marks the connection closed, fails callers waiting for it, and closes every open channel; returns them.
  private func closeChannels() -> [any Channel] {
    let channels = Array(openChannels.values)
    if case .connecting(let waiters) = state {
      state = .closed
      let failure = EtcdError.clientClosed(endpoint: endpoint.description)
      for waiter in waiters { waiter(.failure(failure)) }
    }
    state = .closed
    for channel in channels {
      if let handler = try? channel.pipeline.syncOperations.handler(type: GRPCConnectionHandler.self) {
        handler.close(force: true)
      } else {
        channel.close(promise: nil)
      }
    }
    return channels
  }

  /// A short description of a connect error: NIO's errors are verbose.
  private static func describe(_ error: any Error) -> String {
    if let connectError = error as? NIOConnectionError {
      if let first = connectError.connectionErrors.first { return describe(first.error) }
      if let dns = connectError.dnsAAAAError ?? connectError.dnsAError { return "\(dns)" }
    }
    if let ioError = error as? IOError {
      return "\(String(cString: strerror(ioError.errnoCode))) (errno \(ioError.errnoCode))"
    }
    if error is ChannelError, case ChannelError.connectTimeout(let amount) = error {
      return "dial timeout after \(amount.nanoseconds / 1_000_000) ms"
    }
    return "\(error)"
  }
}
