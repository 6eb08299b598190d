/// The result of a put.
public struct PutResponse: Sendable, Hashable {
  /// The response header; its revision is the put's revision.
  public var header: ResponseHeader
  /// The pair before the put, when `prevKV` was asked and the key existed.
  public var prevKV: KeyValue?
}

/// The result of a read.
public struct GetResponse: Sendable, Hashable {
  /// The response header.
  public var header: ResponseHeader
  /// The pairs read (none with `countOnly`).
  public var kvs: [KeyValue]
  /// Whether more keys matched than `limit` let through.
  public var more: Bool
  /// How many keys matched.
  public var count: Int64
}

/// The result of a delete.
public struct DeleteResponse: Sendable, Hashable {
  /// The response header.
  public var header: ResponseHeader
  /// How many keys were deleted.
  public var deleted: Int64
  /// The deleted pairs, when `prevKV` was asked.
  public var prevKVs: [KeyValue]
}

/// The result of a compaction.
public struct CompactResponse: Sendable, Hashable {
  /// The response header.
  public var header: ResponseHeader
}
