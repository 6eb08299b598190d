import EtcdProto

// Conversions from the generated etcdserverpb lease messages to the public types.

extension LeaseGrantResponse {
  init(_ proto: Etcdserverpb_LeaseGrantResponse) {
    self.init(header: ResponseHeader(proto.header), id: LeaseID(proto.id), ttl: .seconds(proto.ttl))
  }
}

extension LeaseTimeToLiveResponse {
  init(_ proto: Etcdserverpb_LeaseTimeToLiveResponse) {
    self.init(
      header: ResponseHeader(proto.header),
      id: LeaseID(proto.id),
      ttl: proto.ttl < 0 ? nil : .seconds(proto.ttl),
      grantedTTL: .seconds(proto.grantedTtl),
      keys: proto.keys.map { [UInt8]($0) }
    )
  }
}

extension LeaseKeepAliveResponse {
  init(_ proto: Etcdserverpb_LeaseKeepAliveResponse) {
    self.init(header: ResponseHeader(proto.header), id: LeaseID(proto.id), ttl: .seconds(proto.ttl))
  }
}

extension Duration {
  /// This duration as an etcd TTL: whole seconds, rounded up.
  var etcdTTLSeconds: Int64 {
    let (seconds, attoseconds) = components
    return attoseconds > 0 ? seconds + 1 : seconds
  }
}
