/// A key's value as a range response or watch event carries it.
///
/// A delete event carries the key and `modRevision` (the delete's revision) only: `value` is empty
/// and `createRevision` and `version` are 0, as etcd sends it.
package struct KeyValueRecord: Hashable, Sendable, Codable {
  /// The key.
  package var key: String
  /// The value.
  package var value: String
  /// The revision of the key's last creation.
  package var createRevision: Int64
  /// The revision of the key's last modification.
  package var modRevision: Int64
  /// The number of puts since the key's last creation (1 after the first put).
  package var version: Int64

  /// Creates a record from its fields.
  package init(
    key: String, value: String, createRevision: Int64, modRevision: Int64, version: Int64
  ) {
    self.key = key
    self.value = value
    self.createRevision = createRevision
    self.modRevision = modRevision
    self.version = version
  }
}

extension KeyValueRecord: CustomStringConvertible {
  /// `key=value@create/mod/version`, for violation reports.
  package var description: String {
    "\(key)=\(value)@\(createRevision)/\(modRevision)/v\(version)"
  }
}
