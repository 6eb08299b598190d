import NIOCore
import Synchronization

/// The client's endpoints: one `GRPCConnection` each, and the `EndpointBalancer` that picks among them.
///
/// Thread-safe: the connections and the balancer sit behind one lock, held only to pick or to record an
/// outcome. `unhealthy` counts endpoints in backoff, so a success on a fully healthy set takes no lock.
final class EndpointSet: Sendable {
  private struct State {
    var connections: [GRPCConnection]
    var balancer: EndpointBalancer
  }

  private let state: Mutex<State>
  private let unhealthy = Atomic<Int>(0)
  private let settings: GRPCConnection.Settings
  /// The loop every connection runs on (the client's `taskExecutor` loop).
  private let eventLoop: any EventLoop

  init(endpoints: [Endpoint], settings: GRPCConnection.Settings, eventLoop: any EventLoop) {
    self.settings = settings
    self.eventLoop = eventLoop
    let connections = endpoints.map {
      GRPCConnection(endpoint: $0, eventLoop: eventLoop, settings: settings)
    }
    state = Mutex(State(connections: connections, balancer: EndpointBalancer(count: connections.count)))
  }

  /// The TLS settings of connections to endpoints that use TLS; nil when none does.
  var tls: GRPCConnection.TLS? { settings.tls }

  /// Every connection.
  var all: [GRPCConnection] { state.withLock { $0.connections } }

  /// The connection for the next attempt, avoiding `tried` when another is available.
  func pick(excluding tried: Set<ObjectIdentifier> = []) -> GRPCConnection {
    state.withLock { state in
      if state.connections.count == 1 { return state.connections[0] }
      let now = MonotonicClock.now()
      let excluded = Set(
        state.connections.indices.filter { tried.contains(ObjectIdentifier(state.connections[$0])) })
      let index = state.balancer.pick(now: now, excluding: excluded) ?? 0
      return state.connections[index]
    }
  }

  /// The connection of a configured endpoint, named as configured or as `host:port`.
  func connection(for endpoint: String) -> GRPCConnection? {
    state.withLock { state in
      state.connections.first {
        $0.endpoint.description == endpoint || $0.endpoint.authority == endpoint
      }
    }
  }

  /// A call on `connection` succeeded: it is healthy.
  func succeeded(_ connection: GRPCConnection) {
    guard unhealthy.load(ordering: .relaxed) > 0 else { return }
    state.withLock { state in
      guard let index = state.connections.firstIndex(where: { $0 === connection }) else { return }
      if state.balancer.health[index].retryAt != nil {
        unhealthy.subtract(1, ordering: .relaxed)
      }
      state.balancer.succeeded(index)
    }
  }

  /// `connection` failed at the connection level: back off from it.
  func failed(_ connection: GRPCConnection) {
    let now = MonotonicClock.now()
    state.withLock { state in
      guard let index = state.connections.firstIndex(where: { $0 === connection }) else { return }
      if state.balancer.health[index].retryAt == nil {
        unhealthy.add(1, ordering: .relaxed)
      }
      state.balancer.failed(index, now: now, jitter: Double.random(in: 0.8...1.2))
    }
  }

  /// Replaces the endpoints with `endpoints`, keeping the connections (and health) of those that remain.
  /// - Returns: the connections that were removed; the caller closes them.
  func replace(with endpoints: [Endpoint]) -> [GRPCConnection] {
    state.withLock { state in
      var kept: [Int?] = []
      var connections: [GRPCConnection] = []
      for endpoint in endpoints {
        if let index = state.connections.firstIndex(where: { $0.endpoint.authority == endpoint.authority }) {
          kept.append(index)
          connections.append(state.connections[index])
        } else {
          kept.append(nil)
          connections.append(
            GRPCConnection(endpoint: endpoint, eventLoop: eventLoop, settings: settings))
        }
      }
      let removed = state.connections.filter { old in !connections.contains { $0 === old } }
      state.balancer.replace(keeping: kept)
      unhealthy.store(
        state.balancer.health.filter { $0.retryAt != nil }.count, ordering: .relaxed)
      state.connections = connections
      return removed
    }
  }
}
