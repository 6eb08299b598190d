/// A KV request as the history records it.
package indirect enum KVRequest: Hashable, Sendable, Codable {
  /// Sets `key` to `value`.
  case put(key: String, value: String)
  /// Reads the live keys of ``KeyRange(key:rangeEnd:)``.
  case range(key: String, rangeEnd: String?)
  /// Deletes the live keys of ``KeyRange(key:rangeEnd:)``.
  case delete(key: String, rangeEnd: String?)
  /// A transaction: compares, then one branch of operations, in one revision.
  case txn(KVTxn)

  /// Whether the request can change the store (a put or delete, or a transaction with one in either
  /// branch). A request that cannot is a pure read.
  package var canWrite: Bool {
    switch self {
    case .put, .delete: true
    case .range: false
    case .txn(let txn): (txn.success + txn.failure).contains { $0.canWrite }
    }
  }
}
