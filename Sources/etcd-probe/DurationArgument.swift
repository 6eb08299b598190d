import ArgumentParser

/// A duration flag in etcdctl's spelling (`5s`, `500ms`, `1m`, `1m30s`, `2h`), or a plain number of seconds.
struct DurationArgument: ExpressibleByArgument, Sendable, CustomStringConvertible {
  let duration: Duration
  let description: String

  init(_ duration: Duration, _ description: String) {
    self.duration = duration
    self.description = description
  }

  init?(argument: String) {
    guard let nanoseconds = Self.parse(argument), nanoseconds > 0 else { return nil }
    self.init(.nanoseconds(nanoseconds), argument)
  }

  var defaultValueDescription: String { description }

  /// Nanoseconds of a Go-style duration, or nil.
  static func parse(_ text: String) -> Int64? {
    if let seconds = Double(text) { return Int64(seconds * 1e9) }
    let units: [(String, Double)] = [("ms", 1e6), ("us", 1e3), ("µs", 1e3), ("ns", 1), ("h", 3.6e12), ("m", 6e10), ("s", 1e9)]
    var rest = Substring(text)
    var total = 0.0
    while !rest.isEmpty {
      let number = rest.prefix { $0.isNumber || $0 == "." }
      guard let value = Double(number) else { return nil }
      rest = rest.dropFirst(number.count)
      guard let (unit, scale) = units.first(where: { rest.hasPrefix($0.0) }) else { return nil }
      rest = rest.dropFirst(unit.count)
      total += value * scale
    }
    return total > 0 ? Int64(total) : nil
  }
}
