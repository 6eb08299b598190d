/// A broken watch guarantee (etcd's "Watch API guarantees"), as ``WatchGuaranteeChecker`` finds it.
package enum WatchGuaranteeViolation: Hashable, Sendable, CustomStringConvertible {
  /// Ordered: an event of `revision` arrived after an event of the later revision `after`.
  case unordered(revision: Int64, after: Int64)
  /// Unique: the event of `key` at `revision` arrived more than once.
  case duplicate(revision: Int64, key: String)
  /// Atomic: the events of `revision` arrived in more than one response (indices in the watcher's
  /// responses).
  case splitRevision(revision: Int64, responses: [Int])
  /// Reliable: these revisions have events in the watched range that never arrived.
  case gap(missingRevisions: [Int64])
  /// Valid: the events delivered at `revision` (in range, first copies) differ from the log's
  /// events at that revision in the watched range: other values or versions, another order, events
  /// the log does not have, or events before the start revision.
  case unexpectedEvent(revision: Int64, delivered: [WatchEventRecord], expected: [WatchEventRecord])
  /// An event of `key`, outside the watched range, arrived at `revision`.
  case eventOutsideRange(revision: Int64, key: String)
  /// Bookmarkable: a progress notification's header revision is below the last event revision
  /// delivered before it.
  case progressBehind(headerRevision: Int64, lastEventRevision: Int64)

  /// What broke, in one line.
  package var description: String {
    switch self {
    case .unordered(let revision, let after):
      "unordered: an event of revision \(revision) arrived after one of revision \(after)"
    case .duplicate(let revision, let key):
      "duplicate: the event of \(key) at revision \(revision) arrived again"
    case .splitRevision(let revision, let responses):
      "split revision: the events of revision \(revision) arrived in responses \(responses)"
    case .gap(let missingRevisions):
      "gap: no events arrived for revisions \(missingRevisions)"
    case .unexpectedEvent(let revision, let delivered, let expected):
      "unexpected events at revision \(revision): delivered \(delivered), expected \(expected)"
    case .eventOutsideRange(let revision, let key):
      "event outside the watched range: \(key) at revision \(revision)"
    case .progressBehind(let headerRevision, let lastEventRevision):
      "progress notification at revision \(headerRevision) behind the last event revision \(lastEventRevision)"
    }
  }
}
