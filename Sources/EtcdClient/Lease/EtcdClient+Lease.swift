import EtcdProto

extension EtcdClient {
  /// Grants a lease: keys put with it are deleted when it expires or is revoked.
  ///
  /// ```swift
  /// let lease = try await client.grantLease(ttl: .seconds(10))
  /// try await client.put("service/a", "127.0.0.1:8080", options: .init(lease: lease.id))
  /// ```
  /// - Parameters:
  ///   - ttl: The time to live, in whole seconds (a fraction rounds up). The server raises a TTL below its
  ///     minimum (about 1.5 times the election timeout) to that minimum.
  ///   - id: The lease's id; nil lets the server choose one.
  ///   - timeout: The call's deadline; the configuration's default when nil.
  /// - Returns: The lease's id and granted TTL.
  /// - Throws: `EtcdError` (`.leaseExist` when `id` is taken, `.leaseTTLTooLarge`).
  public func grantLease(ttl: Duration, id: LeaseID? = nil, timeout: Duration? = nil)
    async throws(EtcdError) -> LeaseGrantResponse
  {
    var request = Etcdserverpb_LeaseGrantRequest()
    request.ttl = ttl.etcdTTLSeconds
    request.id = id.wire
    let response: Etcdserverpb_LeaseGrantResponse = try await unary(
      RPCMethod.Lease.grant,
      request,
      timeout: timeout
    )
    return LeaseGrantResponse(response)
  }

  /// Revokes a lease: the keys attached to it are deleted.
  ///
  /// - Parameters:
  ///   - id: The lease's id.
  ///   - timeout: The call's deadline; the configuration's default when nil.
  /// - Throws: `EtcdError` (`.leaseNotFound` when there is no such lease).
  @discardableResult
  public func revokeLease(_ id: LeaseID, timeout: Duration? = nil) async throws(EtcdError)
    -> LeaseRevokeResponse
  {
    var request = Etcdserverpb_LeaseRevokeRequest()
    request.id = id.rawValue
    let response: Etcdserverpb_LeaseRevokeResponse = try await unary(
      RPCMethod.Lease.revoke,
      request,
      timeout: timeout
    )
    return LeaseRevokeResponse(header: ResponseHeader(response.header))
  }

  /// Asks how long a lease has left, and optionally which keys are attached to it.
  ///
  /// A lease that has expired or never existed is no error: its `ttl` is nil.
  ///
  /// - Parameters:
  ///   - id: The lease's id.
  ///   - keys: Also return the keys attached to the lease.
  ///   - timeout: The call's deadline; the configuration's default when nil.
  /// - Throws: `EtcdError`.
  public func leaseTimeToLive(_ id: LeaseID, keys: Bool = false, timeout: Duration? = nil)
    async throws(EtcdError) -> LeaseTimeToLiveResponse
  {
    var request = Etcdserverpb_LeaseTimeToLiveRequest()
    request.id = id.rawValue
    request.keys = keys
    let response: Etcdserverpb_LeaseTimeToLiveResponse = try await unary(
      RPCMethod.Lease.timeToLive,
      request,
      timeout: timeout
    )
    return LeaseTimeToLiveResponse(response)
  }

  /// Lists the ids of every lease the cluster holds.
  ///
  /// - Parameter timeout: The call's deadline; the configuration's default when nil.
  /// - Returns: The lease ids, in the server's order.
  /// - Throws: `EtcdError`.
  public func leases(timeout: Duration? = nil) async throws(EtcdError) -> [LeaseID] {
    let response: Etcdserverpb_LeaseLeasesResponse = try await unary(
      RPCMethod.Lease.leases,
      Etcdserverpb_LeaseLeasesRequest(),
      timeout: timeout
    )
    return response.leases.map { LeaseID($0.id) }
  }

  /// Keeps a lease alive once: renews its TTL to the granted TTL.
  ///
  /// Opens a LeaseKeepAlive stream, sends one request, reads one response and cancels the stream,
  /// as clientv3's `KeepAliveOnce` does. To keep a lease alive for as long as it is needed, use the
  /// shared keep-alive stream instead.
  ///
  /// - Parameters:
  ///   - id: The lease's id.
  ///   - timeout: The bound on the round trip; the configuration's default when nil.
  /// - Returns: The lease's renewed TTL.
  /// - Throws: `EtcdError`: `.leaseNotFound` (gRPC `NOT_FOUND`) when the lease has expired or never
  ///   existed, which the server answers with a TTL of 0, as clientv3's `ErrLeaseNotFound`.
  @discardableResult
  public func keepAliveOnce(_ id: LeaseID, timeout: Duration? = nil) async throws(EtcdError)
    -> LeaseKeepAliveResponse
  {
    var request = Etcdserverpb_LeaseKeepAliveRequest()
    request.id = id.rawValue
    let framed = try frame(request)
    let response = try await withStreamingCall(
      RPCMethod.Lease.keepAlive,
      timeout: timeout ?? configuration.defaultRequestTimeout
    ) { call throws(EtcdError) in
      call.send(framed)
      var reader = GRPCResponseReader(call, as: Etcdserverpb_LeaseKeepAliveResponse.self)
      guard let response = try await reader.next() else {
        throw EtcdError(
          code: .invalidResponse,
          status: GRPCStatus(
            code: .internal,
            message: "the keep-alive stream ended without a response"
          )
        )
      }
      return LeaseKeepAliveResponse(response)
    }
    guard response.ttl > .zero else {
      throw EtcdError(
        code: .leaseNotFound,
        status: GRPCStatus(code: .notFound, message: "etcdserver: requested lease not found")
      )
    }
    return response
  }
}
