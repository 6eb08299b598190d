/// Byte-level helpers shared by the text formats: float formatting as Go's client does, escaping.
struct ExpositionWriter {
  /// The bytes written so far.
  var bytes: [UInt8] = []

  init(reservingCapacity capacity: Int = 4096) {
    bytes.reserveCapacity(capacity)
  }

  mutating func write(_ string: String) {
    bytes.append(contentsOf: string.utf8)
  }

  mutating func write(_ byte: UInt8) {
    bytes.append(byte)
  }

  mutating func write(_ value: UInt64) {
    bytes.append(contentsOf: String(value).utf8)
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

  /// Writes `{name="value",...}`, with an optional extra pair (the histogram's `le`) last, or
  /// nothing when there are no labels.
  mutating func writeLabels(
    names: [String], values: [String], extra: (name: String, value: String)? = nil
  ) {
    if names.isEmpty && extra == nil { return }
    write(UInt8(ascii: "{"))
    var first = true
    for (name, value) in zip(names, values) {
      if !first { write(UInt8(ascii: ",")) }
      first = false
      write(name)
      write(UInt8(ascii: "="))
      write(UInt8(ascii: "\""))
      writeEscaped(value, quote: true)
      write(UInt8(ascii: "\""))
    }
    if let extra {
      if !first { write(UInt8(ascii: ",")) }
      write(extra.name)
      write(UInt8(ascii: "="))
      write(UInt8(ascii: "\""))
      writeEscaped(extra.value, quote: true)
      write(UInt8(ascii: "\""))
    }
    write(UInt8(ascii: "}"))
  }
}

/// Float formatting of the Prometheus exposition formats.
enum ExpositionFloat {
  /// Formats like client_golang's text format: `+Inf`, `-Inf`, `NaN`, otherwise Go's
  /// `strconv.FormatFloat(value, 'g', -1, 64)` (shortest digits that round-trip; exponent form when
  /// the exponent is below -4 or at least 6: `1e-05`, `0.0001`, `100000`, `1e+06`, `1.5e+06`).
  static func text(_ value: Double) -> String {
    if value.isNaN { return "NaN" }
    if value == .infinity { return "+Inf" }
    if value == -.infinity { return "-Inf" }
    return goShortestG(value)
  }

  /// Formats like client_golang's OpenMetrics writer: as ``text(_:)`` but a number without `.` or
  /// exponent gets `.0` (`1.0`, `0.0`, `100000.0`).
  static func openMetrics(_ value: Double) -> String {
    var formatted = text(value)
    let isPlain = !formatted.utf8.contains { $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "e") }
    if value.isFinite && isPlain {
      formatted += ".0"
    }
    return formatted
  }

  /// Go's `strconv.FormatFloat(value, 'g', -1, 64)` for finite values.
  static func goShortestG(_ value: Double) -> String {
    if value == 0 { return value.sign == .minus ? "-0" : "0" }
    // Swift's description prints the shortest digits that round-trip, as Go's shortest mode does;
    // only the layout differs. Parse it into digits and a decimal point position.
    let description = value.magnitude.description
    var digits: [UInt8] = []
    var pointPosition: Int? = nil
    var exponent = 0
    var iterator = description.utf8.makeIterator()
    var sawDigits = 0
    while let byte = iterator.next() {
      if byte == UInt8(ascii: ".") {
        pointPosition = sawDigits
      } else if byte == UInt8(ascii: "e") || byte == UInt8(ascii: "E") {
        var rest: [UInt8] = []
        while let next = iterator.next() { rest.append(next) }
        exponent = Int(String(decoding: rest, as: UTF8.self)) ?? 0
      } else {
        digits.append(byte)
        sawDigits += 1
      }
    }
    // value = 0.d1d2d3... × 10^decimalPoint
    var decimalPoint = (pointPosition ?? digits.count) + exponent
    while let first = digits.first, first == UInt8(ascii: "0") {
      digits.removeFirst()
      decimalPoint -= 1
    }
    while let last = digits.last, last == UInt8(ascii: "0") {
      digits.removeLast()
    }
    let digitCount = digits.count
    var output = value.sign == .minus ? "-" : ""
    // Go decides with a precision of 6 in the shortest form.
    let exponentLimit = 6
    let decimalExponent = decimalPoint - 1
    if decimalExponent < -4 || decimalExponent >= exponentLimit {
      output.unicodeScalars.append(UnicodeScalar(digits[0]))
      if digitCount > 1 {
        output += "."
        output += String(decoding: digits[1...], as: UTF8.self)
      }
      output += decimalExponent < 0 ? "e-" : "e+"
      let magnitude = abs(decimalExponent)
      if magnitude < 10 { output += "0" }
      output += String(magnitude)
      return output
    }
    if decimalPoint <= 0 {
      output += "0."
      output += String(repeating: "0", count: -decimalPoint)
      output += String(decoding: digits, as: UTF8.self)
    } else if decimalPoint >= digitCount {
      output += String(decoding: digits, as: UTF8.self)
      output += String(repeating: "0", count: decimalPoint - digitCount)
    } else {
      output += String(decoding: digits[..<decimalPoint], as: UTF8.self)
      output += "."
      output += String(decoding: digits[decimalPoint...], as: UTF8.self)
    }
    return output
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
