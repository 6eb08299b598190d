/// A view of a client in which every key lives under a prefix, like clientv3's `namespace` package.
///
/// Keys passed in are prefixed; keys returned (in reads, prevKVs, transactions and watch events) come back
/// without the prefix. Ranges stay inside the namespace: a prefix read of "" reads the whole namespace and
/// nothing outside it. Leases are cluster-wide, so `PutOptions.lease` works unchanged.
///
/// ```swift
/// let app = client.namespace("apps/billing/")
/// try await app.put("config", "v1")            // writes "apps/billing/config"
/// let all = try await app.get("", options: .prefix)   // every key of the namespace, prefix stripped
/// ```
public struct EtcdNamespace: Sendable {
  /// The client underneath.
  public let client: EtcdClient
  /// The prefix of every key.
  public let prefix: [UInt8]

  /// Creates a namespace view of `client` under `prefix`.
  public init(client: EtcdClient, prefix: some EtcdBytesConvertible) {
    self.client = client
    self.prefix = prefix.etcdBytes
  }

  // MARK: - KV

  /// Puts a key of the namespace. See `EtcdClient.put(_:_:options:timeout:)`.
  @discardableResult
  public func put(
    _ key: some EtcdBytesConvertible,
    _ value: some EtcdBytesConvertible,
    options: PutOptions = .init(),
    timeout: Duration? = nil
  ) async throws(EtcdError) -> PutResponse {
    strip(try await client.put(prefix + key.etcdBytes, value, options: options, timeout: timeout))
  }

  /// Reads a key or range of the namespace. See `EtcdClient.get(_:options:timeout:)`.
  public func get(
    _ key: some EtcdBytesConvertible,
    options: GetOptions = .init(),
    timeout: Duration? = nil
  ) async throws(EtcdError) -> GetResponse {
    let (key, range) = interval(key.etcdBytes, options.range)
    var options = options
    options.range = range
    return strip(try await client.get(key, options: options, timeout: timeout))
  }

  /// Deletes a key or range of the namespace. See `EtcdClient.delete(_:options:timeout:)`.
  @discardableResult
  public func delete(
    _ key: some EtcdBytesConvertible,
    options: DeleteOptions = .init(),
    timeout: Duration? = nil
  ) async throws(EtcdError) -> DeleteResponse {
    let (key, range) = interval(key.etcdBytes, options.range)
    var options = options
    options.range = range
    return strip(try await client.delete(key, options: options, timeout: timeout))
  }

  /// Runs a transaction whose comparisons and operations name keys of the namespace.
  public func txn(_ txn: Txn, timeout: Duration? = nil) async throws(EtcdError) -> TxnResponse {
    strip(try await client.txn(prefixed(txn), timeout: timeout))
  }

  // MARK: - Watch

  /// Watches a key or range of the namespace; events come back with the prefix stripped.
  public func watch(_ key: some EtcdBytesConvertible, options: WatchOptions = .init())
    -> AsyncThrowingMapSequence<WatchSequence, WatchResponse>
  {
    let (key, range) = interval(key.etcdBytes, options.range)
    var options = options
    options.range = range
    let prefix = self.prefix
    return client.watch(key, options: options).map { response in
      var response = response
      response.events = response.events.map { event in
        WatchEvent(
          type: event.type,
          kv: Self.strip(event.kv, prefix: prefix),
          prevKV: event.prevKV.map { Self.strip($0, prefix: prefix) }
        )
      }
      return response
    }
  }

  // MARK: - Prefixing

  /// The key and range to send for a key and range of the namespace (clientv3's `prefixInterval`).
  func interval(_ key: [UInt8], _ range: KeyRangeEnd) -> ([UInt8], KeyRangeEnd) {
    let (key, end) = range.encode(key: key)
    let prefixedKey = prefix + key
    if end.isEmpty { return (prefixedKey, .single) }
    if end == [0] {
      // "From key" or "everything": up to the end of the namespace, not of the whole key space.
      return (prefixedKey, .end(KeyRangeEnd.prefixEnd(of: prefix)))
    }
    return (prefixedKey, .end(prefix + end))
  }

  func prefixed(_ txn: Txn) -> Txn {
    Txn(
      if: txn.compare.map { compare in
        let (key, range) = interval(compare.key, compare.range)
        var prefixed = compare
        prefixed.key = key
        prefixed.range = range
        return prefixed
      },
      then: txn.success.map(prefixed),
      else: txn.failure.map(prefixed)
    )
  }

  func prefixed(_ operation: TxnOperation) -> TxnOperation {
    switch operation {
    case .put(let key, let value, let options):
      return .put(key: prefix + key, value: value, options: options)
    case .get(let key, var options):
      let (prefixedKey, range) = interval(key, options.range)
      options.range = range
      return .get(key: prefixedKey, options: options)
    case .delete(let key, var options):
      let (prefixedKey, range) = interval(key, options.range)
      options.range = range
      return .delete(key: prefixedKey, options: options)
    case .txn(let txn):
      return .txn(prefixed(txn))
    }
  }

  // MARK: - Stripping

  static func strip(_ kv: KeyValue, prefix: [UInt8]) -> KeyValue {
    var kv = kv
    if kv.key.starts(with: prefix) { kv.key.removeFirst(prefix.count) }
    return kv
  }

  private func strip(_ kv: KeyValue) -> KeyValue { Self.strip(kv, prefix: prefix) }

  private func strip(_ response: PutResponse) -> PutResponse {
    var response = response
    response.prevKV = response.prevKV.map(strip)
    return response
  }

  private func strip(_ response: GetResponse) -> GetResponse {
    var response = response
    response.kvs = response.kvs.map(strip)
    return response
  }

  private func strip(_ response: DeleteResponse) -> DeleteResponse {
    var response = response
    response.prevKVs = response.prevKVs.map(strip)
    return response
  }

  private func strip(_ response: TxnResponse) -> TxnResponse {
    var response = response
    response.responses = response.responses.map { operation in
      switch operation {
      case .put(let put): .put(strip(put))
      case .get(let get): .get(strip(get))
      case .delete(let delete): .delete(strip(delete))
      case .txn(let txn): .txn(strip(txn))
      }
    }
    return response
  }
}

extension EtcdClient {
  /// A view of this client in which every key lives under `prefix`.
  public func namespace(_ prefix: some EtcdBytesConvertible) -> EtcdNamespace {
    EtcdNamespace(client: self, prefix: prefix)
  }
}
