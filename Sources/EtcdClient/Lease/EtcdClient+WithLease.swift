extension EtcdClient {
  /// Grants a lease, keeps it alive while `body` runs, and revokes it afterwards, whether `body` returns,
  /// throws or is cancelled.
  ///
  /// ```swift
  /// try await client.withLease(ttl: .seconds(10)) { lease in
  ///   try await client.put("service/instance-1", "10.0.0.1:8080", options: .init(lease: lease.id))
  ///   try await serveUntilStopped()
  /// }
  /// ```
  /// The renewals run in a child task of the call. If the lease is lost while `body` runs (revoked or expired
  /// on the server, or no renewal got through within its TTL), `body`'s task is cancelled and the call throws
  /// the keep-alive's error: keys put with the lease are gone, and the work that depended on them stops. The
  /// revoke runs even when the calling Task was cancelled, bounded by the lease's TTL.
  ///
  /// - Parameters:
  ///   - ttl: The lease's time to live, in whole seconds (the server raises a TTL below its minimum).
  ///   - body: The work to do while the lease lives; it receives the grant.
  /// - Returns: What `body` returns.
  /// - Throws: `EtcdError` from the grant; `EtcdError` `.leaseNotFound` or `.leaseExpired` when the lease is
  ///   lost while `body` runs; what `body` throws.
  @discardableResult
  public func withLease<Result: Sendable>(
    ttl: Duration,
    _ body: @escaping @Sendable (LeaseGrantResponse) async throws -> Result
  ) async throws -> Result {
    let lease = try await grantLease(ttl: ttl)
    let outcome: Swift.Result<Result, any Error>
    do {
      let value = try await withThrowingTaskGroup(of: Result?.self) { group in
        group.addTask { try await body(lease) }
        group.addTask {
          for try await _ in self.keepAlive(lease.id) {}
          // The renewals end without an error only when stopped, and they are stopped only by the cancel
          // below, after `body` returned; ending on their own means the lease is no longer kept.
          if Task.isCancelled { return nil }
          throw EtcdError(
            code: .leaseExpired,
            status: GRPCStatus(code: .unavailable, message: "the keep-alive of lease \(lease.id) ended")
          )
        }
        defer { group.cancelAll() }
        while let next = try await group.next() {
          if let value = next { return value }
        }
        // Only reached if both tasks returned nil: the caller's Task was cancelled.
        throw EtcdError.cancelledError("withLease was cancelled")
      }
      outcome = .success(value)
    } catch {
      outcome = .failure(error)
    }
    let client = self
    let bound = max(lease.ttl, .seconds(1))
    // A failed revoke (the lease already lost, the cluster unreachable) leaves the lease to expire on its own.
    _ = try? await withoutCancellation { () async throws(EtcdError) in
      try await client.revokeLease(lease.id, timeout: bound)
    }
    return try outcome.get()
  }
}
