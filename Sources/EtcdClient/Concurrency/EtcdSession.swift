import Synchronization

/// A lease kept alive in the background for as long as the session is open: the liveness that locks and
/// elections hang their keys on (Go's `concurrency.Session`).
///
/// Opening a session grants a lease (or takes over an existing one) and renews it from a background Task
/// over the client's shared keep-alive stream. Keys put with `leaseID` live as long as the session does.
///
/// ```swift
/// try await withEtcdSession(client: client, ttl: .seconds(10)) { session in   // closed (lease revoked) afterwards
///   let mutex = EtcdMutex(session: session, prefix: "locks/orders")
///   try await mutex.withLock { try await fillOrders() }
/// }
/// ```
///
/// **When the keep-alive ends**, because the lease was revoked or expired on the server (`.leaseNotFound`),
/// no renewal got through within the TTL (`.leaseExpired`), or the client was closed (`.clientClosed`), the
/// session is *orphaned*, as with Go's `Session.Done()`: nothing renews the lease any more, every key put with
/// it is (or soon will be) deleted by the server, and every lock held or leadership won through it must be
/// assumed lost. It does not recover; open a new session. Learn of it with `wait()` or `endReason`.
///
/// A session that is dropped without `close()` stops renewing when it is deinitialised, so its lease
/// expires after its TTL.
public final class EtcdSession: Sendable {
  /// Why a session ended.
  public enum EndReason: Sendable, CustomStringConvertible {
    /// `close()` or `orphan()` was called.
    case closed
    /// The keep-alive ended on its own: the lease is lost (`.leaseNotFound`, `.leaseExpired`,
    /// `.clientClosed`, ...). The session is orphaned.
    case leaseLost(EtcdError)

    /// "closed", or "lease lost: " and the error, for logs.
    public var description: String {
      switch self {
      case .closed: "closed"
      case .leaseLost(let error): "lease lost: \(error)"
      }
    }
  }

  /// The TTL of the sessions' leases unless told otherwise (Go's `defaultSessionTTL`).
  public static let defaultTTL: Duration = .seconds(60)

  /// The client the session talks through.
  public let client: EtcdClient
  /// The session's lease: put keys with it (`PutOptions(lease: session.leaseID)`) to tie them to the session.
  public let leaseID: LeaseID
  /// The lease's TTL, as the server granted it (or as asked, for a taken-over lease).
  public let ttl: Duration

  private let lifecycle: Lifecycle
  private let keepAliveTask: Mutex<Task<Void, Never>?>

  /// Opens a session: grants a lease with `ttl` (or takes over `leaseID`) and starts keeping it alive.
  ///
  /// ```swift
  /// let session = try await EtcdSession(client: client)            // 60 s lease
  /// let short = try await EtcdSession(client: client, ttl: .seconds(5))  // lost 5 s after the last renewal
  /// let resumed = try await EtcdSession(client: client, leaseID: id) // an existing lease, not granted anew
  /// ```
  /// - Parameters:
  ///   - client: The client.
  ///   - ttl: The lease's time to live, in whole seconds (the server raises a TTL below its minimum). Also bounds
  ///     `close()`'s revoke: after a TTL the lease is gone anyway.
  ///   - leaseID: An existing lease to keep alive instead of granting one (Go's `WithLease`); nil to grant.
  /// - Throws: `EtcdError` from the grant.
  public init(client: EtcdClient, ttl: Duration = EtcdSession.defaultTTL, leaseID: LeaseID? = nil)
    async throws(EtcdError)
  {
    self.client = client
    if let leaseID {
      self.leaseID = leaseID
      self.ttl = ttl
    } else {
      let granted = try await client.grantLease(ttl: ttl)
      self.leaseID = granted.id
      self.ttl = granted.ttl
    }
    let lifecycle = Lifecycle()
    self.lifecycle = lifecycle
    self.keepAliveTask = Mutex(nil)
    let id = self.leaseID
    let renewals = client.keepAlive(id)
    // The Task holds the state, not the session, so that dropping the session deinitialises it.
    let task = Task {
      var failure: EtcdError?
      do {
        for try await _ in renewals {}
      } catch {
        failure = EtcdError.wrapping(error)
      }
      lifecycle.finish(failure: failure, leaseID: id)
    }
    keepAliveTask.withLock { $0 = task }
  }

  deinit {
    keepAliveTask.withLock { $0?.cancel() }
  }

