/// Builds a gRPC length-prefixed message: a flag byte, a 4-byte big-endian length, then the bytes.
///
/// Written independently of `GRPCFramedMessage` so the tests do not check the framer against
/// itself.
func grpcFrame(_ body: [UInt8], flag: UInt8 = 0) -> [UInt8] {
  let length = UInt32(body.count)
  return [
    flag,
    UInt8(length >> 24), UInt8((length >> 16) & 0xff), UInt8((length >> 8) & 0xff),
    UInt8(length & 0xff),
  ] + body
}

/// Bytes 0, 1, 2, ... of the given length, so a misplaced byte shows up in a comparison.
func countingBytes(_ count: Int) -> [UInt8] {
  (0..<count).map { UInt8(truncatingIfNeeded: $0) }
}
