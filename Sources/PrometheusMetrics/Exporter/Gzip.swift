internal import CZlib

/// gzip compression of response bodies: the one file that uses zlib.
enum Gzip {
  /// Compresses `input` into a gzip member (deflate with windowBits 31).
  ///
  /// - Parameters:
  ///   - input: The bytes to compress.
  ///   - level: The zlib level; 1 (best speed) by default, as promhttp uses.
  /// - Returns: The gzip bytes, or `nil` if zlib failed (the caller then sends identity).
  static func compress(_ input: [UInt8], level: Int32 = 1) -> [UInt8]? {
    var stream = z_stream()
    guard czlib_deflate_init_gzip(&stream, level) == Z_OK else { return nil }
    defer { deflateEnd(&stream) }
    var output = [UInt8](repeating: 0, count: Int(deflateBound(&stream, uLong(input.count))))
    let result = input.withUnsafeBufferPointer { source in
      output.withUnsafeMutableBufferPointer { destination in
        // zlib does not write through next_in; its type is mutable only for historical reasons.
        stream.next_in = UnsafeMutablePointer(mutating: source.baseAddress)
        stream.avail_in = uInt(source.count)
        stream.next_out = destination.baseAddress
        stream.avail_out = uInt(destination.count)
        return deflate(&stream, Z_FINISH)
      }
    }
    guard result == Z_STREAM_END else { return nil }
    output.removeLast(Int(stream.avail_out))
    return output
  }
}
