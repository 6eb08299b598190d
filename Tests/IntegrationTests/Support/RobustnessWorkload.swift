import EtcdHistoryChecks

/// What the clients of a robustness scenario send: a stream of KV requests over a few keys under one prefix,
/// each put writing a value no other put writes, so every read and watch event names the write it saw.
enum RobustnessWorkload: String, CaseIterable, Sendable, Codable, CustomStringConvertible {
  /// Puts, single-key and prefix reads, and deletes.
  case keyValue
  /// Compare-and-swap transactions on a key's mod revision, transactions that write two keys in one revision,
  /// and prefix reads.
  case transactions

  var description: String { rawValue }

  /// One client's requests: the request generator and what the client has seen of each key.
  struct Client: Sendable {
    let workload: RobustnessWorkload
    let index: Int
    let keys: [String]
    let prefix: String
    let prefixEnd: String
    private var random: SplitMix64
    private var written = 0
    /// The mod revision this client last saw for each key (0: absent, or not seen yet).
    private var seenModRevision: [String: Int64] = [:]

    init(workload: RobustnessWorkload, index: Int, prefix: String, keyCount: Int, seed: UInt64) {
      self.workload = workload
      self.index = index
      self.prefix = prefix
      self.prefixEnd = Self.prefixEnd(of: prefix)
      self.keys = (0..<keyCount).map { "\(prefix)k\($0)" }
      self.random = SplitMix64(seed: seed &+ UInt64(index) &* 0x9E37_79B9)
    }

    /// The next request to send.
    mutating func nextRequest() -> KVRequest {
      let roll = random.next(below: 100)
      let keyIndex = random.next(below: keys.count)
      let key = keys[keyIndex]
      switch workload {
      case .keyValue:
        switch roll {
        case ..<45: return .put(key: key, value: nextValue())
        case ..<65: return .range(key: key, rangeEnd: nil)
        case ..<85: return .range(key: prefix, rangeEnd: prefixEnd)
        default: return .delete(key: key, rangeEnd: nil)
        }
      case .transactions:
        switch roll {
        case ..<40:
          let compare = KVCompare(key: key, target: .modRevision(seenModRevision[key] ?? 0), result: .equal)
          return .txn(
            KVTxn(
              compares: [compare], success: [.put(key: key, value: nextValue())],
              failure: [.range(key: key, rangeEnd: nil)]))
        case ..<70:
          let other = keys[(keyIndex + 1 + random.next(below: keys.count - 1)) % keys.count]
          return .txn(
            KVTxn(
              compares: [], success: [.put(key: key, value: nextValue()), .put(key: other, value: nextValue())],
              failure: []))
        case ..<90:
          return .range(key: prefix, rangeEnd: prefixEnd)
        default:
          return .txn(
            KVTxn(
              compares: [KVCompare(key: key, target: .version(0), result: .greater)],
              success: [.delete(key: key, rangeEnd: nil)], failure: [.put(key: key, value: nextValue())]))
        }
      }
    }

    /// Takes note of what a response showed of the keys (for the next compare-and-swap).
    mutating func observe(_ response: KVResponse) {
      switch response {
      case .range(_, let kvs):
        for kv in kvs { seenModRevision[kv.key] = kv.modRevision }
      case .txn(_, _, let results):
        for result in results { observe(result) }
      case .put, .delete:
        break
      }
    }

    private mutating func nextValue() -> String {
      written += 1
      return "c\(index)-\(written)"
    }

    /// The end of the range of keys that start with `prefix` (ASCII prefixes only).
    static func prefixEnd(of prefix: String) -> String {
      var bytes = Array(prefix.utf8)
      bytes[bytes.count - 1] += 1
      return String(decoding: bytes, as: UTF8.self)
    }
  }
}
