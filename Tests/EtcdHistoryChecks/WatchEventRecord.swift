/// One event of a watch response as the history records it.
package struct WatchEventRecord: Hashable, Sendable, Codable {
  /// What happened to the key.
  package enum Kind: Hashable, Sendable, Codable {
    /// The key was put.
    case put
    /// The key was deleted.
    case delete
  }

  /// What happened to the key.
  package var kind: Kind
  /// The key after a put; for a delete, the key and `modRevision` (the delete's revision), value
  /// "", `createRevision` and `version` 0.
  package var kv: KeyValueRecord

  /// Creates an event.
  package init(kind: Kind, kv: KeyValueRecord) {
    self.kind = kind
    self.kv = kv
  }

  /// The delete event of `key` at `revision`, as etcd sends it.
  package static func deletion(of key: String, at revision: Int64) -> WatchEventRecord {
    WatchEventRecord(
      kind: .delete,
      kv: KeyValueRecord(key: key, value: "", createRevision: 0, modRevision: revision, version: 0))
  }

  /// The revision the event happened at.
  package var revision: Int64 { kv.modRevision }
}

extension WatchEventRecord: CustomStringConvertible {
  /// `PUT key=value@c/m/vN` or `DELETE key@m`.
  package var description: String {
    switch kind {
    case .put: "PUT \(kv)"
    case .delete: "DELETE \(kv.key)@\(kv.modRevision)"
    }
  }
}
