/// A set of operations of one history, by their index in it, as a bitset: the linearized part of a
/// search state, hashed with the model state for the checker's memo.
struct OperationSet: Hashable, Sendable {
  private var words: [UInt64]

  /// An empty set for a history of `count` operations.
  init(count: Int) {
    words = Array(repeating: 0, count: (count + 63) / 64)
  }

  /// Adds operation `index`.
  mutating func insert(_ index: Int) {
    words[index >> 6] |= 1 << UInt64(index & 63)
  }

  /// Removes operation `index`.
  mutating func remove(_ index: Int) {
    words[index >> 6] &= ~(1 << UInt64(index & 63))
  }
}
