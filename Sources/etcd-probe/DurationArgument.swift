import ArgumentParser

/// A duration flag in etcdctl's spelling (`5s`, `500ms`, `1m`, `1m30s`, `2h`), or a plain number of seconds.
///
/// The flags parse their values with ``flag(_:)`` and `.unconditional` parsing, so that a negative value
/// such as `-1s` reaches it (and is refused by name) rather than being read as an unknown option.
struct DurationArgument: Sendable, CustomStringConvertible {
  let duration: Duration
  let description: String

  init(_ duration: Duration, _ description: String) {
    self.duration = duration
    self.description = description
  }

  /// The accepted spellings, with examples, as every refusal states them.
  static let format =
    "give a duration above zero: a number with a unit (h, m, s, ms, us, ns), such as 5s, 500ms or 1m30s, "
    + "or a plain number of seconds"

  /// Why a flag's value is not a duration; argument-parser shows `description` after the flag's name.
  struct Invalid: Error, CustomStringConvertible, Equatable {
    let description: String
  }

  /// Parses a duration flag's value: the `transform` of every duration flag.
  ///
  /// - Throws: `Invalid` naming the accepted format: for a negative or zero duration, for another flag
  ///   where the value should be, and for text that is not a duration.
  @Sendable static func flag(_ text: String) throws(Invalid) -> DurationArgument {
    switch signedNanoseconds(text) {
    case let nanoseconds? where nanoseconds > 0:
      return DurationArgument(.nanoseconds(nanoseconds), text)
    case let nanoseconds? where nanoseconds < 0:
      throw Invalid(description: "negative durations are not allowed; \(format)")
    case _?:
      throw Invalid(description: "the duration must be above zero; \(format)")
    case nil where text.hasPrefix("--"):
      throw Invalid(description: "the value is missing (\(text) is a flag); \(format)")
    case nil:
      throw Invalid(description: "not a duration; \(format)")
    }
  }

  /// Nanoseconds of a positive Go-style duration, or nil.
  static func parse(_ text: String) -> Int64? {
    signedNanoseconds(text).flatMap { $0 > 0 ? $0 : nil }
  }

  /// Nanoseconds of a Go-style duration, negative with a leading `-`; nil when the text is not one, or
  /// one beyond the range of `Int64` nanoseconds (about 292 years).
  static func signedNanoseconds(_ text: String) -> Int64? {
    if text.hasPrefix("-") { return unsignedNanoseconds(text.dropFirst()).map { -$0 } }
    return unsignedNanoseconds(Substring(text))
  }

  /// Nanoseconds of a Go-style duration without a sign, or nil.
  private static func unsignedNanoseconds(_ text: Substring) -> Int64? {
    guard let first = text.first, first != "-" else { return nil }
    let limit = Double(Int64.max)
    if let seconds = Double(text) {
      return seconds.isFinite && abs(seconds * 1e9) < limit ? Int64(seconds * 1e9) : nil
    }
    let units: [(String, Double)] = [("ms", 1e6), ("us", 1e3), ("µs", 1e3), ("ns", 1), ("h", 3.6e12), ("m", 6e10), ("s", 1e9)]
    var rest = text
    var total = 0.0
    while !rest.isEmpty {
      let number = rest.prefix { $0.isNumber || $0 == "." }
      guard let value = Double(number) else { return nil }
      rest = rest.dropFirst(number.count)
      guard let (unit, scale) = units.first(where: { rest.hasPrefix($0.0) }) else { return nil }
      rest = rest.dropFirst(unit.count)
      total += value * scale
    }
    return total < limit ? Int64(total) : nil
  }
}

extension ArgumentHelp {
  /// A duration flag's help: the abstract and the default, as argument-parser shows other flags' defaults
  /// (a flag with a `transform` gets no default shown).
  static func duration(_ abstract: String, default value: DurationArgument) -> ArgumentHelp {
    ArgumentHelp("\(abstract) (default: \(value))")
  }
}
