/// The digests of credentials that passed a bcrypt check, so that a scraper sending the same
/// credentials on every scrape costs one bcrypt check, not one per scrape (exporter-toolkit keeps
/// such a cache for the same reason).
///
/// Holds at most `capacity` digests and then replaces the oldest. Only digests are kept, never
/// passwords. A lookup compares against every entry in constant time, so its timing tells nothing
/// about which entries exist.
struct CredentialCache: Sendable {
  /// The most digests kept.
  let capacity: Int
  private var entries: [[UInt8]] = []
  /// Where the next insertion goes once the cache is full.
  private var oldest = 0

  /// Creates an empty cache.
  ///
  /// - Parameter capacity: The most digests kept; at least 1.
  init(capacity: Int) {
    precondition(capacity > 0, "a credential cache holds at least one entry")
    self.capacity = capacity
  }

  /// The number of digests held.
  var count: Int { entries.count }

  /// Whether `digest` is held.
  func contains(_ digest: [UInt8]) -> Bool {
    var found = false
    for entry in entries {
      found = ConstantTime.equal(entry, digest) || found
    }
    return found
  }

  /// Adds `digest` unless it is held, replacing the oldest entry when the cache is full.
  mutating func insert(_ digest: [UInt8]) {
    guard !contains(digest) else { return }
    if entries.count < capacity {
      entries.append(digest)
    } else {
      entries[oldest] = digest
      oldest = (oldest + 1) % capacity
    }
  }
}
