import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Holds the metrics server's connections to their deadlines: keeps a ``ConnectionDeadlines`` fed
/// with libmicrohttpd's connection events and, on a thread of its own, aborts every connection past
/// a deadline: `SO_LINGER` 0, then `shutdown(SHUT_RDWR)`, which libmicrohttpd sees as the peer
/// closing, so it closes the connection on its own thread, and that `close` resets it. The reset
/// frees at once what the kernel still held for the connection: a response a slow reader never
/// read would otherwise stay queued behind the closing handshake.
///
/// A socket is shut down only while its connection is listed, under the same lock that
/// ``connectionClosed(_:)`` takes: libmicrohttpd reports a connection closed before it closes the
/// socket (`MHD_cleanup_connections` and the failure path of `internal_add_connection` call the
/// `MHD_CONNECTION_NOTIFY_CLOSED` notification, then `close`), so a listed socket is never one that
/// was closed and reused.
final class ConnectionSweeper: Sendable {
  /// The connections and their deadlines.
  private let deadlines: Mutex<ConnectionDeadlines>
  /// Counts each connection the sweeper or libmicrohttpd ended, by reason; called before the
  /// connection is aborted, so the count is there by the time its client sees the reset.
  private let record: @Sendable (ConnectionDeadlines.CloseReason) -> Void
  /// How long the sweeping thread sleeps between sweeps.
  let interval: Duration
  /// Set by ``stop()``; the sweeping thread ends at its next wake-up.
  private let stopping = Atomic<Bool>(false)
  /// The sweeping thread, until it is joined.
  private let thread = Mutex<pthread_t?>(nil)

  /// Creates a sweeper; nothing is swept until ``start()``.
  ///
  /// - Parameters:
  ///   - limits: The deadlines and the per-address bound.
  ///   - record: Called for each connection ended early, with the reason (on a server thread or
  ///     the sweeping thread).
  init(
    limits: ConnectionDeadlines.Limits,
    record: @escaping @Sendable (ConnectionDeadlines.CloseReason) -> Void
  ) {
    self.deadlines = Mutex(ConnectionDeadlines(limits: limits))
    self.record = record
    // A tenth of the shortest deadline, so a connection is cut at most 10 % late, within bounds
    // that keep the sweep cheap and ``stop()`` quick.
    let shortest = min(limits.headTimeout, limits.sendTimeout) / 10
    self.interval = min(max(shortest, .milliseconds(10)), .milliseconds(100))
  }

  /// Starts the sweeping thread.
  ///
  /// - Returns: false if the thread cannot be created.
  func start() -> Bool {
    let context = Unmanaged.passRetained(self).toOpaque()
    var created = pthread_t()
    let result = pthread_create(
      &created, nil,
      { context in
        guard let context else { return nil }
        // The retained reference from start(), released when the loop ends.
        let sweeper = Unmanaged<ConnectionSweeper>.fromOpaque(context).takeRetainedValue()
        sweeper.sweepUntilStopped()
        return nil
      }, context)
    guard result == 0 else {
      Unmanaged<ConnectionSweeper>.fromOpaque(context).release()
      return false
    }
    thread.withLock { $0 = created }
    return true
  }

  /// Ends the sweeping thread and waits for it. Idempotent.
  func stop() {
    stopping.store(true, ordering: .releasing)
    if let running = thread.withLock({ $0.take() }) {
      pthread_join(running, nil)
    }
  }

  /// libmicrohttpd accepted a connection; a connection from an address over its limit is shut
  /// down at once.
  func connectionStarted(_ id: ConnectionDeadlines.ID, socket: Int32, address: String) {
    deadlines.withLock { deadlines in
      let action = deadlines.connectionStarted(
        id, socket: socket, address: address, at: .now)
      guard case .refuse(let socket, let reason) = action else { return }
      record(reason)
      Self.abort(socket)
    }
  }

  /// A request line arrived on a connection.
  func requestLineReceived(_ id: ConnectionDeadlines.ID) {
    deadlines.withLock { $0.requestLineReceived(id) }
  }

  /// A connection's request head is complete.
  func headReceived(_ id: ConnectionDeadlines.ID) {
    deadlines.withLock { $0.headReceived(id) }
  }

  /// The handler queued a response on a connection.
  func responseQueued(_ id: ConnectionDeadlines.ID) {
    deadlines.withLock { $0.responseQueued(id, at: .now) }
  }

  /// A request on a connection completed, with the status of the queued response if any.
  func requestCompleted(_ id: ConnectionDeadlines.ID, status: Int?) {
    let reason = deadlines.withLock { $0.requestCompleted(id, status: status, at: .now) }
    if let reason { record(reason) }
  }

  /// libmicrohttpd closed a connection; its socket is closed next.
  func connectionClosed(_ id: ConnectionDeadlines.ID) {
    deadlines.withLock { $0.connectionClosed(id) }
  }

  /// How long a connection waits for its head before the sweeper checks whether its client ended
  /// its side: long enough for libmicrohttpd to read a head that is complete.
  static let endOfStreamPatience = Duration.seconds(1)

  /// Aborts the connections past a deadline now, and those waiting for a head whose client ended
  /// its side.
  func sweep() {
    deadlines.withLock { deadlines in
      let now = ContinuousClock.now
      var cuts = deadlines.deadlinesPassed(at: now)
      for (id, socket) in deadlines.awaitingHead(forAtLeast: Self.endOfStreamPatience, at: now)
      where Self.endedSending(socket) {
        if let cut = deadlines.clientEndedSending(id) { cuts.append(cut) }
      }
      for cut in cuts {
        record(cut.reason)
        Self.abort(cut.socket)
      }
    }
  }

  /// Whether the client of `socket` ended its side with nothing left to read: a peeking read
  /// returns 0 (it reads nothing away from libmicrohttpd). Called with the lock held, so the
  /// socket is still the connection's.
  private static func endedSending(_ socket: Int32) -> Bool {
    var byte: UInt8 = 0
    return recv(socket, &byte, 1, Int32(MSG_PEEK | MSG_DONTWAIT)) == 0
  }

  /// Makes libmicrohttpd close the connection of `socket`, with a reset. Called with the lock held,
  /// so the socket is still the connection's.
  private static func abort(_ socket: Int32) {
    var linger = linger(l_onoff: 1, l_linger: 0)
    setsockopt(socket, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<linger>.size))
    shutdown(socket, Int32(SHUT_RDWR))
  }

  private func sweepUntilStopped() {
    let (seconds, attoseconds) = interval.components
    var pause = timespec(
      tv_sec: Int(seconds), tv_nsec: Int(attoseconds / 1_000_000_000))
    while !stopping.load(ordering: .acquiring) {
      nanosleep(&pause, nil)
      sweep()
    }
  }
}
