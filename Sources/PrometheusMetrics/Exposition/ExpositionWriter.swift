/// The byte buffer the exposition formats write into: number formatting as Go's client does,
/// escaping, protobuf varints and length prefixes, without allocating beyond the buffer itself.
struct ExpositionWriter {
  /// The bytes written so far.
  var bytes: [UInt8]

  init(reservingCapacity capacity: Int = 4096) {
    bytes = []
    bytes.reserveCapacity(capacity)
  }

  /// Writes after the bytes of `buffer`, taking over its storage.
  init(continuing buffer: [UInt8]) {
    bytes = buffer
  }

  @inline(__always)
  mutating func write(_ string: StaticString) {
    bytes.append(contentsOf: UnsafeBufferPointer(start: string.utf8Start, count: string.utf8CodeUnitCount))
  }

  /// Writes a `String`'s UTF-8 bytes (literals go to the `StaticString` overload, which copies
  /// without looking at the string's representation).
  mutating func write(contentsOf string: String) {
    bytes.append(contentsOf: string.utf8)
  }

  @inline(__always)
  mutating func write(_ byte: UInt8) {
    bytes.append(byte)
  }

  @inline(__always)
  mutating func write(_ fragment: UnsafeBufferPointer<UInt8>) {
    bytes.append(contentsOf: fragment)
  }

