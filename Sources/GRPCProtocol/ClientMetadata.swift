/// gRPC metadata sent with a request: ASCII header fields, in order.
public struct ClientMetadata: Sendable, Hashable, Sequence {
  private var fields: [Field] = []

  /// One metadata field.
  public struct Field: Sendable, Hashable {
    /// The name, lower-case.
    public let name: String
    /// The value.
    public let value: String
  }

  /// Creates empty metadata.
  public init() {}

  /// Adds a field. Names are lower-cased, as HTTP/2 requires.
  ///
  /// Names reserved by HTTP/2 and gRPC (starting with `:` or `grpc-`, and `content-type`, `te`) are refused with
  /// a precondition failure: sending them would break the call.
  public mutating func add(_ name: String, _ value: String) {
    let lower = name.lowercased()
    precondition(
      !lower.hasPrefix(":") && !lower.hasPrefix("grpc-") && lower != "content-type" && lower != "te",
      "metadata name '\(name)' is reserved by gRPC"
    )
    fields.append(Field(name: lower, value: value))
  }

  /// The values of every field with this name, in order.
  public subscript(name: String) -> [String] {
    let lower = name.lowercased()
    return fields.filter { $0.name == lower }.map(\.value)
  }

  /// Whether there are no fields.
  public var isEmpty: Bool { fields.isEmpty }

  /// Iterates the fields in order.
  public func makeIterator() -> IndexingIterator<[Field]> { fields.makeIterator() }
}
