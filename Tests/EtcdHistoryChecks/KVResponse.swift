/// The response as the history records it; every response carries the header revision.
package indirect enum KVResponse: Hashable, Sendable, Codable {
  /// A put's response: the revision it created.
  case put(revision: Int64)
  /// A range's response: the store's revision and the live keys in range, in key byte order.
  case range(revision: Int64, kvs: [KeyValueRecord])
  /// A delete's response: the revision after it and how many keys it deleted.
  case delete(revision: Int64, deleted: Int64)
  /// A transaction's response: the revision after it, whether the compares held, and one response
  /// per operation of the branch that ran.
  case txn(revision: Int64, succeeded: Bool, results: [KVResponse])

  /// The header revision.
  package var revision: Int64 {
    switch self {
    case .put(let revision), .range(let revision, _), .delete(let revision, _),
      .txn(let revision, _, _):
      revision
    }
  }

  /// Whether the response shows a write: a put, a delete that deleted something, or a transaction
  /// with one of those among its results. Such a response's revision is a new one.
  package var createsRevision: Bool {
    switch self {
    case .put: true
    case .range: false
    case .delete(_, let deleted): deleted > 0
    case .txn(_, _, let results): results.contains { $0.createsRevision }
    }
  }

  /// Whether `other` says the same as this response.
  ///
  /// The header revisions must be equal; the revisions of a transaction's nested responses are not
  /// compared, since etcd versions fill the nested headers differently: the transaction's own
  /// header revision is the one that orders it.
  package func agrees(with other: KVResponse) -> Bool {
    agrees(with: other, comparingRevision: true)
  }

  private func agrees(with other: KVResponse, comparingRevision: Bool) -> Bool {
    if comparingRevision && revision != other.revision { return false }
    switch (self, other) {
    case (.put, .put):
      return true
    case (.range(_, let kvs), .range(_, let otherKVs)):
      return kvs == otherKVs
    case (.delete(_, let deleted), .delete(_, let otherDeleted)):
      return deleted == otherDeleted
    case (.txn(_, let succeeded, let results), .txn(_, let otherSucceeded, let otherResults)):
      guard succeeded == otherSucceeded, results.count == otherResults.count else { return false }
      return zip(results, otherResults).allSatisfy { $0.agrees(with: $1, comparingRevision: false) }
    default:
      return false
    }
  }
}
