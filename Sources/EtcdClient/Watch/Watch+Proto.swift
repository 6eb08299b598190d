import EtcdProto
import Foundation

extension Etcdserverpb_WatchRequest {
  init(create request: WatchStreamStateMachine.CreateRequest) {
    var create = Etcdserverpb_WatchCreateRequest()
    create.key = Data(request.key)
    create.rangeEnd = Data(request.rangeEnd)
    create.startRevision = request.startRevision
    create.prevKv = request.prevKV
    create.progressNotify = request.progressNotify
    create.fragment = request.fragment
    var filters: [Etcdserverpb_WatchCreateRequest.FilterType] = []
    if request.filterPuts { filters.append(.noput) }
    if request.filterDeletes { filters.append(.nodelete) }
    create.filters = filters
    self.init()
    self.createRequest = create
  }

  init(cancel serverWatchID: Int64) {
    var cancel = Etcdserverpb_WatchCancelRequest()
    cancel.watchID = serverWatchID
    self.init()
    self.cancelRequest = cancel
  }

  static var progress: Etcdserverpb_WatchRequest {
    var request = Etcdserverpb_WatchRequest()
    request.progressRequest = Etcdserverpb_WatchProgressRequest()
    return request
  }
}

extension WatchStreamStateMachine.ServerResponse {
  init(_ proto: Etcdserverpb_WatchResponse) {
    self.init(
      header: ResponseHeader(proto.header),
      watchID: proto.watchID,
      created: proto.created,
      canceled: proto.canceled,
      compactRevision: proto.compactRevision,
      cancelReason: proto.cancelReason,
      fragment: proto.fragment,
      events: proto.events.map(WatchEvent.init)
    )
  }
}

extension WatchEvent {
  init(_ proto: Mvccpb_Event) {
    self.init(
      type: proto.type == .delete ? .delete : .put,
      kv: KeyValue(proto.kv),
      prevKV: proto.hasPrevKv ? KeyValue(proto.prevKv) : nil
    )
  }
}
