/// The keys a request or watcher names, as etcd reads `key` and `rangeEnd`.
///
/// `rangeEnd` nil names the one key; otherwise the range is `[key, rangeEnd)` in byte order, and
/// `rangeEnd` "\0" names every key from `key` on. A prefix comes in as the usual prefix + 1
/// `rangeEnd`.
package struct KeyRange: Hashable, Sendable {
  /// The first key, or the one key.
  package var key: String
  /// The end of the range (exclusive); nil for the one key, "\0" for no end.
  package var rangeEnd: String?

  /// Creates the range that `key` and `rangeEnd` name.
  package init(key: String, rangeEnd: String?) {
    self.key = key
    self.rangeEnd = rangeEnd
  }

  /// Whether `candidate` is in the range.
  package func contains(_ candidate: String) -> Bool {
    guard let rangeEnd else { return candidate == key }
    if KeyRange.precedes(candidate, key) { return false }
    if rangeEnd == "\0" { return true }
    return KeyRange.precedes(candidate, rangeEnd)
  }

  /// Whether `lhs` sorts before `rhs` in byte (UTF-8) order, etcd's key and value order.
  package static func precedes(_ lhs: String, _ rhs: String) -> Bool {
    lhs.utf8.lexicographicallyPrecedes(rhs.utf8)
  }

  /// -1, 0 or 1 as `lhs` sorts before, equal to or after `rhs` in byte order (Go's
  /// `bytes.Compare`).
  package static func compare(_ lhs: String, _ rhs: String) -> Int {
    if lhs == rhs { return 0 }
    return precedes(lhs, rhs) ? -1 : 1
  }
}