  /// Writes the decimal digits of `value`.
  mutating func write(_ value: UInt64) {
    if value < 10 {
      bytes.append(UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: value))
      return
    }
    var digitCount = 1
    var rest = value / 10
    while rest > 0 {
      digitCount += 1
      rest /= 10
    }
    let end = bytes.count + digitCount
    bytes.append(contentsOf: repeatElement(UInt8(ascii: "0"), count: digitCount))
    bytes.withUnsafeMutableBufferPointer { buffer in
      var rest = value
      var position = end
      while rest > 0 {
        position -= 1
        buffer[position] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: rest % 10)
        rest /= 10
      }
    }
  }

  /// Writes `string` escaping backslash and newline, and double quote when `quote` is set.
  ///
  /// Text 0.0.4 escapes `\` and newline in HELP and also `"` in label values; OpenMetrics escapes
  /// all three in both.
  mutating func writeEscaped(_ string: String, quote: Bool) {
    for byte in string.utf8 {
      switch byte {
      case UInt8(ascii: "\\"):
        bytes.append(UInt8(ascii: "\\"))
        bytes.append(UInt8(ascii: "\\"))
      case UInt8(ascii: "\n"):
        bytes.append(UInt8(ascii: "\\"))
        bytes.append(UInt8(ascii: "n"))
      case UInt8(ascii: "\"") where quote:
        bytes.append(UInt8(ascii: "\\"))
        bytes.append(UInt8(ascii: "\""))
      default:
        bytes.append(byte)
      }
    }
  }

  /// Writes `name="value",...` (no braces), values escaped.
  mutating func writeLabelPairs(names: [String], values: [String]) {
    var first = true
    for (name, value) in zip(names, values) {
      if !first { write(UInt8(ascii: ",")) }
      first = false
      write(contentsOf: name)
      write("=\"")
      writeEscaped(value, quote: true)
      write(UInt8(ascii: "\""))
    }
  }

  /// Writes `{name="value",...}`, or nothing when there are no labels.
  mutating func writeLabels(names: [String], values: [String]) {
    if names.isEmpty { return }
    write(UInt8(ascii: "{"))
    writeLabelPairs(names: names, values: values)
    write(UInt8(ascii: "}"))
  }

  // MARK: Floats

  /// Writes `value` as client_golang's text format does: `+Inf`, `-Inf`, `NaN`, otherwise Go's
  /// `strconv.FormatFloat(value, 'g', -1, 64)` (shortest digits that round-trip; exponent form
  /// when the exponent is below -4 or at least 6: `1e-05`, `0.0001`, `100000`, `1e+06`).
  ///
  /// - Parameter openMetrics: As client_golang's OpenMetrics writer: a number without `.` or
  ///   exponent gets `.0` (`1.0`, `0.0`, `100000.0`).
  mutating func writeFloat(_ value: Double, openMetrics: Bool) {
    if value.isNaN {
      write("NaN")
      return
    }
    if value.isInfinite {
      write(value < 0 ? "-Inf" : "+Inf")
      return
    }
    if value.sign == .minus { write(UInt8(ascii: "-")) }
    let magnitude = value.magnitude
    // Whole numbers below 10^6 print as integers in Go's layout: most counters and bucket counts.
    if magnitude < 1e6, magnitude == magnitude.rounded(.towardZero) {
      write(UInt64(magnitude))
      if openMetrics { write(".0") }
      return
    }
    writeShortest(magnitude, openMetrics: openMetrics)
  }

  /// Go's `'g'` layout of a positive finite value's shortest round-trip digits.
  private mutating func writeShortest(_ magnitude: Double, openMetrics: Bool) {
    // Swift prints the shortest digits that round-trip, as Go's shortest mode does; only the
    // layout differs. Collect the digits and where the decimal point goes.
    var printed = ShortestDigits()
    magnitude.write(to: &printed)
    var digits = ShortestDigits()
    var pointPosition: Int? = nil
    var exponent = 0
    var exponentSign = 1
    var inExponent = false
    printed.forEach { byte in
      if inExponent {
        if byte == UInt8(ascii: "-") {
          exponentSign = -1
        } else if byte != UInt8(ascii: "+") {
          exponent = exponent * 10 + Int(byte &- UInt8(ascii: "0"))
        }
      } else if byte == UInt8(ascii: ".") {
        pointPosition = digits.count
      } else if byte == UInt8(ascii: "e") || byte == UInt8(ascii: "E") {
        inExponent = true
      } else {
        digits.append(byte)
      }
    }
    // magnitude = 0.d1d2d3... × 10^decimalPoint
    var decimalPoint = (pointPosition ?? digits.count) + exponentSign * exponent
    var first = 0
    while first < digits.count, digits[first] == UInt8(ascii: "0") {
      first += 1
      decimalPoint -= 1
    }
    var end = digits.count
    while end > first, digits[end - 1] == UInt8(ascii: "0") {
      end -= 1
    }
    let digitCount = end - first
    let decimalExponent = decimalPoint - 1
    // Go decides with a precision of 6 in the shortest form.
    if decimalExponent < -4 || decimalExponent >= 6 {
      write(digits[first])
      if digitCount > 1 {
        write(UInt8(ascii: "."))
        for index in (first + 1)..<end { write(digits[index]) }
      }
      write(decimalExponent < 0 ? "e-" : "e+")
      let exponentMagnitude = UInt64(decimalExponent.magnitude)
      if exponentMagnitude < 10 { write(UInt8(ascii: "0")) }
      write(exponentMagnitude)
      return
    }
    if decimalPoint <= 0 {
      write("0.")
      for _ in 0 ..< -decimalPoint { write(UInt8(ascii: "0")) }
      for index in first..<end { write(digits[index]) }
    } else if decimalPoint >= digitCount {
      for index in first..<end { write(digits[index]) }
      for _ in 0..<(decimalPoint - digitCount) { write(UInt8(ascii: "0")) }
      if openMetrics { write(".0") }
    } else {
      for index in first..<(first + decimalPoint) { write(digits[index]) }
      write(UInt8(ascii: "."))
      for index in (first + decimalPoint)..<end { write(digits[index]) }
    }
  }

  // MARK: Protobuf

  /// Writes a base-128 varint.
  @inline(__always)
  mutating func writeVarint(_ value: UInt64) {
    var rest = value
    while rest >= 0x80 {
      bytes.append(UInt8(truncatingIfNeeded: rest) | 0x80)
      rest >>= 7
    }
    bytes.append(UInt8(rest))
  }

  /// Writes a `double` field's eight little-endian bytes.
  @inline(__always)
  mutating func writeFixed64(_ value: Double) {
    let bits = value.bitPattern.littleEndian
    withUnsafeBytes(of: bits) { bytes.append(contentsOf: $0) }
  }

  /// Writes a length-delimited protobuf field of `string`'s UTF-8 bytes.
  mutating func writeStringField(_ field: UInt8, _ string: String) {
    write(field)
    writeVarint(UInt64(string.utf8.count))
    write(contentsOf: string)
  }

  /// Room for the longest length prefix a message here can need (lengths below 2^35).
  static let lengthPrefixRoom = 5

  /// Starts a length-delimited message: keeps room for its length and returns where it starts, for
  /// ``endLengthDelimited(_:)``.
  @inline(__always)
  mutating func beginLengthDelimited() -> Int {
    let start = bytes.count
    bytes.append(contentsOf: repeatElement(0, count: Self.lengthPrefixRoom))
    return start
  }

  /// Writes the length of the message begun at `start` into its room, and moves the message up to
  /// close the room the varint did not need.
  mutating func endLengthDelimited(_ start: Int) {
    let contentStart = start + Self.lengthPrefixRoom
    let length = bytes.count - contentStart
    var prefixLength = 1
    var rest = UInt64(length) >> 7
    while rest > 0 {
      prefixLength += 1
      rest >>= 7
    }
    bytes.withUnsafeMutableBufferPointer { buffer in
      guard let base = buffer.baseAddress else { return }
      var value = UInt64(length)
      var position = start
      while value >= 0x80 {
        base[position] = UInt8(truncatingIfNeeded: value) | 0x80
        value >>= 7
        position += 1
      }
      base[position] = UInt8(value)
      if prefixLength < Self.lengthPrefixRoom {
        // Overlapping ranges: copyMemory moves as memmove does.
        UnsafeMutableRawPointer(base + start + prefixLength)
          .copyMemory(from: base + contentStart, byteCount: length)
      }
    }
    bytes.removeLast(Self.lengthPrefixRoom - prefixLength)
  }
}

