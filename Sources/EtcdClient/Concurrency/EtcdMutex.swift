import Synchronization

/// A distributed lock on a key prefix, fair in arrival order, held through a session's lease (Go's
/// `concurrency.Mutex`, with the same keys and algorithm, so Go and Swift contenders exclude each other).
///
/// Each contender puts the key `prefix + "/" + hex(leaseID)` with its session's lease; the key with the lowest
/// creation revision holds the lock, and each waiter watches only the key just ahead of it. The lock is lost
/// when the session is (its key is deleted with the lease): guard writes made under the lock with
/// `isOwnerCompare`.
///
/// ```swift
/// let session = try await EtcdSession(client: client, ttl: .seconds(10))
/// let mutex = EtcdMutex(session: session, prefix: "locks/orders")
/// try await mutex.lock()
/// let txn = Txn(if: [mutex.isOwnerCompare], then: [.put("orders/next", "42")])
/// guard try await client.txn(txn).succeeded else { throw LostTheLock() }
/// try await mutex.unlock()
/// ```
///
/// The lock belongs to the session, not to a Task: two `EtcdMutex`es on one session and prefix share one key,
/// so both "hold" the lock at once, as in Go. To exclude Tasks of one process from each other, give each its
/// own session.
public final class EtcdMutex: Sendable {
  /// The session whose lease holds the key.
  public let session: EtcdSession
  /// The prefix the contenders' keys live under: the name given, and "/".
  public let prefix: [UInt8]
  /// This contender's key: `prefix` and the session's lease id in lower-case hex (Go's `Mutex.Key()`).
  public let key: [UInt8]

  private struct State: Sendable {
    /// The creation revision of the key while held or waited for; -1 otherwise.
    var revision: Int64 = -1
    var header: ResponseHeader?
  }

  private let state = Mutex(State())

  /// Creates a mutex on `name` for a session; nothing is sent until `lock()` or `tryLock()`.
  ///
  /// ```swift
  /// let mutex = EtcdMutex(session: session, prefix: "locks/orders")  // keys "locks/orders/<lease hex>"
  /// ```
  /// - Parameters:
  ///   - session: The session whose lease holds the lock.
  ///   - prefix: The lock's name; the contenders' keys are put under it and "/" (Go's `NewMutex(s, pfx)`).
  public init(session: EtcdSession, prefix: some EtcdBytesConvertible) {
    self.session = session
    self.prefix = ConcurrencyKeys.prefix(prefix.etcdBytes)
    self.key = ConcurrencyKeys.key(prefix: self.prefix, leaseID: session.leaseID.rawValue)
  }

  /// `key` decoded as UTF-8.
  public var keyString: String { String(decoding: key, as: UTF8.self) }

  /// The header of the response by which the lock was acquired (Go's `Mutex.Header()`); nil before.
  public var header: ResponseHeader? { state.withLock { $0.header } }

  /// A comparison that holds while this contender's key is the one it acquired the lock with (Go's
  /// `Mutex.IsOwner()`): put it in the `if` of the transactions done under the lock, so that they fail
  /// instead of writing once the lock is lost (the session's lease expired and the key went with it).
  ///
  /// ```swift
  /// try await client.txn(Txn(if: [mutex.isOwnerCompare], then: [.put("counter", "7")]))
  /// ```
  /// It checks the key, not the line: use it after `lock()` returned. After `unlock()` or a failed
  /// `tryLock()` it never holds (it compares with revision -1).
  public var isOwnerCompare: Compare {
    Compare.createRevision(key, .equal, state.withLock { $0.revision })
  }

  /// Acquires the lock, waiting for the contenders ahead in line (Go's `Mutex.Lock`).
  ///
  /// Calling it while the session already holds the lock returns at once.
  ///
  /// ```swift
  /// try await mutex.lock()
  /// // ... work under the lock, then:
  /// try await mutex.unlock()
  /// ```
  /// `withLock(_:)` releases the lock however the work ends.
  /// - Throws: `EtcdError`: `.cancelled` when the Task is cancelled while waiting (this contender's key is
  ///   deleted first, so it leaves the line); `.leaseNotFound` when the session's lease was lost while
  ///   waiting (its key is gone); other errors of the calls, after which the key is deleted as well.
  public func lock() async throws(EtcdError) {
    let wasHeld = state.withLock { $0.revision > 0 }
    let acquired: (Int64, KeyValue?, ResponseHeader)
    do {
      acquired = try await acquire()
    } catch  where error.code == .cancelled && !wasHeld {
      // The transaction may have put the key before the cancellation cut the call: leave no key behind.
      await leaveLine()
      throw error
    }
    let (revision, owner, header) = acquired
    if owner == nil || owner?.createRevision == revision {
      state.withLock { $0.header = header }
      return
    }
    let current: GetResponse
    do {
      try await session.client.waitDeletes(prefix: prefix, maxCreateRevision: revision - 1)
      // The session may have expired meanwhile, taking the key (and its place) with it.
      current = try await session.client.get(key)
    } catch {
      // Leave the line, even though this Task may be cancelled.
      await leaveLine()
      throw error
    }
    guard !current.kvs.isEmpty else {
      state.withLock { $0.revision = -1 }
      throw EtcdError(
        code: .leaseNotFound,
        status: GRPCStatus(code: .notFound, message: "mutex: session is expired")
      )
    }
    state.withLock { $0.header = current.header }
  }

