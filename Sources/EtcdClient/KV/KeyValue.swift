import EtcdProto
public import Foundation

/// A value that can be sent as an etcd key or value: bytes, or a String as its UTF-8 bytes.
public protocol EtcdBytesConvertible: Sendable {
  /// The bytes sent to etcd.
  var etcdBytes: [UInt8] { get }
}

extension String: EtcdBytesConvertible {
  /// The string's UTF-8 bytes.
  public var etcdBytes: [UInt8] { Array(utf8) }
}

extension Substring: EtcdBytesConvertible {
  /// The substring's UTF-8 bytes.
  public var etcdBytes: [UInt8] { Array(utf8) }
}

extension Array: EtcdBytesConvertible where Element == UInt8 {
  /// The bytes themselves.
  public var etcdBytes: [UInt8] { self }
}

extension ArraySlice: EtcdBytesConvertible where Element == UInt8 {
  /// The bytes themselves.
  public var etcdBytes: [UInt8] { Array(self) }
}

extension Data: EtcdBytesConvertible {
  /// The bytes themselves.
  public var etcdBytes: [UInt8] { Array(self) }
}

/// A key and its value at some revision, as etcd stores it (`mvccpb.KeyValue`).
public struct KeyValue: Sendable, Hashable {
  /// The key.
  public var key: [UInt8]
  /// The value (empty for `keysOnly` reads).
  public var value: [UInt8]
  /// The revision of the key's last creation.
  public var createRevision: Int64
  /// The revision of the key's last modification.
  public var modRevision: Int64
  /// The number of modifications since the key's creation (1 on creation).
  public var version: Int64
  /// The lease the key is attached to; nil when none.
  public var lease: LeaseID?

  /// Creates a key-value (public for tests and doubles).
  public init(
    key: [UInt8],
    value: [UInt8],
    createRevision: Int64,
    modRevision: Int64,
    version: Int64,
    lease: LeaseID?
  ) {
    self.key = key
    self.value = value
    self.createRevision = createRevision
    self.modRevision = modRevision
    self.version = version
    self.lease = lease
  }

  /// The key decoded as UTF-8 (invalid sequences replaced with U+FFFD).
  public var keyString: String { String(decoding: key, as: UTF8.self) }
  /// The value decoded as UTF-8 (invalid sequences replaced with U+FFFD).
  public var valueString: String { String(decoding: value, as: UTF8.self) }

  init(_ proto: Mvccpb_KeyValue) {
    self.init(
      key: [UInt8](proto.key),
      value: [UInt8](proto.value),
      createRevision: proto.createRevision,
      modRevision: proto.modRevision,
      version: proto.version,
      lease: LeaseID(wire: proto.lease)
    )
  }
}

/// The header of every etcd response: which cluster and member answered, at which revision and raft term.
public struct ResponseHeader: Sendable, Hashable {
  /// The id of the cluster that answered.
  public var clusterID: UInt64
  /// The id of the member that answered.
  public var memberID: UInt64
  /// The key-value store's revision when the request was applied.
  public var revision: Int64
  /// The raft term when the request was applied.
  public var raftTerm: UInt64

  /// Creates a header (public for tests and doubles).
  public init(clusterID: UInt64, memberID: UInt64, revision: Int64, raftTerm: UInt64) {
    self.clusterID = clusterID
    self.memberID = memberID
    self.revision = revision
    self.raftTerm = raftTerm
  }

  init(_ proto: Etcdserverpb_ResponseHeader) {
    self.init(
      clusterID: proto.clusterID,
      memberID: proto.memberID,
      revision: proto.revision,
      raftTerm: proto.raftTerm
    )
  }
}
