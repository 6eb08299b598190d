/// A permission a role grants: reading, writing or both, on a key or a range of keys.
public struct Permission: Sendable, Hashable {
  /// What a permission allows.
  public enum PermissionType: Sendable, Hashable {
    /// Reads (Range, Watch).
    case read
    /// Writes (Put, DeleteRange, Txn with writes).
    case write
    /// Reads and writes.
    case readWrite
  }

  /// What the permission allows.
  public var type: PermissionType
  /// The key, or the start of the range.
  public var key: [UInt8]
  /// The end of the range, exclusive; empty for the key alone, `[0]` for every key from `key` on.
  public var rangeEnd: [UInt8]

  /// Creates a permission on the keys `range` selects from `key`, as the KV calls select them.
  ///
  /// ```swift
  /// let permission = Permission(.readWrite, key: "app/", range: .prefix)
  /// ```
  public init(_ type: PermissionType, key: some EtcdBytesConvertible, range: KeyRangeEnd = .single)
  {
    let (key, rangeEnd) = range.encode(key: key.etcdBytes)
    self.init(type: type, key: key, rangeEnd: rangeEnd)
  }

  /// Creates a permission from its fields, as the server returns them.
  public init(type: PermissionType, key: [UInt8], rangeEnd: [UInt8]) {
    self.type = type
    self.key = key
    self.rangeEnd = rangeEnd
  }

  /// The key decoded as UTF-8 (invalid sequences replaced with U+FFFD).
  public var keyString: String { String(decoding: key, as: UTF8.self) }
}

/// The result of an Auth call that returns nothing but its header: enabling or disabling
/// authentication, changing a user or a role.
public struct AuthResponse: Sendable, Hashable {
  /// The response header.
  public var header: ResponseHeader

  /// Creates a response (public for tests and doubles).
  public init(header: ResponseHeader) {
    self.header = header
  }
}

/// Whether authentication is enabled, and the auth store's revision (etcd 3.5 and later).
public struct AuthStatusResponse: Sendable, Hashable {
  /// The response header.
  public var header: ResponseHeader
  /// Whether authentication is enabled.
  public var enabled: Bool
  /// The auth store's revision: it grows with every change of users, roles, permissions or of
  /// authentication itself.
  public var authRevision: UInt64

  /// Creates a response (public for tests and doubles).
  public init(header: ResponseHeader, enabled: Bool, authRevision: UInt64) {
    self.header = header
    self.enabled = enabled
    self.authRevision = authRevision
  }
}
