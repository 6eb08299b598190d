extension EtcdMutex {
  /// Acquires the lock, runs `body` while holding it, and releases it afterwards, whether `body` returns,
  /// throws or is cancelled.
  ///
  /// ```swift
  /// let report = try await mutex.withLock {
  ///   try await buildReport()
  /// }
  /// ```
  /// The release runs even when the calling Task was cancelled, bounded by the client's default deadline; if
  /// it fails, the key stays until the session's lease ends. For writes under the lock, put `isOwnerCompare` in
  /// their transactions: the lock is lost if the session's lease is.
  ///
  /// - Parameter body: The work to do under the lock.
  /// - Returns: What `body` returns.
  /// - Throws: `EtcdError` from `lock()`; what `body` throws; `EtcdError` from the release when `body`
  ///   returned.
  @discardableResult
  public func withLock<Result>(_ body: () async throws -> Result) async throws -> Result {
    try await lock()
    let result: Result
    do {
      result = try await body()
    } catch {
      try? await unlockWithoutCancellation()
      throw error
    }
    try await unlockWithoutCancellation()
    return result
  }

  /// Releases the lock in a Task the caller's cancellation does not reach.
  private func unlockWithoutCancellation() async throws(EtcdError) {
    try await withoutCancellation { () async throws(EtcdError) in try await self.unlock() }
  }
}
