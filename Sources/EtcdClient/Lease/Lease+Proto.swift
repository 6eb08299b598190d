import EtcdProto

// Conversions from the generated etcdserverpb lease messages to the public types.

extension LeaseGrantResponse {
  init(_ proto: Etcdserverpb_LeaseGrantResponse) {
    self.init(header: ResponseHeader(proto.header), id: LeaseID(proto.id), ttl: proto.ttl)
  }
}

extension LeaseTimeToLiveResponse {
  init(_ proto: Etcdserverpb_LeaseTimeToLiveResponse) {
    self.init(
      header: ResponseHeader(proto.header),
      id: LeaseID(proto.id),
      ttl: proto.ttl,
      grantedTTL: proto.grantedTtl,
      keys: proto.keys.map { [UInt8]($0) }
    )
  }
}

extension LeaseKeepAliveResponse {
  init(_ proto: Etcdserverpb_LeaseKeepAliveResponse) {
    self.init(header: ResponseHeader(proto.header), id: LeaseID(proto.id), ttl: proto.ttl)
  }
}
