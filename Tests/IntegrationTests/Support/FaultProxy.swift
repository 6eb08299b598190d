import NIOCore
import NIOPosix
import Synchronization

#if canImport(Glibc)
  import Glibc
#endif

/// A TCP proxy in the test process between a client and one etcd member, on `127.0.0.1` and a free port,
/// whose ``FaultProxyMode`` can change while connections are open: pass, delay, drop one direction or both.
/// ``resetAll()`` ends every proxied connection with an RST.
///
/// What happens to each chunk is ``FaultProxyLane``'s decision; this class only accepts, connects and
/// writes what the lanes say.
///
/// ```swift
/// let proxy = try await FaultProxy(upstream: cluster.endpoint(of: 0))
/// defer { proxy.close() }
/// let client = try EtcdClient(endpoints: [proxy.endpoint])
/// try await client.put("k", "1")
/// proxy.set(.dropResponses)
/// ```
final class FaultProxy: Sendable {
  /// What the proxy does to the bytes it relays.
  typealias Mode = FaultProxyMode

  /// `127.0.0.1:PORT`: where clients connect.
  let endpoint: String
  private let server: any Channel
  private let connections: FaultProxyConnections

  /// Listens on `127.0.0.1` and a free port, and relays each connection to `upstream`, in mode `.pass`.
  ///
  /// - Parameter upstream: `host:port` of the server.
  /// - Throws: When the address is not `host:port`, or the listening socket cannot be bound.
  init(upstream: String) async throws {
    guard let colon = upstream.lastIndex(of: ":"), let port = Int(upstream[upstream.index(after: colon)...])
    else { throw FixtureError("upstream `\(upstream)` is not host:port") }
    let host = String(upstream[..<colon])
    let connections = FaultProxyConnections()
    let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
      .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
      .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
      .childChannelInitializer { inbound in
        ClientBootstrap(group: inbound.eventLoop)
          .connectTimeout(.seconds(2))
          .channelOption(.socketOption(.tcp_nodelay), value: 1)
          .connect(host: host, port: port)
          .flatMapThrowing { outbound in
            // Both channels are on `inbound.eventLoop`, where this runs.
            try inbound.pipeline.syncOperations.addHandler(
              FaultProxyRelay(direction: .request, partner: outbound, connections: connections))
            try outbound.pipeline.syncOperations.addHandler(
              FaultProxyRelay(direction: .response, partner: inbound, connections: connections))
            connections.add(inbound, outbound)
          }
      }
      .bind(host: "127.0.0.1", port: 0)
      .get()
    guard let boundPort = server.localAddress?.port else {
      server.close(promise: nil)
      throw FixtureError("the fault proxy's socket has no port")
    }
    self.endpoint = "127.0.0.1:\(boundPort)"
    self.server = server
    self.connections = connections
  }

  deinit {
    close()
  }

  /// The mode of the moment.
  var mode: FaultProxyMode { connections.mode }

  /// Switches to `mode`, for chunks that arrive from now on (chunks held by a delay still go out).
  func set(_ mode: FaultProxyMode) {
    connections.mode = mode
  }

  /// Closes every proxied connection on both sides with an RST (`SO_LINGER` 0); the proxy keeps listening.
  func resetAll() {
    for channel in connections.removeAll() {
      // Every channel here is a NIOPosix socket channel, which provides socket options.
      guard let socket = channel as? any SocketOptionProvider else {
        channel.close(promise: nil)
        continue
      }
      socket.setSoLinger(linger(l_onoff: 1, l_linger: 0)).whenComplete { _ in channel.close(promise: nil) }
    }
  }

  /// Stops listening and closes every proxied connection. Safe to call more than once.
  func close() {
    server.close(promise: nil)
    for channel in connections.removeAll() { channel.close(promise: nil) }
  }
}

/// The proxy's mode and open connections, shared by the proxy and the relays on the event loops.
private final class FaultProxyConnections: Sendable {
  private let state = Mutex((mode: FaultProxyMode.pass, channels: [ObjectIdentifier: any Channel]()))

  var mode: FaultProxyMode {
    get { state.withLock { $0.mode } }
    set { state.withLock { $0.mode = newValue } }
  }

  /// Records both channels of a connection; each is forgotten when it closes.
  func add(_ channels: any Channel...) {
    for channel in channels {
      state.withLock { $0.channels[ObjectIdentifier(channel)] = channel }
      channel.closeFuture.whenComplete { [self] _ in
        _ = state.withLock { $0.channels.removeValue(forKey: ObjectIdentifier(channel)) }
      }
    }
  }

  /// Every open channel, now forgotten.
  func removeAll() -> [any Channel] {
    state.withLock { state in
      defer { state.channels = [:] }
      return Array(state.channels.values)
    }
  }
}

/// One direction of a proxied connection: what its channel reads goes to `partner` as its lane decides.
private final class FaultProxyRelay: ChannelInboundHandler {
  typealias InboundIn = ByteBuffer

  private var lane: FaultProxyLane
  private let partner: any Channel
  private let connections: FaultProxyConnections
  private let clockBase = (continuous: ContinuousClock.now, loop: NIODeadline.now())

  init(direction: FaultProxyLane.Direction, partner: any Channel, connections: FaultProxyConnections) {
    self.lane = FaultProxyLane(direction: direction)
    self.partner = partner
    self.connections = connections
  }

  func channelRead(context: ChannelHandlerContext, data: NIOAny) {
    let chunk = Self.unwrapInboundIn(data)
    switch lane.chunkReceived(at: .now, mode: connections.mode) {
    case .discard:
      return
    case .forward:
      partner.writeAndFlush(chunk, promise: nil)
    case .forwardAt(let instant):
      let partner = self.partner
      let loop = context.eventLoop
      loop.assumeIsolated().scheduleTask(deadline: deadline(of: instant)) {
        partner.writeAndFlush(chunk, promise: nil)
        self.lane.heldBackChunkWritten()
      }
    }
  }

  func channelInactive(context: ChannelHandlerContext) {
    let partner = self.partner
    if let instant = lane.closeAt {
      context.eventLoop.scheduleTask(deadline: deadline(of: instant)) { partner.close(promise: nil) }
    } else {
      partner.close(promise: nil)
    }
    context.fireChannelInactive()
  }

  func errorCaught(context: ChannelHandlerContext, error: any Error) {
    context.close(promise: nil)
  }

  /// The event loop's deadline for `instant`: one fixed offset between the two clocks for the whole
  /// connection, so chunks due at the same instant are written in the order they were scheduled.
  private func deadline(of instant: ContinuousClock.Instant) -> NIODeadline {
    let (seconds, attoseconds) = (instant - clockBase.continuous).components
    return clockBase.loop + .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
  }
}
