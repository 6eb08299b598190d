/// Checks of metric and label names, applied at registration (violations are programmer errors).
enum MetricNames {
  /// Whether `name` matches `[a-zA-Z_:][a-zA-Z0-9_:]*`.
  static func isValidMetricName(_ name: String) -> Bool {
    var first = true
    for byte in name.utf8 {
      let ok: Bool
      switch byte {
      case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
        UInt8(ascii: "_"), UInt8(ascii: ":"):
        ok = true
      case UInt8(ascii: "0")...UInt8(ascii: "9"):
        ok = !first
      default:
        ok = false
      }
      if !ok { return false }
      first = false
    }
    return !first
  }

  /// Whether `name` matches `[a-zA-Z_][a-zA-Z0-9_]*` and does not start with the reserved `__`.
  static func isValidLabelName(_ name: String) -> Bool {
    !name.contains(":") && isValidMetricName(name) && !name.hasPrefix("__")
  }
}
