import EtcdProto

// Conversions between the public maintenance types and the generated etcdserverpb messages.

extension StatusResponse {
  init(_ proto: Etcdserverpb_StatusResponse) {
    self.init(
      header: ResponseHeader(proto.header),
      version: proto.version,
      dbSize: proto.dbSize,
      leader: proto.leader,
      raftIndex: proto.raftIndex,
      raftTerm: proto.raftTerm,
      raftAppliedIndex: proto.raftAppliedIndex,
      errors: proto.errors,
      dbSizeInUse: proto.dbSizeInUse,
      isLearner: proto.isLearner
    )
  }
}

extension AlarmType {
  /// The type, or nil for one this client does not know (etcd 3.4 and 3.5 have no other).
  init?(_ proto: Etcdserverpb_AlarmType) {
    switch proto {
    case .none: self = .none
    case .nospace: self = .noSpace
    case .corrupt: self = .corrupt
    case .UNRECOGNIZED: return nil
    }
  }

  var proto: Etcdserverpb_AlarmType {
    switch self {
    case .none: .none
    case .noSpace: .nospace
    case .corrupt: .corrupt
    }
  }
}

extension Alarm {
  /// The alarm of a response.
  ///
  /// - Throws: `EtcdError` `.invalidResponse` for an alarm type this client does not know.
  init(_ proto: Etcdserverpb_AlarmMember) throws(EtcdError) {
    guard let type = AlarmType(proto.alarm) else {
      throw EtcdError(
        code: .invalidResponse,
        status: GRPCStatus(code: .internal, message: "unknown alarm type \(proto.alarm.rawValue)")
      )
    }
    self.init(memberID: proto.memberID, type: type)
  }
}

extension Etcdserverpb_AlarmRequest {
  init(action: Etcdserverpb_AlarmRequest.AlarmAction, alarm: Alarm?) {
    self.init()
    self.action = action
    if let alarm {
      self.memberID = alarm.memberID
      self.alarm = alarm.type.proto
    }
  }
}

extension HashKVResponse {
  init(_ proto: Etcdserverpb_HashKVResponse) {
    self.init(
      header: ResponseHeader(proto.header),
      hash: proto.hash,
      compactRevision: proto.compactRevision
    )
  }
}

extension DowngradeAction {
  var proto: Etcdserverpb_DowngradeRequest.DowngradeAction {
    switch self {
    case .validate: .validate
    case .enable: .enable
    case .cancel: .cancel
    }
  }
}

extension Etcdserverpb_DowngradeRequest {
  init(action: Etcdserverpb_DowngradeRequest.DowngradeAction, version: String) {
    self.init()
    self.action = action
    self.version = version
  }
}

extension DowngradeResponse {
  init(_ proto: Etcdserverpb_DowngradeResponse) {
    self.init(header: ResponseHeader(proto.header), version: proto.version)
  }
}
