import Synchronization

/// A leader election on a key prefix, through a session's lease (Go's `concurrency.Election`, with the same
/// keys and algorithm, so Go and Swift candidates take part in the same election).
///
/// Each candidate puts the key `prefix + "/" + hex(leaseID)`, holding its value, with its session's lease; the
/// key with the lowest creation revision is the leader, and the others wait in creation order, each watching
/// only the key just ahead of it. Leadership is lost with the session (its key is deleted with the lease).
///
/// ```swift
/// let session = try await EtcdSession(client: client, ttl: .seconds(10))
/// let election = EtcdElection(session: session, prefix: "elections/scheduler")
/// try await election.campaign(value: "node-1")     // returns once elected
/// try await election.proclaim("node-1, epoch 2")   // update the value observers see
/// try await election.resign()                      // let the next candidate lead
/// ```
///
/// One election object campaigns once at a time; a session campaigning twice on one prefix holds one key.
public final class EtcdElection: Sendable {
  /// The session whose lease holds the candidate's key.
  public let session: EtcdSession
  /// The prefix the candidates' keys live under: the name given, and "/".
  public let prefix: [UInt8]

  private struct Candidacy: Sendable {
    var key: [UInt8]
    var revision: Int64
  }

  private struct State: Sendable {
    /// The key and creation revision once campaigning; nil before, and after resigning.
    var candidacy: Candidacy?
    var header: ResponseHeader?
  }

  private let state = Mutex(State())

  /// Creates an election on `name` for a session; nothing is sent until a call.
  ///
  /// ```swift
  /// let election = EtcdElection(session: session, prefix: "elections/scheduler")
  /// ```
  /// - Parameters:
  ///   - session: The session whose lease holds the candidacy.
  ///   - prefix: The election's name; the candidates' keys are put under it and "/" (Go's `NewElection`).
  public init(session: EtcdSession, prefix: some EtcdBytesConvertible) {
    self.session = session
    self.prefix = ConcurrencyKeys.prefix(prefix.etcdBytes)
  }

  /// This candidate's key once it campaigned, until it resigns (Go's `Election.Key()`).
  public var key: [UInt8]? { state.withLock { $0.candidacy?.key } }

  /// The creation revision of this candidate's key once it campaigned, -1 otherwise (Go's `Election.Rev()`).
  public var revision: Int64 { state.withLock { $0.candidacy?.revision ?? -1 } }

  /// The header of the last response that changed the candidacy (Go's `Election.Header()`).
  public var header: ResponseHeader? { state.withLock { $0.header } }

  /// A comparison that holds while this candidate's key is the one it campaigned with: put it in the `if` of
  /// writes done as leader, so they fail once leadership is lost. Never holds before campaigning.
  ///
  /// ```swift
  /// try await client.txn(Txn(if: [election.isLeaderCompare], then: [.put("jobs/owner", "node-1")]))
  /// ```
  public var isLeaderCompare: Compare {
    let candidacy = state.withLock { $0.candidacy }
    let key = candidacy?.key ?? ConcurrencyKeys.key(prefix: prefix, leaseID: session.leaseID.rawValue)
    return Compare.createRevision(key, .equal, candidacy?.revision ?? -1)
  }

  /// Campaigns: joins the election with `value` and returns once this candidate is the leader (Go's
  /// `Election.Campaign`).
  ///
  /// Campaigning again on the same session keeps the place in line and updates the value.
  ///
  /// ```swift
  /// try await election.campaign(value: "10.0.0.1:8080")
  /// // leader now, until resign() or the session ends
  /// ```
  /// - Parameter value: The value the leader's key holds: what `leader()` and `observe()` report.
  /// - Throws: `EtcdError`: `.cancelled` when the Task is cancelled while waiting (the candidate resigns
  ///   first, leaving the line); `.leaseNotFound` when the key vanished before the value could be updated
  ///   (the session's lease was lost). After other errors while waiting the key stays in line, as in Go:
  ///   campaign again to keep the place, or `resign()` to leave.
  public func campaign(value: some EtcdBytesConvertible) async throws(EtcdError) {
    let client = session.client
    let key = ConcurrencyKeys.key(prefix: prefix, leaseID: session.leaseID.rawValue)
    let value = value.etcdBytes
    let wasCandidate = state.withLock { $0.candidacy != nil }
    let response: TxnResponse
    do {
      response = try await client.txn(
        Txn(
          if: [.createRevision(key, .equal, 0)],
          then: [.put(key, value, options: PutOptions(lease: session.leaseID))],
          else: [.get(key)]
        )
      )
    } catch  where error.code == .cancelled && !wasCandidate {
      // The transaction may have put the key before the cancellation cut the call: leave no key behind.
      try? await withoutCancellation { () async throws(EtcdError) in
        _ = try await client.delete(key)
      }
      throw error
    }
    var revision = response.header.revision
    if !response.succeeded {
      guard case .get(let existing)? = response.responses.first, let kv = existing.kvs.first else {
        throw EtcdError(
          code: .invalidResponse,
          status: GRPCStatus(code: .internal, message: "unexpected campaign response: \(response)")
        )
      }
      revision = kv.createRevision
      state.withLock { $0.candidacy = Candidacy(key: key, revision: revision) }
      if kv.value != value {
        guard try await proclaimIfLeader(value) else {
          try? await resign()
          throw EtcdError(
            code: .leaseNotFound,
            status: GRPCStatus(code: .notFound, message: "election: session is expired")
          )
        }
      }
    } else {
      state.withLock { $0.candidacy = Candidacy(key: key, revision: revision) }
    }
    do {
      try await client.waitDeletes(prefix: prefix, maxCreateRevision: revision - 1)
    } catch {
      if error.code == .cancelled {
        // Leave the line, even though this Task is cancelled.
        try? await withoutCancellation { () async throws(EtcdError) in try await self.resign() }
      }
      throw error
    }
    state.withLock { $0.header = response.header }
  }

