/// Reads structured choices from fuzz bytes, front to back.
///
/// Every read succeeds: past the end it yields zeros and empty arrays, so any byte string is a
/// valid input, and libFuzzer's mutations (which cut, splice and insert anywhere) keep most of
/// the structure. ``FuzzInputWriter`` writes the same structure, for seeds.
public struct FuzzInput {
  private let bytes: [UInt8]
  private var index = 0

  public init(_ data: UnsafeRawBufferPointer) {
    bytes = Array(data)
  }

  /// Whether every byte has been read.
  public var isAtEnd: Bool { index >= bytes.count }

  /// The next byte, or 0 past the end.
  public mutating func byte() -> UInt8 {
    guard index < bytes.count else { return 0 }
    defer { index += 1 }
    return bytes[index]
  }

  /// One of `options`, picked by the next byte.
  public mutating func choose<T>(_ options: [T]) -> T {
    options[Int(byte()) % options.count]
  }

  /// A big-endian `UInt32` from the next 4 bytes.
  public mutating func uint32() -> UInt32 {
    (0..<4).reduce(0) { value, _ in value << 8 | UInt32(byte()) }
  }

  /// A length byte (0...255), then that many bytes (fewer at the end).
  public mutating func byteString() -> [UInt8] {
    let count = min(Int(byte()), bytes.count - min(index, bytes.count))
    defer { index += count }
    return Array(bytes[index..<(index + count)])
  }

  /// ``byteString()`` decoded as UTF-8, invalid sequences replaced, as the transports decode.
  public mutating func string() -> String {
    String(decoding: byteString(), as: UTF8.self)
  }

  /// Every byte not read yet.
  public mutating func rest() -> [UInt8] {
    defer { index = bytes.count }
    return index < bytes.count ? Array(bytes[index...]) : []
  }
}

/// Writes what ``FuzzInput`` reads, to make seeds that reach given states.
public struct FuzzInputWriter {
  public private(set) var bytes: [UInt8] = []

  public init() {}

  public mutating func byte(_ value: UInt8) { bytes.append(value) }

  /// The choice of `options[index]` for ``FuzzInput/choose(_:)``.
  public mutating func choice(_ index: Int) { bytes.append(UInt8(index)) }

  public mutating func uint32(_ value: UInt32) {
    for shift in [24, 16, 8, 0] { bytes.append(UInt8(truncatingIfNeeded: value >> UInt32(shift))) }
  }

  /// A length byte and `value` (at most 255 bytes).
  public mutating func byteString(_ value: [UInt8]) {
    precondition(value.count <= 255, "a seed's byte string is at most 255 bytes")
    bytes.append(UInt8(value.count))
    bytes.append(contentsOf: value)
  }

  public mutating func string(_ value: String) { byteString(Array(value.utf8)) }

  public mutating func rest(_ value: [UInt8]) { bytes.append(contentsOf: value) }
}