  /// Acquires the lock if no one holds it, without waiting (Go's `Mutex.TryLock`).
  ///
  /// ```swift
  /// guard try await mutex.tryLock() else { return }  // someone else is doing the job
  /// ```
  /// - Returns: true when the lock is now held by this contender; false when another holds it (Go's
  ///   `ErrLocked`), in which case this contender's key is deleted again and nothing is left behind.
  /// - Throws: `EtcdError` of the calls.
  public func tryLock() async throws(EtcdError) -> Bool {
    let (revision, owner, header) = try await acquire()
    if owner == nil || owner?.createRevision == revision {
      state.withLock { $0.header = header }
      return true
    }
    let key = self.key
    let client = session.client
    try await withoutCancellation { () async throws(EtcdError) in _ = try await client.delete(key) }
    state.withLock { $0.revision = -1 }
    return false
  }

  /// Deletes this contender's key after a failed wait, in a Task the caller's cancellation does not reach; a
  /// failure here leaves the key to the session's lease.
  private func leaveLine() async {
    let key = self.key
    let client = session.client
    try? await withoutCancellation { () async throws(EtcdError) in _ = try await client.delete(key)
    }
    state.withLock { $0.revision = -1 }
  }

  /// Releases the lock: deletes this contender's key, so the next in line acquires it (Go's `Mutex.Unlock`).
  ///
  /// Does nothing when the lock is not held (Go answers `ErrLockReleased`).
  ///
  /// ```swift
  /// try await mutex.unlock()
  /// ```
  /// - Throws: `EtcdError` of the delete.
  public func unlock() async throws(EtcdError) {
    guard state.withLock({ $0.revision }) > 0 else { return }
    try await session.client.delete(key)
    state.withLock { $0.revision = -1 }
  }

  /// Asks the server whether this contender owns the lock now: its key exists with the creation revision by
  /// which it was acquired, and is the first in line.
  ///
  /// For writes under the lock, prefer `isOwnerCompare` in the write's transaction: an answer here may be
  /// stale by the time the next call arrives.
  ///
  /// ```swift
  /// if try await mutex.isOwner() { print("still the owner") }
  /// ```
  /// - Throws: `EtcdError` of the read.
  public func isOwner() async throws(EtcdError) -> Bool {
    let revision = state.withLock { $0.revision }
    guard revision > 0 else { return false }
    let owner = try await session.client.get(prefix, options: ConcurrencyKeys.firstCreate)
    guard let first = owner.kvs.first else { return false }
    return first.key == key && first.createRevision == revision
  }

  /// Puts this contender's key if it is not there, and reads the owner, in one transaction (Go's
  /// `tryAcquire`); records the key's creation revision.
  private func acquire() async throws(EtcdError) -> (Int64, KeyValue?, ResponseHeader) {
    let lease = session.leaseID
    let response = try await session.client.txn(
      Txn(
        if: [.createRevision(key, .equal, 0)],
        // Join the line; the oldest key holds the lock. The owner is read in the same round trip.
        then: [
          .put(key, "", options: PutOptions(lease: lease)),
          .get(prefix, options: ConcurrencyKeys.firstCreate),
        ],
        // The session is already in line (or holds the lock): keep its place.
        else: [.get(key), .get(prefix, options: ConcurrencyKeys.firstCreate)]
      )
    )
    var revision = response.header.revision
    if !response.succeeded {
      guard case .get(let mine)? = response.responses.first, let kv = mine.kvs.first else {
        throw Self.unexpected(response)
      }
      revision = kv.createRevision
    }
    guard response.responses.count == 2, case .get(let owner) = response.responses[1] else {
      throw Self.unexpected(response)
    }
    state.withLock { $0.revision = revision }
    return (revision, owner.kvs.first, response.header)
  }

  private static func unexpected(_ response: TxnResponse) -> EtcdError {
    EtcdError(
      code: .invalidResponse,
      status: GRPCStatus(
        code: .internal, message: "unexpected lock transaction response: \(response)")
    )
  }
}
