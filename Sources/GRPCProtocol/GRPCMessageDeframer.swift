/// Splits a gRPC response body into messages.
///
/// A gRPC body is a sequence of length-prefixed messages: one compression-flag byte, a 4-byte big-endian length,
/// then that many bytes. HTTP/2 DATA frames cut that sequence anywhere, so the deframer accumulates across chunks.
/// A length over the receive limit fails at once, from the prefix alone: the message is never buffered.
///
/// Pure: no I/O, no NIO or nghttp2 types. Each chunk is copied once, into the message it belongs to.
public struct GRPCMessageDeframer: Sendable {
  /// Why a body could not be deframed.
  public enum DeframingError: Error, Hashable, Sendable {
    /// A length prefix announced a message larger than the receive limit.
    case messageTooLarge(length: Int, limit: Int)
    /// The compressed flag was set, but the response named no `grpc-encoding` that this client accepts.
    case compressedMessageWithoutEncoding
    /// The flag byte was neither 0 nor 1.
    case invalidCompressionFlag(UInt8)
  }

  /// The largest message accepted, in bytes (without the 5-byte prefix).
  public let maxMessageLength: Int

  /// Bytes of the current prefix read so far (0...5).
  private var prefixCount = 0
  /// The prefix bytes read so far.
  private var prefix: (UInt8, UInt8, UInt8, UInt8, UInt8) = (0, 0, 0, 0, 0)
  /// The body of the message being read, once its prefix is complete.
  private var body: [UInt8] = []
  /// The length of the message being read, once its prefix is complete.
  private var bodyLength = 0
  /// Whether a prefix is complete and its body is being read.
  private var readingBody = false

  /// The most a message spanning chunks reserves before its bytes arrive (1 MiB); larger ones grow.
  public static let reservationLimit = 1 << 20

  /// Creates a deframer that refuses messages over `maxMessageLength` bytes.
  public init(maxMessageLength: Int) {
    self.maxMessageLength = maxMessageLength
  }

  /// Whether the deframer sits between messages, holding no partial prefix or body.
  ///
  /// A body that ends while this is false was truncated.
  public var isAtMessageBoundary: Bool { prefixCount == 0 && !readingBody }

  /// Feeds one chunk of the body and calls `onMessage` with each message it completes, in order.
  ///
  /// - Throws: `DeframingError`; the deframer must not be used after it threw.
  public mutating func process(
    _ chunk: UnsafeRawBufferPointer,
    onMessage: (_ message: [UInt8]) throws -> Void
  ) throws {
    var index = 0
    let count = chunk.count
    while index < count {
      if !readingBody {
        // Fast path: a whole prefix in this chunk with nothing pending.
        if prefixCount == 0 && count - index >= 5 {
          prefix = (chunk[index], chunk[index + 1], chunk[index + 2], chunk[index + 3], chunk[index + 4])
          index += 5
          prefixCount = 5
        } else {
          while prefixCount < 5 && index < count {
            switch prefixCount {
            case 0: prefix.0 = chunk[index]
            case 1: prefix.1 = chunk[index]
            case 2: prefix.2 = chunk[index]
            case 3: prefix.3 = chunk[index]
            default: prefix.4 = chunk[index]
            }
            prefixCount += 1
            index += 1
          }
          if prefixCount < 5 { return }
        }
        try beginBody()
        if bodyLength == 0 {
          finishMessage()
          try onMessage([])
          continue
        }
        // Fast path: the whole body is in this chunk.
        if count - index >= bodyLength {
          let message = [UInt8](UnsafeRawBufferPointer(rebasing: chunk[index..<(index + bodyLength)]))
          index += bodyLength
          finishMessage()
          try onMessage(message)
          continue
        }
        // The body spans chunks: one buffer for all of it rather than one per doubling, but no more
        // than `reservationLimit` up front for bytes that have not arrived.
        body.reserveCapacity(min(bodyLength, Self.reservationLimit))
      }
      let wanted = bodyLength - body.count
      let available = min(wanted, count - index)
      body.append(contentsOf: UnsafeRawBufferPointer(rebasing: chunk[index..<(index + available)]))
      index += available
      if body.count == bodyLength {
        let message = body
        finishMessage()
        try onMessage(message)
      }
    }
  }

  /// Validates a complete prefix and prepares to read its body.
  private mutating func beginBody() throws {
    switch prefix.0 {
    case 0: break
    case 1: throw DeframingError.compressedMessageWithoutEncoding
    default: throw DeframingError.invalidCompressionFlag(prefix.0)
    }
    let length =
      Int(prefix.1) << 24 | Int(prefix.2) << 16 | Int(prefix.3) << 8 | Int(prefix.4)
    guard length <= maxMessageLength else {
      throw DeframingError.messageTooLarge(length: length, limit: maxMessageLength)
    }
    bodyLength = length
    readingBody = true
    body = []
  }

  /// Returns to the boundary between messages.
  private mutating func finishMessage() {
    prefixCount = 0
    readingBody = false
    bodyLength = 0
    body = []
  }
}

extension GRPCMessageDeframer.DeframingError {
  /// The status a call fails with when its response cannot be deframed (as grpc-go reports it).
  public var status: GRPCStatus {
    switch self {
    case .messageTooLarge(let length, let limit):
      GRPCStatus(
        code: .resourceExhausted,
        message: "received message larger than max (\(length) vs. \(limit))"
      )
    case .compressedMessageWithoutEncoding:
      GRPCStatus(
        code: .internal,
        message: "compressed flag set with identity or empty encoding"
      )
    case .invalidCompressionFlag(let flag):
      GRPCStatus(code: .internal, message: "invalid compression flag \(flag) in message prefix")
    }
  }
}
