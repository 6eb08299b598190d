/// The result of granting a lease.
public struct LeaseGrantResponse: Sendable, Hashable {
  /// The response header.
  public var header: ResponseHeader
  /// The lease's id: the one asked for, or the one the server chose.
  public var id: LeaseID
  /// The lease's time to live, as the server granted it (whole seconds; it may raise a TTL below its
  /// minimum).
  public var ttl: Duration

  /// Creates a response (public for tests and doubles).
  public init(header: ResponseHeader, id: LeaseID, ttl: Duration) {
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
  /// The time the lease has left (whole seconds); nil when it has expired or never existed.
  public var ttl: Duration?
  /// The time to live the lease was granted (or last kept alive) with; zero when it is gone.
  public var grantedTTL: Duration
  /// The keys attached to the lease, when they were asked for.
  public var keys: [[UInt8]]

  /// Creates a response (public for tests and doubles).
  public init(header: ResponseHeader, id: LeaseID, ttl: Duration?, grantedTTL: Duration, keys: [[UInt8]]) {
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
  /// The lease's new time to live (whole seconds); zero or less when the lease is gone.
  public var ttl: Duration

  /// Creates a response (public for tests and doubles).
  public init(header: ResponseHeader, id: LeaseID, ttl: Duration) {
    self.header = header
    self.id = id
    self.ttl = ttl
  }
}
