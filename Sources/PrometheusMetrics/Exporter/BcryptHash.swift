/// A bcrypt password hash in modular crypt format, as `htpasswd -B`, Go's `x/crypto/bcrypt` and
/// libxcrypt write it: `$2b$10$` then 22 characters of salt and 31 of hash, 60 in all.
struct BcryptHash: Sendable, Equatable {
  /// The variant: `2a`, `2b` or `2y` (the ones Go's bcrypt and libxcrypt agree on).
  var variant: String
  /// The cost: 2^cost rounds of key expansion, from 4 to 31.
  var cost: Int

  /// The characters of bcrypt's base64 alphabet.
  static let alphabet = Set("./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789".utf8)

  /// Reads a hash's variant and cost, checking its whole shape.
  ///
  /// - Parameter text: The hash, e.g. `$2y$10$…`.
  /// - Returns: `nil` unless `text` is a complete bcrypt hash.
  init?(_ text: String) {
    let bytes = Array(text.utf8)
    guard bytes.count == 60, bytes[0] == UInt8(ascii: "$"), bytes[1] == UInt8(ascii: "2"),
      [UInt8(ascii: "a"), UInt8(ascii: "b"), UInt8(ascii: "y")].contains(bytes[2]),
      bytes[3] == UInt8(ascii: "$"), bytes[6] == UInt8(ascii: "$"),
      let cost = Int(String(decoding: bytes[4..<6], as: UTF8.self)), (4...31).contains(cost),
      bytes[7...].allSatisfy({ Self.alphabet.contains($0) })
    else { return nil }
    self.variant = String(decoding: bytes[1..<3], as: UTF8.self)
    self.cost = cost
  }

  /// A syntactically valid `$2b$` hash of this cost that no password is expected to match, to
  /// spend the same time on an unknown user as on a known one.
  static func decoy(cost: Int) -> String {
    let clamped = min(max(cost, 4), 31)
    let costText = clamped < 10 ? "0\(clamped)" : "\(clamped)"
    // The salt's last character carries 2 significant bits; `e` leaves the unused ones zero.
    return "$2b$\(costText)$" + "tD.eCoYsAlTfOrUnKnOwNe" + "UsErSxTiMiNgIsThEsAmEaSfOrKnOwN"
  }
}
