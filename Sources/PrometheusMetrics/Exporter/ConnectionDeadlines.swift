/// The metrics server's open connections and the deadlines each one is held to: which connection is
/// past which deadline, and which client address has too many open.
///
/// A pure value type: ``ConnectionSweeper`` feeds it libmicrohttpd's connection events, with the time
/// passed in, and executes what it returns (shuts a socket down, counts a reason).
///
/// A connection waits for a request head from its start, and on a keep-alive connection from the
/// moment its previous request completed; the head must be complete within
/// ``Limits/headTimeout``. A keep-alive connection that has not even sent the next request line by
/// then is idle rather than slow, and is told apart in the close reason. While the server's handler runs there is no deadline. From the moment a
/// response is queued, it must be sent within ``Limits/sendTimeout``. A connection from an address
/// that already has ``Limits/maxConnectionsPerAddress`` connections open is refused as it starts.
///
/// A connection whose client ended its side before completing the head is closed as soon as that
/// is seen (``clientEndedSending(_:)``): libmicrohttpd's edge-triggered epoll misses an end of
/// stream that arrived together with the last bytes it read, and would otherwise hold such a
/// connection, in CLOSE-WAIT, until a timeout.
struct ConnectionDeadlines: Sendable {
  /// A connection's identity: libmicrohttpd's connection pointer, unique while the connection is open.
  typealias ID = UInt
  /// A point in time.
  typealias Instant = ContinuousClock.Instant

  /// The deadlines and the per-address bound.
  struct Limits: Sendable, Equatable {
    /// From a connection's start, or its previous request's completion, to a complete request head.
    var headTimeout: Duration
    /// From a response being queued to its last byte sent.
    var sendTimeout: Duration
    /// The most connections one client address may have open; 0 means no limit.
    var maxConnectionsPerAddress: Int
  }

  /// Why the server ended a connection before its client did. The raw values are the `reason` label
  /// of `metrics_server_connections_closed_total`.
  enum CloseReason: String, CaseIterable, Sendable {
    /// The request head was not complete within ``Limits/headTimeout``.
    case headTimeout = "head_timeout"
    /// A keep-alive connection sent no next request line within ``Limits/headTimeout`` of its
    /// previous request's end.
    case idleTimeout = "idle_timeout"
    /// The request head did not fit the head-size limit; libmicrohttpd answered 431 (or 414, 413)
    /// itself.
    case headTooLarge = "head_too_large"
    /// The response was not sent within ``Limits/sendTimeout``.
    case sendTimeout = "send_timeout"
    /// The client's address already had ``Limits/maxConnectionsPerAddress`` connections open.
    case addressLimit = "address_limit"
    /// The client ended its side of the connection with the request head incomplete.
    case incompleteHead = "incomplete_head"
  }

  /// Where a connection is in its request cycle.
  enum Phase: Equatable, Sendable {
    /// Waiting for a complete request head, since the given time.
    case awaitingHead(since: Instant)
    /// A keep-alive connection between requests: its previous request ended at the given time, and
    /// no request line of the next has arrived.
    case idleBetweenRequests(since: Instant)
    /// The head is complete and the server's handler is running.
    case handling
    /// A response is queued and being sent, since the given time.
    case sending(since: Instant)
    /// The server shut the connection down; it stays listed until libmicrohttpd reports it closed,
    /// so its socket is not shut down twice.
    case closing
  }

  /// One open connection.
  struct Connection: Equatable, Sendable {
    /// The connection's socket, to shut down.
    var socket: Int32
    /// The client's address (without port).
    var address: String
    var phase: Phase
    /// Whether the connection counts towards its address's limit (it was not refused).
    var countsTowardsAddress: Bool
  }

  /// What to do with a connection that just started.
  enum StartAction: Equatable, Sendable {
    /// Serve it.
    case serve
    /// Shut its socket down at once and count the reason.
    case refuse(socket: Int32, reason: CloseReason)
  }

  /// A connection past a deadline: shut its socket down and count the reason.
  struct Cut: Equatable, Sendable {
    var socket: Int32
    var reason: CloseReason
  }

  /// HTTP statuses libmicrohttpd answers a request head with when it does not fit its memory.
  static let headTooLargeStatuses: Set<Int> = [413, 414, 431]

  let limits: Limits
  /// The open connections by ID.
  private(set) var connections: [ID: Connection] = [:]
  /// The number of counted connections per address; addresses with none are absent.
  private(set) var connectionsPerAddress: [String: Int] = [:]

