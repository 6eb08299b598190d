/// Encodes a `grpc-timeout` header value: at most 8 digits and a unit, rounded up so the server never sees a
/// shorter timeout than the client's.
package enum GRPCTimeout {
  /// The header value for a timeout of `nanoseconds` (clamped at 0).
  package static func headerValue(nanoseconds: Int64) -> String {
    let value = max(nanoseconds, 0)
    let maxDigits: Int64 = 99_999_999
    // (unit, nanoseconds per unit), finest first.
    let units: [(Character, Int64)] = [
      ("n", 1), ("u", 1_000), ("m", 1_000_000), ("S", 1_000_000_000),
      ("M", 60_000_000_000), ("H", 3_600_000_000_000),
    ]
    for (unit, size) in units {
      let amount = value / size + (value % size == 0 ? 0 : 1)  // rounds up without overflow
      if amount <= maxDigits { return "\(amount)\(unit)" }
    }
    return "\(maxDigits)H"
  }
}
