import EtcdProto

extension EtcdClient {
  /// Lists the cluster's members.
  ///
  /// The member the call reaches answers from the membership it has applied, so right after a
  /// member is added or removed, a follower can still list the old set. A linearizable list (etcd
  /// 3.5 and later) waits until the member has applied everything the leader had committed when
  /// the call arrived: it reflects every membership change that completed before the call.
  ///
  /// etcd 3.4 does not know the `linearizable` field and ignores it, without an error: there, a
  /// linearizable list is an ordinary one.
  ///
  /// - Parameters:
  ///   - linearizable: Ask for a linearizable list (etcd 3.5 and later); it needs a leader.
  ///   - timeout: The call's deadline; the configuration's default when nil.
  /// - Throws: `EtcdError` (for a linearizable list from a member that cannot reach a leader,
  ///   `.deadlineExceeded` at the call's deadline, or the server's `.timeout` or `.leaderChanged`).
  public func memberList(linearizable: Bool = false, timeout: Duration? = nil)
    async throws(EtcdError) -> MemberListResponse
  {
    var request = Etcdserverpb_MemberListRequest()
    request.linearizable = linearizable
    let response: Etcdserverpb_MemberListResponse = try await unary(
      RPCMethod.Cluster.memberList,
      request,
      timeout: timeout
    )
    return MemberListResponse(header: response.header, members: response.members)
  }

  /// Adds a member to the cluster. The new member must then be started with
  /// `--initial-cluster-state existing`.
  ///
  /// ```swift
  /// let added = try await client.addMember(peerURLs: ["http://10.0.0.4:2380"], isLearner: true)
  /// // start the member, let it catch up, then:
  /// try await client.promoteMember(id: added.member.id)
  /// ```
  /// - Parameters:
  ///   - peerURLs: The URLs the new member will listen on for its peers.
  ///   - isLearner: Add the member as a learner (non-voting) member.
  ///   - timeout: The call's deadline; the configuration's default when nil.
  /// - Throws: `EtcdError` (`.peerURLExist`, `.memberBadURLs`, `.tooManyLearners`,
  ///   `.memberNotEnoughStarted` when adding a voting member would cost the cluster its quorum,
  ///   `.unhealthy` until every voting member has been connected for 5 seconds, as etcd's strict
  ///   reconfiguration check demands: a freshly started cluster refuses the change for a moment).
  @discardableResult
  public func addMember(peerURLs: [String], isLearner: Bool = false, timeout: Duration? = nil)
    async throws(EtcdError) -> MemberAddResponse
  {
    var request = Etcdserverpb_MemberAddRequest()
    request.peerUrls = peerURLs
    request.isLearner = isLearner
    let response: Etcdserverpb_MemberAddResponse = try await unary(
      RPCMethod.Cluster.memberAdd,
      request,
      timeout: timeout
    )
    return MemberAddResponse(response)
  }

  /// Removes a member from the cluster.
  ///
  /// - Parameters:
  ///   - id: The member's id.
  ///   - timeout: The call's deadline; the configuration's default when nil.
  /// - Returns: The members left.
  /// - Throws: `EtcdError` (`.memberNotFound`, `.memberNotEnoughStarted` when removing it would
  ///   cost the cluster its quorum: on a fresh cluster too, until its members have been connected
  ///   for 5 seconds).
  @discardableResult
  public func removeMember(id: UInt64, timeout: Duration? = nil) async throws(EtcdError)
    -> MemberListResponse
  {
    var request = Etcdserverpb_MemberRemoveRequest()
    request.id = id
    let response: Etcdserverpb_MemberRemoveResponse = try await unary(
      RPCMethod.Cluster.memberRemove,
      request,
      timeout: timeout
    )
    return MemberListResponse(header: response.header, members: response.members)
  }

  /// Changes a member's peer URLs.
  ///
  /// - Parameters:
  ///   - id: The member's id.
  ///   - peerURLs: The member's new peer URLs.
  ///   - timeout: The call's deadline; the configuration's default when nil.
  /// - Returns: The members after the change.
  /// - Throws: `EtcdError` (`.memberNotFound`, `.peerURLExist`, `.memberBadURLs`).
  @discardableResult
  public func updateMember(id: UInt64, peerURLs: [String], timeout: Duration? = nil)
    async throws(EtcdError) -> MemberListResponse
  {
    var request = Etcdserverpb_MemberUpdateRequest()
    request.id = id
    request.peerUrls = peerURLs
    let response: Etcdserverpb_MemberUpdateResponse = try await unary(
      RPCMethod.Cluster.memberUpdate,
      request,
      timeout: timeout
    )
    return MemberListResponse(header: response.header, members: response.members)
  }

  /// Promotes a learner to a voting member.
  ///
  /// - Parameters:
  ///   - id: The learner's id.
  ///   - timeout: The call's deadline; the configuration's default when nil.
  /// - Returns: The members after the change.
  /// - Throws: `EtcdError` (`.memberNotLearner` for a voting member, `.learnerNotReady` for a
  ///   learner that has not caught up with the leader's log, `.memberNotFound`).
  @discardableResult
  public func promoteMember(id: UInt64, timeout: Duration? = nil) async throws(EtcdError)
    -> MemberListResponse
  {
    var request = Etcdserverpb_MemberPromoteRequest()
    request.id = id
    let response: Etcdserverpb_MemberPromoteResponse = try await unary(
      RPCMethod.Cluster.memberPromote,
      request,
      timeout: timeout
    )
    return MemberListResponse(header: response.header, members: response.members)
  }
}
