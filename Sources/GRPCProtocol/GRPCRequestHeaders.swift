/// A request's header fields as nghttp2 takes them: names and values back to back in one buffer, each field
/// a pair of ranges into it.
///
/// The fields every request on a connection sends (`:method`, `:scheme`, `:authority`, `content-type`, `te`,
/// `user-agent`) are encoded once per connection (`Common`) and copied in with one `memcpy`; a request adds
/// `:path` before them (pseudo-header fields come first, RFC 9113 8.3), then `grpc-timeout` and its metadata.
/// The buffer is sized up front, so a request costs two allocations (bytes and ranges).
package struct GRPCRequestHeaders {
  /// One field: where its name and its value are in `bytes`.
  package typealias FieldRanges = (name: Range<Int>, value: Range<Int>)

  /// The fields common to every request on one connection, encoded.
  package struct Common {
    /// The names and values, back to back.
    package let bytes: [UInt8]
    /// Each field's name and value in `bytes`.
    package let ranges: [FieldRanges]

    /// Encodes the common fields of a connection to `authority` (`host:port`).
    package init(authority: String, isTLS: Bool, userAgent: String) {
      var headers = GRPCRequestHeaders(capacity: 128, fieldCount: 6)
      headers.append(":method", "POST")
      headers.append(":scheme", isTLS ? "https" : "http")
      headers.append(":authority", authority)
      headers.append("content-type", "application/grpc")
      headers.append("te", "trailers")
      headers.append("user-agent", userAgent)
      bytes = headers.bytes
      ranges = headers.ranges
    }
  }

  /// The names and values, back to back.
  package private(set) var bytes: [UInt8]
  /// Each field's name and value in `bytes`, in order.
  package private(set) var ranges: [FieldRanges]

  /// A request's fields: `:path`, the common ones, `grpc-timeout` when given, then the metadata.
  package init(path: String, common: Common, timeout: String?, metadata: ClientMetadata) {
    var size = 5 + path.utf8.count + common.bytes.count
    var count = 1 + common.ranges.count
    if let timeout {
      size += 12 + timeout.utf8.count
      count += 1
    }
    for field in metadata {
      size += field.name.utf8.count + field.value.utf8.count
      count += 1
    }
    self.init(capacity: size, fieldCount: count)
    append(":path", path)
    let offset = bytes.count
    bytes.append(contentsOf: common.bytes)
    for field in common.ranges {
      ranges.append(
        ((field.name.lowerBound + offset)..<(field.name.upperBound + offset),
         (field.value.lowerBound + offset)..<(field.value.upperBound + offset)))
    }
    if let timeout { append("grpc-timeout", timeout) }
    for field in metadata { append(field.name, field.value) }
  }

  private init(capacity: Int, fieldCount: Int) {
    bytes = []
    bytes.reserveCapacity(capacity)
    ranges = []
    ranges.reserveCapacity(fieldCount)
  }

  private mutating func append(_ name: String, _ value: String) {
    let nameStart = bytes.count
    bytes.append(contentsOf: name.utf8)
    let valueStart = bytes.count
    bytes.append(contentsOf: value.utf8)
    ranges.append((nameStart..<valueStart, valueStart..<bytes.count))
  }

  /// The fields as strings, in order (for tests and diagnostics).
  package var fields: [(name: String, value: String)] {
    ranges.map { field in
      (String(decoding: bytes[field.name], as: UTF8.self), String(decoding: bytes[field.value], as: UTF8.self))
    }
  }
}
