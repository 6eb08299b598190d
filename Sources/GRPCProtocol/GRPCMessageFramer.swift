// Public: `frame(_:)` takes any SwiftProtobuf message, and `GRPCFramedMessage` is the buffer swift-protobuf
// serializes into.
public import SwiftProtobuf

/// One outgoing gRPC message with its 5-byte prefix, serialized in place.
///
/// swift-protobuf serializes into any `SwiftProtobufContiguousBytes`: it asks for a buffer of the exact size and
/// writes into it. This type answers with a buffer 5 bytes larger whose prefix (flag 0, big-endian length) is
/// already written, so a request is serialized once, straight into the bytes that go to the wire.
public struct GRPCFramedMessage: SwiftProtobufContiguousBytes, Sendable {
  /// The length of the gRPC message prefix.
  public static let prefixLength = 5

  /// Prefix and message.
  public private(set) var framed: [UInt8]

  /// A framed empty message.
  public init() {
    self.init(repeating: 0, count: 0)
  }
  /// A framed message of `count` bytes, each `repeating`: swift-protobuf asks for the buffer it serializes into
  /// with this.
  public init(repeating: UInt8, count: Int) {
    var framed = [UInt8](repeating: repeating, count: count + Self.prefixLength)
    let length = UInt32(truncatingIfNeeded: count)
    framed[0] = 0
    framed[1] = UInt8(truncatingIfNeeded: length >> 24)
    framed[2] = UInt8(truncatingIfNeeded: length >> 16)
    framed[3] = UInt8(truncatingIfNeeded: length >> 8)
    framed[4] = UInt8(truncatingIfNeeded: length)
    self.framed = framed
  }
  /// A framed message of these bytes.
  public init<S: Sequence>(_ sequence: S) where S.Element == UInt8 {
    let bytes = Array(sequence)
    self.init(repeating: 0, count: bytes.count)
    framed.replaceSubrange(Self.prefixLength..., with: bytes)
  }

  /// The size of the serialized message, without the prefix: what gRFC A66 counts as a message's size.
  @inlinable
  public var count: Int { framed.count - Self.prefixLength }
  /// Calls `body` with the message bytes, without the prefix.
  public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
    try framed.withUnsafeBytes { try body(UnsafeRawBufferPointer(rebasing: $0[Self.prefixLength...])) }
  }
  /// Calls `body` with the message bytes, without the prefix, to write them (swift-protobuf serializes here).
  public mutating func withUnsafeMutableBytes<R>(
    _ body: (UnsafeMutableRawBufferPointer) throws -> R
  ) rethrows -> R {
    try framed.withUnsafeMutableBytes {
      try body(UnsafeMutableRawBufferPointer(rebasing: $0[Self.prefixLength...]))
    }
  }
}

/// Frames request messages and enforces the send limit.
///
/// `frame(_:)` is generic over the message: it is inlinable (with the state it reads
/// public), so that EtcdClient's calls are specialized for each request type rather
/// than going through SwiftProtobuf's witness tables across the module boundary.
public struct GRPCMessageFramer: Sendable {
  /// Why a message was not framed. Nothing is sent in either case.
  public enum FramingError: Error {
    /// The serialized message is over the send limit.
    case messageTooLarge(length: Int, limit: Int)
    /// swift-protobuf could not serialize the message (e.g. a required field is missing).
    case serializationFailed(any Error)

    /// The status a call fails with when its request cannot be framed (as grpc-go reports it).
    public var status: GRPCStatus {
      switch self {
      case .messageTooLarge(let length, let limit):
        GRPCStatus(
          code: .resourceExhausted,
          message: "trying to send message larger than max (\(length) vs. \(limit))"
        )
      case .serializationFailed(let error):
        GRPCStatus(code: .internal, message: "grpc: error while marshaling: \(error)")
      }
    }
  }

  /// The largest message that may be sent, in bytes (without the prefix).
  public let maxMessageLength: Int

  /// Creates a framer that refuses messages over `maxMessageLength` bytes.
  public init(maxMessageLength: Int) {
    self.maxMessageLength = maxMessageLength
  }

  /// Serializes `message` into a framed buffer.
  ///
  /// - Throws: `FramingError.messageTooLarge` when the message is over the send limit,
  ///   `.serializationFailed` when it cannot be serialized.
  @inlinable
  public func frame(
    _ message: some SwiftProtobuf.Message
  ) throws(FramingError) -> GRPCFramedMessage {
    let framed: GRPCFramedMessage
    do {
      framed = try message.serializedBytes()
    } catch {
      throw .serializationFailed(error)
    }
    guard framed.count <= maxMessageLength else {
      throw .messageTooLarge(length: framed.count, limit: maxMessageLength)
    }
    return framed
  }
}
