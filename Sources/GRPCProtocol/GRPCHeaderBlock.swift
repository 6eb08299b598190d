/// The fields of one received HEADERS block that gRPC reads.
///
/// The nghttp2 session fills it from its header callbacks; everything else in the block is skipped, so other
/// headers cost no allocation.
public struct GRPCHeaderBlock: Sendable, Hashable {
  /// `:status`, when present and numeric.
  public var httpStatus: Int?
  /// `content-type`.
  public var contentType: String?
  /// `grpc-status`, unparsed.
  public var grpcStatus: String?
  /// `grpc-message`, still percent-encoded.
  public var grpcMessage: String?
  /// `grpc-encoding`.
  public var grpcEncoding: String?

  /// An empty block, as each HEADERS frame starts: one call from EtcdClient, where the initializer
  /// below would evaluate each defaulted field's argument across the module boundary.
  public init() {}

  /// Creates a block; every field defaults to absent.
  public init(
    httpStatus: Int? = nil,
    contentType: String? = nil,
    grpcStatus: String? = nil,
    grpcMessage: String? = nil,
    grpcEncoding: String? = nil
  ) {
    self.httpStatus = httpStatus
    self.contentType = contentType
    self.grpcStatus = grpcStatus
    self.grpcMessage = grpcMessage
    self.grpcEncoding = grpcEncoding
  }

  /// Records one header field by name; fields gRPC does not read are ignored.
  public mutating func record(name: String, value: String) {
    switch name {
    case ":status": httpStatus = Int(value)
    case "content-type": contentType = value
    case "grpc-status": grpcStatus = value
    case "grpc-message": grpcMessage = value
    case "grpc-encoding": grpcEncoding = value
    default: break
    }
  }

  /// Records one header field as nghttp2 hands it over; fields gRPC does not read are ignored.
  ///
  /// Every response carries `content-type: application/grpc`, 16 bytes: one more than a String keeps
  /// inline, so that value is taken from a literal instead of being allocated per call.
  public mutating func record(nameBytes name: UnsafeRawBufferPointer, valueBytes value: UnsafeRawBufferPointer) {
    guard Self.isRecorded(nameBytes: name) else { return }
    record(
      name: String(decoding: name, as: UTF8.self),
      value: Self.isGRPCContentType(value) ? "application/grpc" : String(decoding: value, as: UTF8.self)
    )
  }

  /// Whether `value` is exactly `application/grpc`, compared byte by byte (`elementsEqual` with a
  /// String's UTF-8 view costs more than the allocation it saves).
  private static func isGRPCContentType(_ value: UnsafeRawBufferPointer) -> Bool {
    let literal: StaticString = "application/grpc"
    guard value.count == literal.utf8CodeUnitCount else { return false }
    let expected = UnsafeRawBufferPointer(start: literal.utf8Start, count: literal.utf8CodeUnitCount)
    for index in 0..<expected.count where value[index] != expected[index] { return false }
    return true
  }

  /// Whether a header of this name is one `record(name:value:)` keeps.
  public static func isRecorded(nameBytes name: UnsafeRawBufferPointer) -> Bool {
    guard let first = name.first else { return false }
    // ":status", "content-type", "grpc-…": everything else is skipped without making a String.
    return first == UInt8(ascii: ":") || first == UInt8(ascii: "c") || first == UInt8(ascii: "g")
  }

  /// The status carried by `grpc-status` and `grpc-message`, or nil when `grpc-status` is absent.
  public var status: GRPCStatus? {
    guard let raw = grpcStatus else { return nil }
    let message = grpcMessage.map(GRPCHeaderBlock.percentDecode) ?? ""
    guard let value = Int(raw), let code = GRPCStatusCode(rawValue: value) else {
      return GRPCStatus(code: .unknown, message: message.isEmpty ? "invalid grpc-status \(raw)" : message)
    }
    return GRPCStatus(code: code, message: message)
  }

  /// Decodes `grpc-message`'s percent-encoding; malformed escapes are kept as they are, as gRPC requires.
  public static func percentDecode(_ encoded: String) -> String {
    guard encoded.utf8.contains(UInt8(ascii: "%")) else { return encoded }
    var bytes: [UInt8] = []
    bytes.reserveCapacity(encoded.utf8.count)
    let utf8 = Array(encoded.utf8)
    var index = 0
    while index < utf8.count {
      if utf8[index] == UInt8(ascii: "%"), index + 2 < utf8.count,
        let high = hexValue(utf8[index + 1]), let low = hexValue(utf8[index + 2])
      {
        bytes.append(high << 4 | low)
        index += 3
      } else {
        bytes.append(utf8[index])
        index += 1
      }
    }
    return String(decoding: bytes, as: UTF8.self)
  }

  private static func hexValue(_ byte: UInt8) -> UInt8? {
    switch byte {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
    case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
    case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
    default: nil
    }
  }
}
