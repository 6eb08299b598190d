/// Comparisons whose running time does not depend on where the inputs differ.
enum ConstantTime {
  /// Whether two byte strings are equal, in time that depends only on their lengths: every byte
  /// is looked at, with no early exit at the first difference. For comparing a secret (a password
  /// hash, a credential digest) with what a client sent.
  ///
  /// - Returns: `true` when both have the same length and bytes.
  static func equal(_ lhs: [UInt8], _ rhs: [UInt8]) -> Bool {
    let length = max(lhs.count, rhs.count)
    var difference: UInt8 = 0
    for index in 0..<length {
      let left = index < lhs.count ? lhs[index] : 0
      let right = index < rhs.count ? rhs[index] : 0
      difference |= left ^ right
    }
    return difference == 0 && lhs.count == rhs.count
  }
}
