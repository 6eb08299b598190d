// Helpers shared by the session, the mutex and the election: the key layout and the wait for the keys
// ahead in line, as Go's `clientv3/concurrency` (`key.go`, `mutex.go`) has them, so Go and Swift contenders
// on the same prefix queue together.

enum ConcurrencyKeys {
  /// The prefix the contenders' keys live under: `name + "/"`, as Go's `NewMutex` and `NewElection` build it.
  static func prefix(_ name: [UInt8]) -> [UInt8] {
    name + Array("/".utf8)
  }

  /// A contender's key: the prefix and the lease id in lower-case hex, Go's `fmt.Sprintf("%s%x", pfx, lease)`.
  static func key(prefix: [UInt8], leaseID: Int64) -> [UInt8] {
    prefix + Array(String(leaseID, radix: 16).utf8)
  }

  /// The first key by creation revision under the prefix: the owner (Go's `WithFirstCreate`).
  static var firstCreate: GetOptions {
    GetOptions(range: .prefix, limit: 1, sortOrder: .ascend, sortTarget: .createRevision)
  }

  /// The last key by creation revision under the prefix created at or before `maxCreateRevision` (Go's
  /// `WithLastCreate` with `WithMaxCreateRev`).
  static func lastCreate(maxCreateRevision: Int64) -> GetOptions {
    GetOptions(
      range: .prefix,
      limit: 1,
      sortOrder: .descend,
      sortTarget: .createRevision,
      maxCreateRevision: maxCreateRevision
    )
  }
}

extension EtcdClient {
  /// Waits until every key under `prefix` created at or before `maxCreateRevision` is deleted (Go's
  /// `waitDeletes`): reads the newest such key, waits for its deletion, and reads again, so each waiter
  /// watches only the one key just ahead of it instead of the whole prefix.
  ///
  /// - Throws: `EtcdError`; `.cancelled` when the Task is cancelled.
  func waitDeletes(prefix: [UInt8], maxCreateRevision: Int64) async throws(EtcdError) {
    let options = ConcurrencyKeys.lastCreate(maxCreateRevision: maxCreateRevision)
    while true {
      try EtcdError.checkCancellation()
      let response = try await get(prefix, options: options)
      guard let last = response.kvs.first else { return }
      try await waitDelete(key: last.key, after: response.header.revision)
    }
  }

  /// Waits for a DELETE of `key` after `revision`, at which the key was read (Go's `waitDelete`).
  private func waitDelete(key: [UInt8], after revision: Int64) async throws(EtcdError) {
    do {
      for try await response in watch(key, options: WatchOptions(startRevision: revision + 1)) {
        if response.events.contains(where: { $0.type == .delete }) { return }
      }
    } catch {
      throw EtcdError.wrapping(error)
    }
    try EtcdError.checkCancellation()
    throw EtcdError(
      code: .rpcFailed,
      status: GRPCStatus(code: .unavailable, message: "lost watcher waiting for delete")
    )
  }
}

extension EtcdError {
  /// The error for work given up because its Task was cancelled.
  static func cancelledError(_ message: String = "the Task was cancelled") -> EtcdError {
    EtcdError(code: .cancelled, status: GRPCStatus(code: .cancelled, message: message))
  }

  /// Throws `.cancelled` when the current Task is cancelled.
  static func checkCancellation() throws(EtcdError) {
    if Task.isCancelled { throw cancelledError() }
  }

  /// The error as an `EtcdError`: itself, or `.cancelled` for a `CancellationError`, or `.rpcFailed` with it
  /// as the cause (the client's sequences throw nothing else, so this is a backstop).
  static func wrapping(_ error: any Error) -> EtcdError {
    if let error = error as? EtcdError { return error }
    if error is CancellationError { return cancelledError() }
    return EtcdError(
      code: .rpcFailed,
      status: GRPCStatus(code: .unknown, message: "\(error)"),
      cause: error
    )
  }
}

/// Runs `body` in a Task of its own, which the caller's cancellation does not reach: for the clean-up that
/// must still happen after the caller was cancelled (deleting a waiter's key, resigning). Each call inside
/// carries the client's default deadline, which bounds it.
func withoutCancellation<T: Sendable>(
  _ body: @escaping @Sendable () async throws(EtcdError) -> T
) async throws(EtcdError) -> T {
  let result = await Task { () async -> Result<T, EtcdError> in
    do throws(EtcdError) {
      return .success(try await body())
    } catch {
      return .failure(error)
    }
  }.value
  return try result.get()
}
