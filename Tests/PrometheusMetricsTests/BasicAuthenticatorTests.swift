import Testing

@testable import PrometheusMetrics

/// Credential checks with real bcrypt (cost 4, a few milliseconds each), without sockets.
@Suite("BasicAuthenticator")
struct BasicAuthenticatorTests {
  /// Cost-4 hashes of "alice-password" and "bob-password", made once per test process.
  static let users: [String: String] = [
    "alice": Bcrypt.makeHash(password: "alice-password", cost: 4) ?? "",
    "bob": Bcrypt.makeHash(password: "bob-password", cost: 5) ?? "",
  ]

  private static func header(_ user: String, _ password: String) -> String {
    BasicAuthorization.header(for: BasicCredentials(user: user, password: password))
  }

  @Test(
    "authenticates known users with their passwords and refuses everything else",
    arguments: [
      (header("alice", "alice-password"), .authenticated(user: "alice")),
      (header("bob", "bob-password"), .authenticated(user: "bob")),
      (nil, .refused(.missing)),
      ("Bearer token", .refused(.malformed)),
      ("Basic !!!!", .refused(.malformed)),
      (header("alice", "bob-password"), .refused(.invalid)),
      (header("alice", "alice-password "), .refused(.invalid)),
      (header("alice", ""), .refused(.invalid)),
      (header("Alice", "alice-password"), .refused(.invalid)),
      (header("mallory", "alice-password"), .refused(.invalid)),
      (header("", ""), .refused(.invalid)),
    ] as [(String?, BasicAuthenticator.Outcome)])
  func outcomes(authorization: String?, expected: BasicAuthenticator.Outcome) {
    #expect(Self.users.values.allSatisfy { BcryptHash($0) != nil })
    let authenticator = BasicAuthenticator(users: Self.users)
    #expect(authenticator.authenticate(authorization: authorization) == expected)
    // The second time (from the cache, for the accepted ones) gives the same answer.
    #expect(authenticator.authenticate(authorization: authorization) == expected)
  }

  @Test("remembers only credentials that passed, and no more than its capacity")
  func cache() {
    let authenticator = BasicAuthenticator(users: Self.users, cacheCapacity: 1)
    _ = authenticator.authenticate(authorization: Self.header("alice", "wrong"))
    _ = authenticator.authenticate(authorization: Self.header("mallory", "alice-password"))
    #expect(authenticator.cachedCount == 0)
    #expect(
      authenticator.authenticate(authorization: Self.header("alice", "alice-password"))
        == .authenticated(user: "alice"))
    #expect(authenticator.cachedCount == 1)
    #expect(
      authenticator.authenticate(authorization: Self.header("bob", "bob-password"))
        == .authenticated(user: "bob"))
    #expect(authenticator.cachedCount == 1)
    #expect(
      authenticator.authenticate(authorization: Self.header("alice", "alice-password"))
        == .authenticated(user: "alice"))
  }

  @Test("checks unknown users against a decoy as costly as the costliest user's hash")
  func decoyCost() {
    #expect(BcryptHash(BasicAuthenticator(users: Self.users).decoyHash)?.cost == 5)
    #expect(BcryptHash(BasicAuthenticator(users: ["x": "not bcrypt"]).decoyHash)?.cost == 10)
  }

  @Test("a user whose hash is not bcrypt never gets in")
  func unusableHash() {
    let authenticator = BasicAuthenticator(users: ["carol": "carol-password"])
    #expect(
      authenticator.authenticate(authorization: Self.header("carol", "carol-password"))
        == .refused(.invalid))
  }
}