  /// Why the session ended; nil while it is alive.
  ///
  /// ```swift
  /// if case .leaseLost(let error)? = session.endReason { print("orphaned: \(error)") }
  /// ```
  public var endReason: EndReason? {
    lifecycle.state.withLock { $0.endReason }
  }

  /// Waits until the session ends: closed, or orphaned because its keep-alive ended (Go's `<-s.Done()`).
  ///
  /// ```swift
  /// try await withThrowingTaskGroup(of: Void.self) { group in
  ///   group.addTask { try await doLeaderWork() }
  ///   group.addTask { _ = try await session.wait(); throw LostLeadership() }
  ///   try await group.next()
  ///   group.cancelAll()
  /// }
  /// ```
  /// - Returns: Why the session ended.
  /// - Throws: `EtcdError` `.cancelled` when the waiting Task is cancelled first.
  @discardableResult
  public func wait() async throws(EtcdError) -> EndReason {
    guard let reason = await lifecycle.wait() else {
      throw EtcdError.cancelledError("waiting for the session's end was cancelled")
    }
    return reason
  }

  /// Stops renewing the lease without revoking it (Go's `Orphan`): the lease, and the keys put with it, expire
  /// after the TTL. Returns once the keep-alive has stopped.
  ///
  /// ```swift
  /// await session.orphan()  // hand the lease over: EtcdSession(client: other, leaseID: session.leaseID)
  /// ```
  public func orphan() async {
    lifecycle.state.withLock { $0.closing = true }
    let task = keepAliveTask.withLock { $0 }
    task?.cancel()
    await task?.value
  }

  /// Closes the session: stops renewing and revokes the lease, so the keys put with it (held locks, won
  /// elections) are deleted at once (Go's `Close`).
  ///
  /// A lease that is already gone (revoked, expired) is no error: the outcome is the one asked for. Calling it
  /// again does nothing more.
  ///
  /// ```swift
  /// try await session.close()
  /// ```
  /// - Parameter timeout: The bound on the revoke; by default the session's TTL, after which the lease
  ///   has expired anyway.
  /// - Throws: `EtcdError` from the revoke (the lease then expires after its TTL).
  public func close(timeout: Duration? = nil) async throws(EtcdError) {
    await orphan()
    do {
      try await client.revokeLease(leaseID, timeout: timeout ?? max(ttl, .seconds(1)))
    } catch  where error.code == .leaseNotFound {
      return
    }
  }

}

/// The session's end, shared with its keep-alive Task (which must not hold the session itself).
private final class Lifecycle: Sendable {
  struct State: Sendable {
    var endReason: EtcdSession.EndReason?
    var closing = false
  }

  let state = Mutex(State())
  /// Fires once `endReason` is set.
  private let ended = OneTimeSignal()

  /// Waits for the end; nil when the waiting Task is cancelled first.
  func wait() async -> EtcdSession.EndReason? {
    guard await ended.wait() else { return nil }
    return state.withLock { $0.endReason }
  }

  /// Records the end of the keep-alive and wakes the waiters.
  func finish(failure: EtcdError?, leaseID: LeaseID) {
    state.withLock { state in
      if state.closing {
        state.endReason = .closed
      } else {
        // The sequence ends without an error only when stopped; on its own, the lease is no longer kept.
        state.endReason = .leaseLost(
          failure
            ?? EtcdError(
              code: .leaseExpired,
              status: GRPCStatus(
                code: .unavailable, message: "the keep-alive of lease \(leaseID) ended")
            )
        )
      }
    }
    ended.fire()
  }
}

/// Runs `body` with a new session and closes the session afterwards (revoking its lease), whether `body`
/// returns or throws.
///
/// ```swift
/// try await withEtcdSession(client: client, ttl: .seconds(10)) { session in
///   let mutex = EtcdMutex(session: session, prefix: "locks/report")
///   try await mutex.lock()
///   try await writeReport()
///   try await mutex.unlock()
/// }
/// ```
/// - Parameters:
///   - client: The client.
///   - ttl: The lease's time to live, in whole seconds.
///   - body: The work to do with the session.
/// - Returns: What `body` returns.
/// - Throws: What `body` throws, or `EtcdError` from opening the session.
@discardableResult
public func withEtcdSession<Result: Sendable>(
  client: EtcdClient,
  ttl: Duration = EtcdSession.defaultTTL,
  _ body: (EtcdSession) async throws -> Result
) async throws -> Result {
  let session = try await EtcdSession(client: client, ttl: ttl)
  let result: Result
  do {
    result = try await body(session)
  } catch {
    try? await session.close()
    throw error
  }
  try await session.close()
  return result
}
