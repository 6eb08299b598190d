/// The state of etcd's key-value store as the model sees it: the revision and the live keys.
package struct EtcdKVState: Hashable, Sendable {
  /// The store's revision.
  package var revision: Int64
  /// The live keys, by key.
  package var keys: [String: KeyValueRecord]

  /// Creates a state from its revision and live keys.
  package init(revision: Int64, keys: [KeyValueRecord]) {
    self.revision = revision
    self.keys = Dictionary(keys.map { ($0.key, $0) }, uniquingKeysWith: { _, last in last })
  }

  /// Hashes the revision and the number of live keys only: states the checker compares mostly
  /// differ in those, and hashing every record of every state it remembers would dominate its time.
  /// Equal states hash equally; the rest is left to `==`.
  package func hash(into hasher: inout Hasher) {
    hasher.combine(revision)
    hasher.combine(keys.count)
  }

  /// The live keys in `range`, in key byte order (a range response's `kvs`).
  package func liveKeys(in range: KeyRange) -> [KeyValueRecord] {
    if range.rangeEnd == nil {
      return keys[range.key].map { [$0] } ?? []
    }
    return keys.values.filter { range.contains($0.key) }.sorted {
      KeyRange.precedes($0.key, $1.key)
    }
  }
}
