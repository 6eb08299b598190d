/// Options of a put (`etcdserverpb.PutRequest`).
public struct PutOptions: Sendable, Hashable {
  /// The lease to attach the key to; nil for none.
  public var lease: LeaseID?
  /// Return the key-value pair as it was before the put.
  public var prevKV: Bool = false
  /// Keep the key's current value (update only the lease); the put fails if the key does not exist.
  public var ignoreValue: Bool = false
  /// Keep the key's current lease; the put fails if the key does not exist.
  public var ignoreLease: Bool = false

  /// Creates options; all default to off.
  public init(lease: LeaseID? = nil, prevKV: Bool = false, ignoreValue: Bool = false, ignoreLease: Bool = false) {
    self.lease = lease
    self.prevKV = prevKV
    self.ignoreValue = ignoreValue
    self.ignoreLease = ignoreLease
  }
}

/// Options of a read (`etcdserverpb.RangeRequest`).
public struct GetOptions: Sendable, Hashable {
  /// How the results are ordered.
  public enum SortOrder: Sendable, Hashable {
    /// Key order as etcd returns it (ascending by key).
    case none
    /// Ascending by `SortTarget`.
    case ascend
    /// Descending by `SortTarget`.
    case descend
  }

  /// What the results are sorted by.
  public enum SortTarget: Sendable, Hashable {
    /// The key.
    case key
    /// The version.
    case version
    /// The creation revision.
    case createRevision
    /// The modification revision.
    case modRevision
    /// The value.
    case value
  }

  /// Which keys to read.
  public var range: KeyRangeEnd = .single
  /// The most keys to return; nil for no limit.
  public var limit: Int64?
  /// The revision to read at; nil for the latest.
  public var revision: Int64?
  /// The order of results.
  public var sortOrder: SortOrder = .none
  /// What results are sorted by.
  public var sortTarget: SortTarget = .key
  /// Read from the member's local store without a consensus round trip (may be stale).
  public var serializable: Bool = false
  /// Return keys without values.
  public var keysOnly: Bool = false
  /// Return only the count of keys.
  public var countOnly: Bool = false
  /// Only keys modified at or after this revision; nil for no bound.
  public var minModRevision: Int64?
  /// Only keys modified at or before this revision; nil for no bound.
  public var maxModRevision: Int64?
  /// Only keys created at or after this revision; nil for no bound.
  public var minCreateRevision: Int64?
  /// Only keys created at or before this revision; nil for no bound.
  public var maxCreateRevision: Int64?

  /// Creates options; the defaults read one key, linearizably, at the latest revision.
  public init(
    range: KeyRangeEnd = .single,
    limit: Int64? = nil,
    revision: Int64? = nil,
    sortOrder: SortOrder = .none,
    sortTarget: SortTarget = .key,
    serializable: Bool = false,
    keysOnly: Bool = false,
    countOnly: Bool = false,
    minModRevision: Int64? = nil,
    maxModRevision: Int64? = nil,
    minCreateRevision: Int64? = nil,
    maxCreateRevision: Int64? = nil
  ) {
    self.range = range
    self.limit = limit
    self.revision = revision
    self.sortOrder = sortOrder
    self.sortTarget = sortTarget
    self.serializable = serializable
    self.keysOnly = keysOnly
    self.countOnly = countOnly
    self.minModRevision = minModRevision
    self.maxModRevision = maxModRevision
    self.minCreateRevision = minCreateRevision
    self.maxCreateRevision = maxCreateRevision
  }

  /// Reads every key with the given key as prefix.
  public static var prefix: GetOptions { GetOptions(range: .prefix) }
}

/// Options of a delete (`etcdserverpb.DeleteRangeRequest`).
public struct DeleteOptions: Sendable, Hashable {
  /// Which keys to delete.
  public var range: KeyRangeEnd = .single
  /// Return the deleted key-value pairs.
  public var prevKV: Bool = false

  /// Creates options; the defaults delete one key.
  public init(range: KeyRangeEnd = .single, prevKV: Bool = false) {
    self.range = range
    self.prevKV = prevKV
  }

  /// Deletes every key with the given key as prefix.
  public static var prefix: DeleteOptions { DeleteOptions(range: .prefix) }
}
