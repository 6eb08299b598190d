import SwiftProtobuf

/// One outgoing gRPC message with its 5-byte prefix, serialized in place.
///
/// swift-protobuf serializes into any `SwiftProtobufContiguousBytes`: it asks for a buffer of the exact size and
/// writes into it. This type answers with a buffer 5 bytes larger whose prefix (flag 0, big-endian length) is
/// already written, so a request is serialized once, straight into the bytes that go to the wire.
struct GRPCFramedMessage: SwiftProtobufContiguousBytes, Sendable {
  /// The length of the gRPC message prefix.
  static let prefixLength = 5

  /// Prefix and message.
  private(set) var framed: [UInt8]

  /// A framed empty message.
  init() {
    self.init(repeating: 0, count: 0)
  }

  init(repeating: UInt8, count: Int) {
    var framed = [UInt8](repeating: repeating, count: count + Self.prefixLength)
    let length = UInt32(truncatingIfNeeded: count)
    framed[0] = 0
    framed[1] = UInt8(truncatingIfNeeded: length >> 24)
    framed[2] = UInt8(truncatingIfNeeded: length >> 16)
    framed[3] = UInt8(truncatingIfNeeded: length >> 8)
    framed[4] = UInt8(truncatingIfNeeded: length)
    self.framed = framed
  }

  init<S: Sequence>(_ sequence: S) where S.Element == UInt8 {
    let bytes = Array(sequence)
    self.init(repeating: 0, count: bytes.count)
    framed.replaceSubrange(Self.prefixLength..., with: bytes)
  }

  /// The size of the serialized message, without the prefix: what gRFC A66 counts as a message's size.
  var count: Int { framed.count - Self.prefixLength }

  func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
    try framed.withUnsafeBytes { try body(UnsafeRawBufferPointer(rebasing: $0[Self.prefixLength...])) }
  }

  mutating func withUnsafeMutableBytes<R>(
    _ body: (UnsafeMutableRawBufferPointer) throws -> R
  ) rethrows -> R {
    try framed.withUnsafeMutableBytes {
      try body(UnsafeMutableRawBufferPointer(rebasing: $0[Self.prefixLength...]))
    }
  }
}

/// Frames request messages and enforces the send limit.
struct GRPCMessageFramer: Sendable {
  /// The largest message that may be sent, in bytes (without the prefix).
  let maxMessageLength: Int

  /// Serializes `message` into a framed buffer.
  ///
  /// - Throws: `EtcdError` with code `.requestTooLarge` (`RESOURCE_EXHAUSTED`) when the message is over the
  ///   send limit, or `.invalidRequest` when it cannot be serialized. Nothing is sent in either case.
  func frame(_ message: some SwiftProtobuf.Message) throws(EtcdError) -> GRPCFramedMessage {
    let framed: GRPCFramedMessage
    do {
      framed = try message.serializedBytes()
    } catch {
      throw EtcdError(
        code: .invalidRequest,
        status: GRPCStatus(code: .internal, message: "grpc: error while marshaling: \(error)"),
        cause: error
      )
    }
    guard framed.count <= maxMessageLength else {
      throw EtcdError(
        code: .requestTooLarge,
        status: GRPCStatus(
          code: .resourceExhausted,
          message:
            "trying to send message larger than max (\(framed.count) vs. \(maxMessageLength))"
        )
      )
    }
    return framed
  }
}
