import EtcdHistoryChecks

/// An etcd history operation answered at `returned`, or pending when `response` is nil.
func operation(
  _ id: Int, _ request: KVRequest, _ call: UInt64, _ returned: UInt64, _ response: KVResponse?,
  client: Int = 0
) -> EtcdHistoryOperation {
  EtcdHistoryOperation(
    id: id, client: client, input: request, call: call,
    outcome: response.map { .returned($0, at: returned) } ?? .pending)
}

/// A live key's record.
func record(_ key: String, _ value: String, create: Int64, mod: Int64, version: Int64)
  -> KeyValueRecord
{
  KeyValueRecord(key: key, value: value, createRevision: create, modRevision: mod, version: version)
}

/// A put event of `kv`.
func putEvent(_ kv: KeyValueRecord) -> WatchEventRecord {
  WatchEventRecord(kind: .put, kv: kv)
}
