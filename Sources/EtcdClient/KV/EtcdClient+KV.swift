import EtcdProto

extension EtcdClient {
  /// Puts a key-value pair.
  ///
  /// - Parameters:
  ///   - key: The key; must not be empty (the server answers `EtcdError.Code.emptyKey`).
  ///   - value: The value.
  ///   - options: Lease, prevKV, ignoreValue, ignoreLease.
  ///   - timeout: The call's deadline; the configuration's default when nil.
  /// - Returns: The header with the put's revision, and the previous pair when asked.
  /// - Throws: `EtcdError`.
  @discardableResult
  public func put(
    _ key: some EtcdBytesConvertible,
    _ value: some EtcdBytesConvertible,
    options: PutOptions = .init(),
    timeout: Duration? = nil
  ) async throws(EtcdError) -> PutResponse {
    let request = Etcdserverpb_PutRequest(key: key.etcdBytes, value: value.etcdBytes, options: options)
    let response: Etcdserverpb_PutResponse = try await unary(RPCMethod.KV.put, request, timeout: timeout)
    return PutResponse(response)
  }

  /// Reads a key, or a range of keys.
  ///
  /// ```swift
  /// let one = try await client.get("config/a")
  /// let all = try await client.get("config/", options: .prefix)
  /// let old = try await client.get("config/a", options: .init(revision: 42, serializable: true))
  /// ```
  /// - Throws: `EtcdError` (`.compacted` and `.futureRevision` for a revision out of range).
  public func get(
    _ key: some EtcdBytesConvertible,
    options: GetOptions = .init(),
    timeout: Duration? = nil
  ) async throws(EtcdError) -> GetResponse {
    let request = Etcdserverpb_RangeRequest(key: key.etcdBytes, options: options)
    let response: Etcdserverpb_RangeResponse = try await unary(RPCMethod.KV.range, request, timeout: timeout)
    return GetResponse(response)
  }

  /// Deletes a key, or a range of keys.
  /// - Throws: `EtcdError`.
  @discardableResult
  public func delete(
    _ key: some EtcdBytesConvertible,
    options: DeleteOptions = .init(),
    timeout: Duration? = nil
  ) async throws(EtcdError) -> DeleteResponse {
    let request = Etcdserverpb_DeleteRangeRequest(key: key.etcdBytes, options: options)
    let response: Etcdserverpb_DeleteRangeResponse = try await unary(
      RPCMethod.KV.deleteRange,
      request,
      timeout: timeout
    )
    return DeleteResponse(response)
  }

  /// Runs a transaction atomically.
  /// - Throws: `EtcdError` (`.duplicateKey`, `.tooManyOps` for transactions the server refuses).
  public func txn(_ txn: Txn, timeout: Duration? = nil) async throws(EtcdError) -> TxnResponse {
    let response: Etcdserverpb_TxnResponse = try await unary(
      RPCMethod.KV.txn,
      Etcdserverpb_TxnRequest(txn),
      timeout: timeout
    )
    return TxnResponse(response)
  }

  /// Compacts the key-value store's history up to `revision`: older revisions can no longer be read or watched.
  ///
  /// - Parameters:
  ///   - revision: The oldest revision to keep.
  ///   - physical: Wait until the compaction is physically applied to the store.
  ///   - timeout: The call's deadline; the configuration's default when nil.
  /// - Throws: `EtcdError` (`.compacted` when `revision` is already compacted, `.futureRevision` when it is
  ///   newer than the store).
  @discardableResult
  public func compact(revision: Int64, physical: Bool = false, timeout: Duration? = nil)
    async throws(EtcdError) -> CompactResponse
  {
    var request = Etcdserverpb_CompactionRequest()
    request.revision = revision
    request.physical = physical
    let response: Etcdserverpb_CompactionResponse = try await unary(
      RPCMethod.KV.compact,
      request,
      timeout: timeout
    )
    return CompactResponse(header: ResponseHeader(response.header))
  }
}
