import EtcdProto

extension EtcdClient {
  // Maintenance calls act on one member. Each takes `endpoint:`, a configured endpoint (`host:port`) to ask;
  // nil asks the endpoint next in turn. MoveLeader must reach the current leader.

  /// Asks a member for its status: version, database size, leader, raft progress, alarms.
  ///
  /// - Parameters:
  ///   - endpoint: The member to ask, as configured (`host:port`); nil asks the endpoint next in turn. The
  ///     header's `memberID` says who answered.
  ///   - timeout: The call's deadline; the configuration's default when nil.
  /// - Throws: `EtcdError` (`.invalidRequest` for an endpoint the client was not configured with).
  public func status(endpoint: String? = nil, timeout: Duration? = nil) async throws(EtcdError)
    -> StatusResponse
  {
    let response: Etcdserverpb_StatusResponse = try await unary(
      RPCMethod.Maintenance.status,
      Etcdserverpb_StatusRequest(),
      timeout: timeout,
      endpoint: endpoint
    )
    return StatusResponse(response)
  }

  /// Lists the alarms raised in the cluster.
  ///
  /// - Parameter timeout: The call's deadline; the configuration's default when nil.
  /// - Returns: The alarms; empty when none is raised.
  /// - Throws: `EtcdError` (`.invalidResponse` for an alarm type this client does not know).
  public func alarms(timeout: Duration? = nil) async throws(EtcdError) -> [Alarm] {
    let response: Etcdserverpb_AlarmResponse = try await unary(
      RPCMethod.Maintenance.alarm,
      Etcdserverpb_AlarmRequest(action: .get, alarm: nil),
      timeout: timeout
    )
    var alarms: [Alarm] = []
    for alarm in response.alarms { alarms.append(try Alarm(alarm)) }
    return alarms
  }

  /// Disarms an alarm, e.g. `.noSpace` once space has been freed by compaction and defragmentation.
  ///
  /// - Parameters:
  ///   - alarm: The alarm, as `alarms()` lists it.
  ///   - timeout: The call's deadline; the configuration's default when nil.
  /// - Returns: The alarms disarmed: none when `alarm` was not raised.
  /// - Throws: `EtcdError`.
  @discardableResult
  public func disarmAlarm(_ alarm: Alarm, timeout: Duration? = nil) async throws(EtcdError)
    -> AlarmResponse
  {
    let response: Etcdserverpb_AlarmResponse = try await unary(
      RPCMethod.Maintenance.alarm,
      Etcdserverpb_AlarmRequest(action: .deactivate, alarm: alarm),
      timeout: timeout
    )
    var alarms: [Alarm] = []
    for alarm in response.alarms { alarms.append(try Alarm(alarm)) }
    return AlarmResponse(header: ResponseHeader(response.header), alarms: alarms)
  }

  /// Defragments a member's backend database, returning its free space to the file system.
  ///
  /// The member blocks reads and writes while it defragments, so defragment members one at a time.
  /// Calls go round robin over the endpoints, so this defragments the endpoint next in turn.
  ///
  /// - Parameters:
  ///   - endpoint: The member to ask (`host:port` as configured); nil for the next in turn.
  ///   - timeout: The call's deadline; the configuration's default when nil. A large
  ///   database needs a longer one.
  /// - Throws: `EtcdError`.
  @discardableResult
  public func defragment(endpoint: String? = nil, timeout: Duration? = nil) async throws(EtcdError)
    -> DefragmentResponse
  {
    let response: Etcdserverpb_DefragmentResponse = try await unary(
      RPCMethod.Maintenance.defragment,
      Etcdserverpb_DefragmentRequest(),
      timeout: timeout,
      endpoint: endpoint
    )
    return DefragmentResponse(header: ResponseHeader(response.header))
  }

  /// Hashes a member's whole backend database (for testing; use `hashKV(revision:)` to compare
  /// members).
  ///
  /// Calls go round robin over the endpoints, so this asks the endpoint next in turn.
  ///
  /// - Parameters:
  ///   - endpoint: The member to ask (`host:port` as configured); nil for the next in turn.
  ///   - timeout: The call's deadline; the configuration's default when nil.
  /// - Throws: `EtcdError`.
  public func hash(endpoint: String? = nil, timeout: Duration? = nil) async throws(EtcdError)
    -> HashResponse
  {
    let response: Etcdserverpb_HashResponse = try await unary(
      RPCMethod.Maintenance.hash,
      Etcdserverpb_HashRequest(),
      timeout: timeout,
      endpoint: endpoint
    )
    return HashResponse(header: ResponseHeader(response.header), hash: response.hash)
  }

