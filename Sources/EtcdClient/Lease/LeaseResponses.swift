/// The result of granting a lease.
public struct LeaseGrantResponse: Sendable, Hashable {
  /// The response header.
  public var header: ResponseHeader
  /// The lease's id: the one asked for, or the one the server chose.
  public var id: LeaseID
  /// The lease's time to live in seconds, as the server granted it (it may raise a TTL below its
  /// minimum).
  public var ttl: Int64

  /// Creates a response (public for tests and doubles).
  public init(header: ResponseHeader, id: LeaseID, ttl: Int64) {
    self.header = header
    self.id = id
    self.ttl = ttl
  }
}

/// The result of revoking a lease.
public struct LeaseRevokeResponse: Sendable, Hashable {
  /// The response header.
  public var header: ResponseHeader

  /// Creates a response (public for tests and doubles).
  public init(header: ResponseHeader) {
    self.header = header
  }
}

/// What the server knows of a lease's lifetime.
public struct LeaseTimeToLiveResponse: Sendable, Hashable {
  /// The response header.
  public var header: ResponseHeader
  /// The lease's id.
  public var id: LeaseID
  /// The seconds the lease has left; -1 when it has expired or never existed.
  public var ttl: Int64
  /// The time to live in seconds the lease was granted (or last kept alive) with; 0 when it is
  /// gone.
  public var grantedTTL: Int64
  /// The keys attached to the lease, when they were asked for.
  public var keys: [[UInt8]]

  /// Creates a response (public for tests and doubles).
  public init(header: ResponseHeader, id: LeaseID, ttl: Int64, grantedTTL: Int64, keys: [[UInt8]]) {
    self.header = header
    self.id = id
    self.ttl = ttl
    self.grantedTTL = grantedTTL
    self.keys = keys
  }
}

/// The result of one keep-alive round trip.
public struct LeaseKeepAliveResponse: Sendable, Hashable {
  /// The response header.
  public var header: ResponseHeader
  /// The lease's id.
  public var id: LeaseID
  /// The lease's new time to live in seconds.
  public var ttl: Int64

  /// Creates a response (public for tests and doubles).
  public init(header: ResponseHeader, id: LeaseID, ttl: Int64) {
    self.header = header
    self.id = id
    self.ttl = ttl
  }
}
