import Testing

@testable import PrometheusMetrics

/// The `Authorization: Basic` parser and its base64 codec: pure, never trapping.
@Suite("BasicAuthorization")
struct BasicAuthorizationTests {
  private static func credentials(_ user: String, _ password: String) -> BasicAuthorization.Parsed {
    .credentials(BasicCredentials(user: user, password: password))
  }

  @Test(
    "parses headers",
    arguments: [
      (nil, .missing),
      ("", .malformed),
      ("Basic dXNlcjpwYXNz", credentials("user", "pass")),
      ("basic dXNlcjpwYXNz", credentials("user", "pass")),
      ("BASIC   dXNlcjpwYXNz  ", credentials("user", "pass")),
      // "user:pa:ss": the user ends at the first colon.
      ("Basic dXNlcjpwYTpzcw==", credentials("user", "pa:ss")),
      // ":pass" and "user:": empty names and passwords are credentials too.
      ("Basic OnBhc3M=", credentials("", "pass")),
      ("Basic dXNlcjo=", credentials("user", "")),
      ("Basic asO8cmdlbjpww6Q6c3M=", credentials("jürgen", "pä:ss")),
      ("Basic", .malformed),
      ("Basic ", .malformed),
      ("Basicx dXNlcjpwYXNz", .malformed),
      ("Basic\tdXNlcjpwYXNz", .malformed),
      ("Bearer dXNlcjpwYXNz", .malformed),
      ("Digest username=\"user\"", .malformed),
      // No colon: "user".
      ("Basic dXNlcg==", .malformed),
      // Base64 without its padding, with padding too many, with bytes outside the alphabet.
      ("Basic dXNlcjpwYXNzMQ", .malformed),
      ("Basic dXNlcjpwYXNz====", .malformed),
      ("Basic dXNlcjpw*XNz", .malformed),
      ("Basic dXNlcjpwYXNz dXNlcjpwYXNz", .malformed),
      ("Basic dXNl=jpwYXNz", .malformed),
      // "user:pas" + bits that the padding leaves over but that are not zero.
      ("Basic dXNlcjpwYXN=", .malformed),
      // "user:\u{0}x", "user:a\nb": control characters.
      ("Basic dXNlcjoAeA==", .malformed),
      ("Basic dXNlcjphCmI=", .malformed),
      // "user:" followed by the byte 0xFF, which is not UTF-8.
      ("Basic dXNlcjr/", .malformed),
    ] as [(String?, BasicAuthorization.Parsed)])
  func parse(header: String?, expected: BasicAuthorization.Parsed) {
    #expect(BasicAuthorization.parse(header) == expected)
  }

  @Test("a header built for credentials parses back to them")
  func roundTrip() {
    for (user, password) in [
      ("user", "pass"), ("", ""), ("ü", "🔑:x"), ("a", String(repeating: "p", count: 200)),
    ] {
      let credentials = BasicCredentials(user: user, password: password)
      #expect(
        BasicAuthorization.parse(BasicAuthorization.header(for: credentials))
          == .credentials(credentials))
    }
  }

  @Test("base64 encodes as RFC 4648 and decodes what it encodes, for every length up to 64")
  func base64() {
    #expect(Base64.encode(Array("user:pass".utf8)) == "dXNlcjpwYXNz")
    #expect(Base64.encode(Array("f".utf8)) == "Zg==")
    #expect(Base64.encode(Array("fo".utf8)) == "Zm8=")
    #expect(Base64.encode(Array("foo".utf8)) == "Zm9v")
    #expect(Base64.encode([]) == "")
    var generator = SystemRandomNumberGenerator()
    for length in 0...64 {
      let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
      #expect(Base64.decode(ArraySlice(Base64.encode(bytes).utf8)) == bytes)
    }
  }

  @Test("arbitrary header bytes never trap")
  func arbitraryInput() {
    var generator = SystemRandomNumberGenerator()
    let pieces = [
      "Basic ", "basic", " ", "=", "==", "dXNl", "cjpw", "YXNz", ":", "\u{0}", "é", "A",
    ]
    for _ in 0..<2_000 {
      let header = (0..<Int.random(in: 0...8, using: &generator))
        .map { _ in pieces.randomElement(using: &generator)! }.joined()
      _ = BasicAuthorization.parse(header)
    }
  }
}