  /// Hashes a member's key-value history up to a revision; consistent members answer the same hash.
  ///
  /// Calls go round robin over the endpoints, so this asks the endpoint next in turn.
  ///
  /// - Parameters:
  ///   - revision: The revision to hash up to; nil for the latest.
  ///   - endpoint: The member to ask (`host:port` as configured); nil for the next in turn.
  ///   - timeout: The call's deadline; the configuration's default when nil.
  /// - Throws: `EtcdError` (`.compacted` for a revision below the compacted one,
  ///   `.futureRevision`).
  public func hashKV(revision: Int64? = nil, endpoint: String? = nil, timeout: Duration? = nil)
    async throws(EtcdError)
    -> HashKVResponse
  {
    var request = Etcdserverpb_HashKVRequest()
    request.revision = revision ?? 0
    let response: Etcdserverpb_HashKVResponse = try await unary(
      RPCMethod.Maintenance.hashKV,
      request,
      timeout: timeout,
      endpoint: endpoint
    )
    return HashKVResponse(response)
  }

  /// Moves the cluster's leadership to another voting member.
  ///
  /// Only the leader can hand its leadership over: the call must reach the leader's endpoint, or it
  /// fails with `.notLeader`. Calls go round robin over the endpoints, so use a client of the
  /// leader's endpoint alone (find it with `status()`, whose `leader` is a member id, and
  /// `memberList()`).
  ///
  /// - Parameters:
  ///   - targetID: The id of the member to become leader.
  ///   - endpoint: The member to ask (`host:port` as configured); nil for the next in turn.
  ///   - timeout: The call's deadline; the configuration's default when nil.
  /// - Throws: `EtcdError` (`.notLeader`, `.badLeaderTransferee` for a learner or an unknown
  ///   member, `.timeout` when the transfer does not finish in time).
  @discardableResult
  public func moveLeader(to targetID: UInt64, endpoint: String? = nil, timeout: Duration? = nil)
    async throws(EtcdError)
    -> MoveLeaderResponse
  {
    var request = Etcdserverpb_MoveLeaderRequest()
    request.targetID = targetID
    let response: Etcdserverpb_MoveLeaderResponse = try await unary(
      RPCMethod.Maintenance.moveLeader,
      request,
      timeout: timeout,
      endpoint: endpoint
    )
    return MoveLeaderResponse(header: ResponseHeader(response.header))
  }

  /// Checks, starts or cancels a downgrade of the cluster's version (etcd 3.5 and later).
  ///
  /// ```swift
  /// let check = try await client.downgrade(.validate, version: "3.4")
  /// print("the cluster at", check.version, "can be downgraded to 3.4")
  /// ```
  /// The server answers after a linearizable read, so the answer reflects every downgrade call
  /// committed before it.
  ///
  /// etcd 3.5 applies `.enable` and `.cancel` but never answers them: the call ends at its deadline
  /// with `.deadlineExceeded`, or with `.timeout` when the server's own request timeout (7 s with
  /// the default election timeout) comes first, although the action took effect. `.validate`
  /// tells: it fails with `.downgradeInProcess` while a downgrade is enabled and succeeds once it
  /// is cancelled, and a `.cancel` with nothing to cancel fails with `.noInflightDowngrade`.
  ///
  /// - Parameters:
  ///   - action: Validate the target version, start the downgrade, or cancel the one in progress.
  ///   - version: The target version, `major.minor` or `major.minor.patch` (the patch is ignored):
  ///     the minor release just below the cluster's version. `.cancel` does not look at it.
  ///   - timeout: The call's deadline; the configuration's default when nil.
  /// - Returns: The cluster's version when the server answered.
  /// - Throws: `EtcdError`: `.unsupportedByServer` from a server older than etcd 3.5 (gRPC
  ///   `UNIMPLEMENTED`); `.wrongDowngradeVersionFormat`, `.invalidDowngradeTargetVersion`,
  ///   `.downgradeInProcess` (validating or enabling while a downgrade is in progress),
  ///   `.noInflightDowngrade` (cancelling when none is), `.clusterVersionUnavailable` (a cluster
  ///   that has not decided its version yet, right after it starts); from etcd 3.5, always
  ///   `.deadlineExceeded` or `.timeout` for an `.enable` or `.cancel` that it accepts.
  @discardableResult
  public func downgrade(_ action: DowngradeAction, version: String, timeout: Duration? = nil)
    async throws(EtcdError) -> DowngradeResponse
  {
    let response: Etcdserverpb_DowngradeResponse = try await unary(
      RPCMethod.Maintenance.downgrade,
      Etcdserverpb_DowngradeRequest(action: action.proto, version: version),
      timeout: timeout
    )
    return DowngradeResponse(response)
  }
}
