import EtcdProto
import Foundation

// Conversions between the public KV types and the generated etcdserverpb messages. The generated types never
// leave the module.

extension Etcdserverpb_PutRequest {
  init(key: [UInt8], value: [UInt8], options: PutOptions) {
    self.init()
    self.key = Data(key)
    self.value = Data(value)
    self.lease = options.lease.wire
    self.prevKv = options.prevKV
    self.ignoreValue = options.ignoreValue
    self.ignoreLease = options.ignoreLease
  }
}

extension Etcdserverpb_RangeRequest {
  init(key: [UInt8], options: GetOptions) {
    self.init()
    let (key, rangeEnd) = options.range.encode(key: key)
    self.key = Data(key)
    self.rangeEnd = Data(rangeEnd)
    self.limit = options.limit ?? 0
    self.revision = options.revision ?? 0
    self.sortOrder =
      switch options.sortOrder {
      case .none: .none
      case .ascend: .ascend
      case .descend: .descend
      }
    self.sortTarget =
      switch options.sortTarget {
      case .key: .key
      case .version: .version
      case .createRevision: .create
      case .modRevision: .mod
      case .value: .value
      }
    self.serializable = options.serializable
    self.keysOnly = options.keysOnly
    self.countOnly = options.countOnly
    self.minModRevision = options.minModRevision ?? 0
    self.maxModRevision = options.maxModRevision ?? 0
    self.minCreateRevision = options.minCreateRevision ?? 0
    self.maxCreateRevision = options.maxCreateRevision ?? 0
  }
}

extension Etcdserverpb_DeleteRangeRequest {
  init(key: [UInt8], options: DeleteOptions) {
    self.init()
    let (key, rangeEnd) = options.range.encode(key: key)
    self.key = Data(key)
    self.rangeEnd = Data(rangeEnd)
    self.prevKv = options.prevKV
  }
}

extension Etcdserverpb_Compare {
  init(_ compare: Compare) {
    self.init()
    let (key, rangeEnd) = compare.range.encode(key: compare.key)
    self.key = Data(key)
    self.rangeEnd = Data(rangeEnd)
    self.result =
      switch compare.op {
      case .equal: .equal
      case .notEqual: .notEqual
      case .greater: .greater
      case .less: .less
      }
    switch compare.target {
    case .value(let value):
      self.target = .value
      self.value = Data(value)
    case .version(let version):
      self.target = .version
      self.version = version
    case .createRevision(let revision):
      self.target = .create
      self.createRevision = revision
    case .modRevision(let revision):
      self.target = .mod
      self.modRevision = revision
    case .lease(let lease):
      self.target = .lease
      self.lease = lease.wire
    }
  }
}

extension Etcdserverpb_TxnRequest {
  init(_ txn: Txn) {
    self.init()
    self.compare = txn.compare.map(Etcdserverpb_Compare.init)
    self.success = txn.success.map(Etcdserverpb_RequestOp.init)
    self.failure = txn.failure.map(Etcdserverpb_RequestOp.init)
  }
}

extension Etcdserverpb_RequestOp {
  init(_ operation: TxnOperation) {
    self.init()
    switch operation {
    case .put(let key, let value, let options):
      self.requestPut = Etcdserverpb_PutRequest(key: key, value: value, options: options)
    case .get(let key, let options):
      self.requestRange = Etcdserverpb_RangeRequest(key: key, options: options)
    case .delete(let key, let options):
      self.requestDeleteRange = Etcdserverpb_DeleteRangeRequest(key: key, options: options)
    case .txn(let txn):
      self.requestTxn = Etcdserverpb_TxnRequest(txn)
    }
  }
}

extension PutResponse {
  init(_ proto: Etcdserverpb_PutResponse) {
    self.init(
      header: ResponseHeader(proto.header),
      prevKV: proto.hasPrevKv ? KeyValue(proto.prevKv) : nil
    )
  }
}

extension GetResponse {
  init(_ proto: Etcdserverpb_RangeResponse) {
    self.init(
      header: ResponseHeader(proto.header),
      kvs: proto.kvs.map(KeyValue.init),
      more: proto.more,
      count: proto.count
    )
  }
}

extension DeleteResponse {
  init(_ proto: Etcdserverpb_DeleteRangeResponse) {
    self.init(
      header: ResponseHeader(proto.header),
      deleted: proto.deleted,
      prevKVs: proto.prevKvs.map(KeyValue.init)
    )
  }
}

extension TxnResponse {
  init(_ proto: Etcdserverpb_TxnResponse) {
    self.init(
      header: ResponseHeader(proto.header),
      succeeded: proto.succeeded,
      responses: proto.responses.compactMap(TxnOperationResponse.init)
    )
  }
}

extension TxnOperationResponse {
  init?(_ proto: Etcdserverpb_ResponseOp) {
    switch proto.response {
    case .responseRange(let range): self = .get(GetResponse(range))
    case .responsePut(let put): self = .put(PutResponse(put))
    case .responseDeleteRange(let delete): self = .delete(DeleteResponse(delete))
    case .responseTxn(let txn): self = .txn(TxnResponse(txn))
    case nil: return nil
    }
  }
}
