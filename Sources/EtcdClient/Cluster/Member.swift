/// A member of an etcd cluster (`etcdserverpb.Member`).
public struct Member: Sendable, Hashable {
  /// The member's id.
  public var id: UInt64
  /// The member's name; empty for a member that was added but has not started yet.
  public var name: String
  /// The URLs the member listens on for its peers.
  public var peerURLs: [String]
  /// The URLs the member serves clients on; empty for a member that has not started yet.
  public var clientURLs: [String]
  /// Whether the member is a learner: a non-voting member that receives the log.
  public var isLearner: Bool

  /// Creates a member (public for tests and doubles).
  public init(id: UInt64, name: String, peerURLs: [String], clientURLs: [String], isLearner: Bool) {
    self.id = id
    self.name = name
    self.peerURLs = peerURLs
    self.clientURLs = clientURLs
    self.isLearner = isLearner
  }
}

/// The cluster's members: the result of listing them, and of removing, updating or promoting one.
public struct MemberListResponse: Sendable, Hashable {
  /// The response header.
  public var header: ResponseHeader
  /// Every member of the cluster (after the change, for a change).
  public var members: [Member]

  /// Creates a response (public for tests and doubles).
  public init(header: ResponseHeader, members: [Member]) {
    self.header = header
    self.members = members
  }
}

/// The result of adding a member.
public struct MemberAddResponse: Sendable, Hashable {
  /// The response header.
  public var header: ResponseHeader
  /// The member added, with the id the cluster gave it.
  public var member: Member
  /// Every member of the cluster, the new one included.
  public var members: [Member]

  /// Creates a response (public for tests and doubles).
  public init(header: ResponseHeader, member: Member, members: [Member]) {
    self.header = header
    self.member = member
    self.members = members
  }
}