  /// Updates the leader's value without a new election (Go's `Election.Proclaim`): a transaction that puts
  /// the value only if this candidate's key is still the one it campaigned with.
  ///
  /// ```swift
  /// try await election.proclaim("10.0.0.1:9090")
  /// ```
  /// - Parameter value: The new value.
  /// - Throws: `ElectionError` `.notLeader` when this candidate has not campaigned, has resigned, or its key
  ///   was deleted or re-created (the candidacy is then forgotten); `EtcdError` of the call.
  public func proclaim(_ value: some EtcdBytesConvertible) async throws {
    guard state.withLock({ $0.candidacy != nil }) else {
      throw ElectionError(code: .notLeader, message: "election: not leader")
    }
    guard try await proclaimIfLeader(value.etcdBytes) else {
      throw ElectionError(code: .notLeader, message: "election: not leader")
    }
  }

  /// Puts `value` if the candidacy's key is unchanged; false (forgetting the candidacy) otherwise.
  private func proclaimIfLeader(_ value: [UInt8]) async throws(EtcdError) -> Bool {
    guard let candidacy = state.withLock({ $0.candidacy }) else { return false }
    let response = try await session.client.txn(
      Txn(
        if: [.createRevision(candidacy.key, .equal, candidacy.revision)],
        then: [.put(candidacy.key, value, options: PutOptions(lease: session.leaseID))]
      )
    )
    guard response.succeeded else {
      state.withLock { $0.candidacy = nil }
      return false
    }
    state.withLock { $0.header = response.header }
    return true
  }

  /// Gives up leadership, or leaves the line: deletes this candidate's key if it is still the one it
  /// campaigned with, so the next candidate in creation order leads (Go's `Election.Resign`).
  ///
  /// Does nothing when this candidate has not campaigned.
  ///
  /// ```swift
  /// try await election.resign()
  /// ```
  /// - Throws: `EtcdError` of the call (the candidacy is forgotten all the same).
  public func resign() async throws(EtcdError) {
    guard
      let candidacy = state.withLock({ state in
        defer { state.candidacy = nil }
        return state.candidacy
      })
    else { return }
    let response = try await session.client.txn(
      Txn(
        if: [.createRevision(candidacy.key, .equal, candidacy.revision)],
        then: [.delete(candidacy.key)]
      )
    )
    state.withLock { $0.header = response.header }
  }

  /// Reads the current leader: the candidate key with the lowest creation revision (Go's
  /// `Election.Leader`).
  ///
  /// ```swift
  /// if let leader = try await election.leader() {
  ///   print("leader: \(leader.valueString) (key \(leader.keyString))")
  /// }
  /// ```
  /// - Returns: The leader's key-value pair; nil when there is no leader (Go's `ErrElectionNoLeader`).
  /// - Throws: `EtcdError` of the read.
  public func leader() async throws(EtcdError) -> KeyValue? {
    try await session.client.get(prefix, options: ConcurrencyKeys.firstCreate).kvs.first
  }

  /// The leader's key-value pairs as they change: the current leader's, each proclaimed value, and then the
  /// next leader's once a leader resigns or its session ends (Go's `Election.Observe`).
  ///
  /// ```swift
  /// for try await leader in election.observe() {
  ///   print("leader is \(leader.valueString)")
  /// }
  /// ```
  /// Observing needs no candidacy: any session (or `EtcdElection` on any session) on the prefix can observe.
  public func observe() -> EtcdElectionObservation {
    EtcdElectionObservation(client: session.client, prefix: prefix)
  }
}