  init(limits: Limits) {
    self.limits = limits
  }

  /// A connection was accepted.
  mutating func connectionStarted(_ id: ID, socket: Int32, address: String, at now: Instant)
    -> StartAction
  {
    let open = connectionsPerAddress[address, default: 0]
    if limits.maxConnectionsPerAddress > 0 && open >= limits.maxConnectionsPerAddress {
      connections[id] = Connection(
        socket: socket, address: address, phase: .closing, countsTowardsAddress: false)
      return .refuse(socket: socket, reason: .addressLimit)
    }
    connectionsPerAddress[address] = open + 1
    connections[id] = Connection(
      socket: socket, address: address, phase: .awaitingHead(since: now),
      countsTowardsAddress: true)
    return .serve
  }

  /// The request line of a request arrived (the head may still be incomplete).
  mutating func requestLineReceived(_ id: ID) {
    guard case .idleBetweenRequests(let since) = connections[id]?.phase else { return }
    connections[id]?.phase = .awaitingHead(since: since)
  }

  /// A request head is complete: the server's handler runs.
  mutating func headReceived(_ id: ID) {
    guard let connection = connections[id], connection.phase != .closing else { return }
    connections[id]?.phase = .handling
  }

  /// The handler queued its response, which is being sent from now on.
  mutating func responseQueued(_ id: ID, at now: Instant) {
    guard let connection = connections[id], connection.phase != .closing else { return }
    connections[id]?.phase = .sending(since: now)
  }

  /// A request completed (or was aborted), with the status of the response libmicrohttpd had
  /// queued, if any. The connection waits for its next request head from now on.
  ///
  /// - Returns: ``CloseReason/headTooLarge`` when libmicrohttpd answered the head itself for its
  ///   size, before the handler saw it; otherwise `nil`.
  mutating func requestCompleted(_ id: ID, status: Int?, at now: Instant) -> CloseReason? {
    guard let connection = connections[id], connection.phase != .closing else { return nil }
    connections[id]?.phase = .idleBetweenRequests(since: now)
    if case .awaitingHead = connection.phase, let status,
      Self.headTooLargeStatuses.contains(status)
    {
      return .headTooLarge
    }
    return nil
  }

  /// libmicrohttpd closed the connection (its socket is closed right after).
  mutating func connectionClosed(_ id: ID) {
    guard let connection = connections.removeValue(forKey: id) else { return }
    guard connection.countsTowardsAddress else { return }
    let remaining = connectionsPerAddress[connection.address, default: 1] - 1
    connectionsPerAddress[connection.address] = remaining > 0 ? remaining : nil
  }

  /// The connections that have been waiting for their request head for `patience` or longer at
  /// `now`, with their sockets: the ones to check for a client that ended its side.
  func awaitingHead(forAtLeast patience: Duration, at now: Instant) -> [(id: ID, socket: Int32)] {
    connections.compactMap { id, connection in
      switch connection.phase {
      case .awaitingHead(let since), .idleBetweenRequests(let since):
        return now - since >= patience ? (id, connection.socket) : nil
      case .handling, .sending, .closing:
        return nil
      }
    }
  }

  /// The client of a connection ended its side (its socket reads as ended, with nothing left to
  /// read) while the connection waits for its request head.
  ///
  /// - Returns: The cut, if the connection was waiting for its head; it is closing from now on.
  mutating func clientEndedSending(_ id: ID) -> Cut? {
    guard let connection = connections[id] else { return nil }
    switch connection.phase {
    case .awaitingHead, .idleBetweenRequests: break
    case .handling, .sending, .closing: return nil
    }
    connections[id]?.phase = .closing
    return Cut(socket: connection.socket, reason: .incompleteHead)
  }

  /// The connections past a deadline at `now`, each returned once: they are closing from now on.
  mutating func deadlinesPassed(at now: Instant) -> [Cut] {
    var cuts: [Cut] = []
    for (id, connection) in connections {
      let reason: CloseReason
      switch connection.phase {
      case .awaitingHead(let since) where now - since >= limits.headTimeout:
        reason = .headTimeout
      case .idleBetweenRequests(let since) where now - since >= limits.headTimeout:
        reason = .idleTimeout
      case .sending(let since) where now - since >= limits.sendTimeout:
        reason = .sendTimeout
      default:
        continue
      }
      connections[id]?.phase = .closing
      cuts.append(Cut(socket: connection.socket, reason: reason))
    }
    return cuts
  }
}
