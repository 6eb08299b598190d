/// A user name and password from an `Authorization: Basic` header.
struct BasicCredentials: Sendable, Equatable {
  /// The user name: the decoded text before the first colon.
  var user: String
  /// The password: the decoded text after the first colon.
  var password: String
}

/// Reads an `Authorization` header of the Basic scheme (RFC 7617): pure, never traps.
///
/// Accepts what Go's `Request.BasicAuth` accepts, which is what Prometheus and curl send: the
/// scheme name in any case, then standard padded base64 of `user:password`. Beyond Go it allows
/// more than one space after the scheme, and refuses credentials that are not UTF-8 or that hold
/// control characters (RFC 7617 forbids them, and a NUL could not reach crypt(3)).
enum BasicAuthorization {
  /// What a request's `Authorization` header holds.
  enum Parsed: Sendable, Equatable {
    /// There is no `Authorization` header.
    case missing
    /// There is one, but not of the Basic scheme, or its credentials do not decode.
    case malformed
    /// Basic credentials.
    case credentials(BasicCredentials)
  }

  /// Parses the value of an `Authorization` header.
  ///
  /// - Parameter header: The header's value, or `nil` when the request has none.
  /// - Returns: The credentials, or why there are none.
  static func parse(_ header: String?) -> Parsed {
    guard let header else { return .missing }
    let bytes = Array(header.utf8)
    let scheme = Array("basic".utf8)
    guard bytes.count > scheme.count, bytes[scheme.count] == UInt8(ascii: " "),
      zip(bytes, scheme).allSatisfy({ asciiLowercase($0) == $1 })
    else { return .malformed }
    var start = scheme.count
    while start < bytes.count, bytes[start] == UInt8(ascii: " ") { start += 1 }
    var end = bytes.count
    while end > start, bytes[end - 1] == UInt8(ascii: " ") || bytes[end - 1] == UInt8(ascii: "\t") {
      end -= 1
    }
    guard let decoded = Base64.decode(bytes[start..<end]),
      let colon = decoded.firstIndex(of: UInt8(ascii: ":")),
      !decoded.contains(where: { $0 < 0x20 || $0 == 0x7F })
    else { return .malformed }
    guard let user = String(validating: decoded[..<colon], as: UTF8.self),
      let password = String(validating: decoded[(colon + 1)...], as: UTF8.self)
    else { return .malformed }
    return .credentials(BasicCredentials(user: user, password: password))
  }

  /// The header value that carries `credentials`, as a client builds it.
  static func header(for credentials: BasicCredentials) -> String {
    "Basic " + Base64.encode(Array("\(credentials.user):\(credentials.password)".utf8))
  }

  private static func asciiLowercase(_ byte: UInt8) -> UInt8 {
    (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) ? byte + 32 : byte
  }
}

/// Standard base64 (RFC 4648 §4) with padding, as Go's `base64.StdEncoding` reads it, and strict
/// about the bits that padding leaves over (they must be zero, RFC 4648 §3.5), as its `Strict()`
/// variant is.
enum Base64 {
  private static let alphabet = Array(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

  /// The value of each byte as a base64 digit, or 0xFF for bytes that are not digits.
  private static let values: [UInt8] = {
    var table = [UInt8](repeating: 0xFF, count: 256)
    for (value, digit) in alphabet.enumerated() { table[Int(digit)] = UInt8(value) }
    return table
  }()

  /// Decodes padded base64.
  ///
  /// - Returns: The bytes, or `nil` when the length is not a multiple of 4, a byte is not a base64
  ///   digit, padding is misplaced, or the bits that padding leaves over are not zero.
  static func decode(_ text: ArraySlice<UInt8>) -> [UInt8]? {
    let text = Array(text)
    guard text.count % 4 == 0 else { return nil }
    var output: [UInt8] = []
    output.reserveCapacity(text.count / 4 * 3)
    var index = 0
    while index < text.count {
      let isLast = index + 4 == text.count
      let padding = isLast ? text[index...].reversed().prefix { $0 == UInt8(ascii: "=") }.count : 0
      guard padding <= 2 else { return nil }
      var group: UInt32 = 0
      for offset in 0..<4 {
        let digit = offset < 4 - padding ? values[Int(text[index + offset])] : 0
        guard digit != 0xFF else { return nil }
        group = group << 6 | UInt32(digit)
      }
      let bytes = [
        UInt8(truncatingIfNeeded: group >> 16), UInt8(truncatingIfNeeded: group >> 8),
        UInt8(truncatingIfNeeded: group),
      ]
      // Bits that padding leaves over must be zero, so that each text decodes from one encoding.
      if padding == 2 && bytes[1] != 0 || padding >= 1 && bytes[2] != 0 { return nil }
      output += bytes.prefix(3 - padding)
      index += 4
    }
    return output
  }

  /// Encodes bytes as padded base64.
  static func encode(_ bytes: [UInt8]) -> String {
    var output: [UInt8] = []
    var index = 0
    while index < bytes.count {
      let chunk = bytes[index..<min(index + 3, bytes.count)]
      var group: UInt32 = 0
      for offset in 0..<3 {
        group = group << 8 | UInt32(offset < chunk.count ? chunk[chunk.startIndex + offset] : 0)
      }
      for offset in 0..<4 {
        output.append(
          offset <= chunk.count
            ? alphabet[Int(group >> UInt32(18 - 6 * offset) & 0x3F)]
            : UInt8(ascii: "="))
      }
      index += 3
    }
    return String(decoding: output, as: UTF8.self)
  }
}
