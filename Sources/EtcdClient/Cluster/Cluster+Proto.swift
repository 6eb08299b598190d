import EtcdProto

// Conversions from the generated etcdserverpb cluster messages to the public types.

extension Member {
  init(_ proto: Etcdserverpb_Member) {
    self.init(
      id: proto.id,
      name: proto.name,
      peerURLs: proto.peerUrls,
      clientURLs: proto.clientUrls,
      isLearner: proto.isLearner
    )
  }
}

extension MemberListResponse {
  init(header: Etcdserverpb_ResponseHeader, members: [Etcdserverpb_Member]) {
    self.init(header: ResponseHeader(header), members: members.map(Member.init))
  }
}

extension MemberAddResponse {
  init(_ proto: Etcdserverpb_MemberAddResponse) {
    self.init(
      header: ResponseHeader(proto.header),
      member: Member(proto.member),
      members: proto.members.map(Member.init)
    )
  }
}
