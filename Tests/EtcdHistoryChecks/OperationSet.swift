/// A set of operations of one history, by their index in it, as a bitset: the linearized part of a
/// search state, hashed with the model state for the checker's memo.
///
/// It keeps a digest of its members (the XOR of a mixed value per member), updated on each insert
/// and remove, so that hashing it costs the same whatever the history's length.
struct OperationSet: Hashable, Sendable {
  private var words: [UInt64]
  private var digest: UInt64 = 0

  /// An empty set for a history of `count` operations.
  init(count: Int) {
    words = Array(repeating: 0, count: (count + 63) / 64)
  }

  /// Adds operation `index`.
  mutating func insert(_ index: Int) {
    let bit: UInt64 = 1 << UInt64(index & 63)
    guard words[index >> 6] & bit == 0 else { return }
    words[index >> 6] |= bit
    digest ^= Self.mixed(index)
  }

  /// Removes operation `index`.
  mutating func remove(_ index: Int) {
    let bit: UInt64 = 1 << UInt64(index & 63)
    guard words[index >> 6] & bit != 0 else { return }
    words[index >> 6] &= ~bit
    digest ^= Self.mixed(index)
  }

  static func == (lhs: OperationSet, rhs: OperationSet) -> Bool {
    lhs.digest == rhs.digest && lhs.words == rhs.words
  }

  func hash(into hasher: inout Hasher) {
    hasher.combine(digest)
  }

  /// `index` spread over 64 bits (SplitMix64's finalizer), so that XORs of members rarely collide.
  private static func mixed(_ index: Int) -> UInt64 {
    var value = UInt64(truncatingIfNeeded: index) &+ 0x9E37_79B9_7F4A_7C15
    value = (value ^ (value >> 30)) &* 0xBF58_476D_1CE4_E5B9
    value = (value ^ (value >> 27)) &* 0x94D0_49BB_1331_11EB
    return value ^ (value >> 31)
  }
}
