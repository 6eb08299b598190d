/// Which keys a read or delete covers, starting at its key.
public enum KeyRangeEnd: Sendable, Hashable {
  /// The key alone.
  case single
  /// Keys from the key up to `end`, exclusive.
  case end([UInt8])
  /// Every key that starts with the key. With an empty key: every key.
  case prefix
  /// Every key greater than or equal to the key.
  case fromKey

  /// The `key` and `range_end` fields to send for `key`, as Go's clientv3 computes them.
  func encode(key: [UInt8]) -> (key: [UInt8], rangeEnd: [UInt8]) {
    switch self {
    case .single:
      return (key, [])
    case .end(let end):
      return (key, end)
    case .prefix:
      if key.isEmpty { return ([0], [0]) }
      return (key, Self.prefixEnd(of: key))
    case .fromKey:
      return (key.isEmpty ? [0] : key, [0])
    }
  }

  /// The first key after every key with this prefix: the prefix with its last byte below 0xff incremented and
  /// what follows dropped; `[0]` (no upper bound) when every byte is 0xff.
  static func prefixEnd(of prefix: [UInt8]) -> [UInt8] {
    var end = prefix
    while let last = end.last {
      if last < 0xff {
        end[end.count - 1] = last + 1
        return end
      }
      end.removeLast()
    }
    return [0]
  }
}
