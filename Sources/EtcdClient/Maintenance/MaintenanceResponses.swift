/// One member's status, as it reports it.
public struct StatusResponse: Sendable, Hashable {
  /// The response header; its `memberID` is the member that answered.
  public var header: ResponseHeader
  /// The member's etcd version, e.g. `3.4.23` or `3.5.1`.
  public var version: String
  /// The size of the member's backend database file in bytes.
  public var dbSize: Int64
  /// The id of the member the answering member holds for the leader; 0 when it knows of none.
  public var leader: UInt64
  /// The member's raft index.
  public var raftIndex: UInt64
  /// The member's raft term.
  public var raftTerm: UInt64
  /// The raft index the member has applied.
  public var raftAppliedIndex: UInt64
  /// The alarms and other errors the member reports (e.g. `memberID:... alarm:NOSPACE`).
  public var errors: [String]
  /// The bytes of the database file in use; the rest is free space a defragmentation would reclaim.
  public var dbSizeInUse: Int64
  /// Whether the member is a learner.
  public var isLearner: Bool

  /// Creates a response (public for tests and doubles).
  public init(
    header: ResponseHeader,
    version: String,
    dbSize: Int64,
    leader: UInt64,
    raftIndex: UInt64,
    raftTerm: UInt64,
    raftAppliedIndex: UInt64,
    errors: [String],
    dbSizeInUse: Int64,
    isLearner: Bool
  ) {
    self.header = header
    self.version = version
    self.dbSize = dbSize
    self.leader = leader
    self.raftIndex = raftIndex
    self.raftTerm = raftTerm
    self.raftAppliedIndex = raftAppliedIndex
    self.errors = errors
    self.dbSizeInUse = dbSizeInUse
    self.isLearner = isLearner
  }
}

/// What an alarm is about.
public enum AlarmType: Sendable, Hashable {
  /// No alarm (the server's `NONE`).
  case none
  /// A member's database exceeded its space quota; the cluster accepts only reads and deletes.
  case noSpace
  /// A member's data was found to be corrupt.
  case corrupt
}

/// An alarm raised by a member of the cluster.
public struct Alarm: Sendable, Hashable {
  /// The member that raised the alarm.
  public var memberID: UInt64
  /// What the alarm is about.
  public var type: AlarmType

  /// Creates an alarm, e.g. to disarm it.
  public init(memberID: UInt64, type: AlarmType) {
    self.memberID = memberID
    self.type = type
  }
}

/// The result of disarming an alarm.
public struct AlarmResponse: Sendable, Hashable {
  /// The response header.
  public var header: ResponseHeader
  /// The alarms that were disarmed: the one asked for, or none when it was not raised.
  public var alarms: [Alarm]

  /// Creates a response (public for tests and doubles).
  public init(header: ResponseHeader, alarms: [Alarm]) {
    self.header = header
    self.alarms = alarms
  }
}

/// The result of defragmenting a member's database.
public struct DefragmentResponse: Sendable, Hashable {
  /// The response header; all zero from etcd 3.4, which sends none for Defragment.
  public var header: ResponseHeader

  /// Creates a response (public for tests and doubles).
  public init(header: ResponseHeader) {
    self.header = header
  }
}

/// A hash of a member's whole backend database.
public struct HashResponse: Sendable, Hashable {
  /// The response header.
  public var header: ResponseHeader
  /// The CRC-32 (Castagnoli) of the database.
  public var hash: UInt32

  /// Creates a response (public for tests and doubles).
  public init(header: ResponseHeader, hash: UInt32) {
    self.header = header
    self.hash = hash
  }
}

/// A hash of a member's key-value history up to a revision: equal on every member that is
/// consistent.
public struct HashKVResponse: Sendable, Hashable {
  /// The response header; its `revision` is the revision hashed when 0 was asked for.
  public var header: ResponseHeader
  /// The CRC-32 (Castagnoli) of the keys and values up to the revision.
  public var hash: UInt32
  /// The member's compacted revision when it computed the hash.
  public var compactRevision: Int64

  /// Creates a response (public for tests and doubles).
  public init(header: ResponseHeader, hash: UInt32, compactRevision: Int64) {
    self.header = header
    self.hash = hash
    self.compactRevision = compactRevision
  }
}

/// The result of moving the cluster's leadership.
public struct MoveLeaderResponse: Sendable, Hashable {
  /// The response header.
  public var header: ResponseHeader

  /// Creates a response (public for tests and doubles).
  public init(header: ResponseHeader) {
    self.header = header
  }
}

/// The result of a downgrade call (etcd 3.5 and later).
public struct DowngradeResponse: Sendable, Hashable {
  /// The response header.
  public var header: ResponseHeader
  /// The cluster's version when the server answered, as `major.minor.0` (e.g. `3.5.0`): the
  /// version the whole cluster runs at, which the lowest release among its members bounds, not the
  /// answering member's release.
  public var version: String

  /// Creates a response (public for tests and doubles).
  public init(header: ResponseHeader, version: String) {
    self.header = header
    self.version = version
  }
}
