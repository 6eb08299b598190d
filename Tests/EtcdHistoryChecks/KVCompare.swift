/// One condition of a transaction: a field of one key compared with a constant.
package struct KVCompare: Hashable, Sendable, Codable {
  /// The field compared, with the constant it is compared with.
  package enum Target: Hashable, Sendable, Codable {
    /// The value, in byte order. Always false on a missing key.
    case value(String)
    /// The version; a missing key's is 0.
    case version(Int64)
    /// The create revision; a missing key's is 0.
    case createRevision(Int64)
    /// The mod revision; a missing key's is 0.
    case modRevision(Int64)
  }

  /// How the key's field must relate to the constant.
  package enum Result: Hashable, Sendable, Codable {
    /// The field equals the constant.
    case equal
    /// The field differs from the constant.
    case notEqual
    /// The field is less than the constant.
    case less
    /// The field is greater than the constant.
    case greater
  }

  /// The key whose field is compared.
  package var key: String
  /// The field and the constant.
  package var target: Target
  /// The relation that makes the compare true.
  package var result: Result

  /// Creates a compare of `key`'s field.
  package init(key: String, target: Target, result: Result) {
    self.key = key
    self.target = target
    self.result = result
  }

  /// Whether the compare holds on `record`, the key's live record or nil when the key is missing.
  ///
  /// As etcd's `applyCompare`: a `value` compare on a missing key is false; any other target
  /// compares the missing key's field as 0.
  package func holds(on record: KeyValueRecord?) -> Bool {
    let order: Int
    switch target {
    case .value(let value):
      guard let record else { return false }
      order = KeyRange.compare(record.value, value)
    case .version(let version):
      order = Self.compare(record?.version ?? 0, version)
    case .createRevision(let revision):
      order = Self.compare(record?.createRevision ?? 0, revision)
    case .modRevision(let revision):
      order = Self.compare(record?.modRevision ?? 0, revision)
    }
    switch result {
    case .equal: return order == 0
    case .notEqual: return order != 0
    case .less: return order < 0
    case .greater: return order > 0
    }
  }

  private static func compare(_ lhs: Int64, _ rhs: Int64) -> Int {
    lhs == rhs ? 0 : (lhs < rhs ? -1 : 1)
  }
}
