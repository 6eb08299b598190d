/// gRPC's length-prefixed message framing, written out plainly from the spec (PROTOCOL-HTTP2.md,
/// "Length-Prefixed-Message"), as the oracle the deframer's fuzz targets compare against.
///
/// Deliberately independent of the client's code: it parses the whole body at once, by index.
public enum GRPCFramingModel {
  /// Why the body stops being valid.
  public enum Failure: Hashable {
    case messageTooLarge(length: Int)
    case compressedFlag
    case invalidFlag(UInt8)
  }

  /// What a body holds.
  public struct Parse: Hashable {
    /// The complete messages, in order.
    public var messages: [[UInt8]] = []
    /// The bytes those messages take up with their prefixes.
    public var consumed = 0
    /// Set when a prefix is invalid; parsing stops there.
    public var failure: Failure?
    /// Whether bytes after `consumed` start a message that has not ended (no failure).
    public var partial = false
  }

  /// Parses `body` with messages limited to `limit` bytes.
  public static func parse(_ body: [UInt8], limit: Int) -> Parse {
    var result = Parse()
    var offset = 0
    while offset < body.count {
      guard body.count - offset >= 5 else {
        result.partial = true
        break
      }
      let flag = body[offset]
      if flag == 1 {
        result.failure = .compressedFlag
        break
      }
      if flag != 0 {
        result.failure = .invalidFlag(flag)
        break
      }
      let length = body[(offset + 1)..<(offset + 5)].reduce(0) { $0 << 8 | Int($1) }
      if length > limit {
        result.failure = .messageTooLarge(length: length)
        break
      }
      guard body.count - offset - 5 >= length else {
        result.partial = true
        break
      }
      result.messages.append(Array(body[(offset + 5)..<(offset + 5 + length)]))
      offset += 5 + length
      result.consumed = offset
    }
    return result
  }

  /// `messages` framed: flag 0 and a big-endian 32-bit length before each.
  public static func frame(_ messages: [[UInt8]]) -> [UInt8] {
    var bytes: [UInt8] = []
    for message in messages {
      let length = UInt32(message.count)
      bytes.append(0)
      for shift in [24, 16, 8, 0] {
        bytes.append(UInt8(truncatingIfNeeded: length >> UInt32(shift)))
      }
      bytes.append(contentsOf: message)
    }
    return bytes
  }
}