/// Up to 32 ASCII bytes on the stack: what Swift prints for a `Double` (at most 24), and digits.
///
/// As a `TextOutputStream` it receives the bytes of `Double.write(to:)` through `_writeASCII`
/// (the standard library's hook for ASCII output), so printing a float allocates no `String`.
struct ShortestDigits: TextOutputStream {
  private var storage: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
  private(set) var count = 0

  @inline(__always)
  mutating func append(_ byte: UInt8) {
    guard count < 32 else { return }
    let index = count
    withUnsafeMutableBytes(of: &storage) { $0[index] = byte }
    count += 1
  }

  subscript(index: Int) -> UInt8 {
    withUnsafeBytes(of: storage) { $0[index] }
  }

  func forEach(_ body: (UInt8) -> Void) {
    withUnsafeBytes(of: storage) { bytes in
      for index in 0..<count { body(bytes[index]) }
    }
  }

  mutating func write(_ string: String) {
    for byte in string.utf8 { append(byte) }
  }

  mutating func _writeASCII(_ buffer: UnsafeBufferPointer<UInt8>) {
    for byte in buffer { append(byte) }
  }
}

/// Float formatting of the Prometheus exposition formats, as `String`s.
enum ExpositionFloat {
  /// Formats like client_golang's text format (see ``ExpositionWriter/writeFloat(_:openMetrics:)``).
  static func text(_ value: Double) -> String {
    var writer = ExpositionWriter(reservingCapacity: 32)
    writer.writeFloat(value, openMetrics: false)
    return String(decoding: writer.bytes, as: UTF8.self)
  }

  /// Formats like client_golang's OpenMetrics writer: as ``text(_:)`` but a number without `.` or
  /// exponent gets `.0` (`1.0`, `0.0`, `100000.0`).
  static func openMetrics(_ value: Double) -> String {
    var writer = ExpositionWriter(reservingCapacity: 32)
    writer.writeFloat(value, openMetrics: true)
    return String(decoding: writer.bytes, as: UTF8.self)
  }
}

extension MetricFamilySnapshot.Kind {
  /// The name in `# TYPE` lines.
  var typeName: String {
    switch self {
    case .counter: "counter"
    case .gauge: "gauge"
    case .histogram: "histogram"
    }
  }
}

extension ExpositionWriter {
  /// Writes a text sample's name and labels up to its value: `name{labels} `, `name `, or, with
  /// `extraLabel`, `name{labels,` (or `name{`) for the caller to finish with the label and `} `.
  @inline(__always)
  mutating func writeSampleStart(
    _ name: UnsafeBufferPointer<UInt8>, labels: UnsafeBufferPointer<UInt8>, extraLabel: Bool
  ) {
    write(name)
    if labels.isEmpty {
      write(extraLabel ? "{" : " ")
      return
    }
    write(UInt8(ascii: "{"))
    write(labels)
    write(extraLabel ? "," : "} ")
  }

  /// Writes a histogram's `le` label for bucket `index` (`upperBounds.count` for `+Inf`) from the
  /// rendered ones when the series has the family's bounds, then `} `.
  @inline(__always)
  mutating func writeBucketLabel(
    _ index: Int, of histogram: HistogramReading, rendered: FamilyRendering.Fragments?,
    openMetrics: Bool
  ) {
    if let rendered {
      rendered.withFragment(index) { write($0) }
    } else {
      write("le=\"")
      writeFloat(
        index < histogram.upperBounds.count ? histogram.upperBounds[index] : .infinity,
        openMetrics: openMetrics)
      write(UInt8(ascii: "\""))
    }
    write("} ")
  }
}
