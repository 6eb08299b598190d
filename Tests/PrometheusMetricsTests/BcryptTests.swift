import Testing

@testable import PrometheusMetrics

/// libxcrypt's bcrypt through ``Bcrypt``, and the pure ``BcryptHash`` reader.
@Suite("Bcrypt")
struct BcryptTests {
  @Test(
    "verifies hashes other implementations made",
    arguments: [
      // exporter-toolkit's decoy for unknown users: Go's x/crypto/bcrypt of "fakepassword".
      ("fakepassword", "$2y$10$QOauhQNbBCuQDKes6eFzPeMqBSjb7Mr5DUmpZ/VcEd00UAV/LDeSi"),
      // crypt_blowfish's test vectors.
      ("U*U", "$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW"),
      ("U*U*", "$2a$05$CCCCCCCCCCCCCCCCCCCCC.VGOzA784oUp/Z0DY336zx7pLYAy0lwK"),
    ])
  func knownHashes(password: String, hash: String) {
    #expect(Bcrypt.hash(password: password, setting: hash) == hash)
    #expect(Bcrypt.hash(password: password + "x", setting: hash) != hash)
  }

  @Test("makes $2b$ hashes with fresh salts that verify")
  func makesHashes() throws {
    let first = try #require(Bcrypt.makeHash(password: "secret", cost: 4))
    let second = try #require(Bcrypt.makeHash(password: "secret", cost: 4))
    #expect(first.hasPrefix("$2b$04$"))
    #expect(first != second)
    #expect(BcryptHash(first) == BcryptHash(second))
    #expect(Bcrypt.hash(password: "secret", setting: first) == first)
    #expect(Bcrypt.hash(password: "Secret", setting: first) != first)
  }

  @Test("refuses passwords with a NUL, and settings that are not bcrypt")
  func refuses() {
    #expect(Bcrypt.hash(password: "a\u{0}b", setting: BcryptHash.decoy(cost: 4)) == nil)
    #expect(Bcrypt.hash(password: "a", setting: "$2b$99$abc") == nil)
    #expect(Bcrypt.hash(password: "a", setting: "") == nil)
  }

  @Test("the decoy hash is bcrypt, so an unknown user's password costs a full bcrypt run")
  func decoy() throws {
    for cost in [4, 10, 12] {
      let decoy = BcryptHash.decoy(cost: cost)
      #expect(BcryptHash(decoy)?.cost == cost)
    }
    let decoy = BcryptHash.decoy(cost: 4)
    let computed = try #require(Bcrypt.hash(password: "anything", setting: decoy))
    #expect(computed.count == 60 && computed != decoy)
  }

  @Test(
    "reads the shape of a hash",
    arguments: [
      ("$2y$10$QOauhQNbBCuQDKes6eFzPeMqBSjb7Mr5DUmpZ/VcEd00UAV/LDeSi", "2y", 10),
      ("$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW", "2a", 5),
      ("$2b$31$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW", "2b", 31),
    ])
  func reads(hash: String, variant: String, cost: Int) {
    #expect(BcryptHash(hash)?.variant == variant)
    #expect(BcryptHash(hash)?.cost == cost)
  }

  @Test(
    "refuses what is not a bcrypt hash",
    arguments: [
      "", "secret", "$2x$10$QOauhQNbBCuQDKes6eFzPeMqBSjb7Mr5DUmpZ/VcEd00UAV/LDeSi",
      "$2y$03$QOauhQNbBCuQDKes6eFzPeMqBSjb7Mr5DUmpZ/VcEd00UAV/LDeSi",
      "$2y$32$QOauhQNbBCuQDKes6eFzPeMqBSjb7Mr5DUmpZ/VcEd00UAV/LDeSi",
      "$2y$1a$QOauhQNbBCuQDKes6eFzPeMqBSjb7Mr5DUmpZ/VcEd00UAV/LDeSi",
      "$2y$10$QOauhQNbBCuQDKes6eFzPeMqBSjb7Mr5DUmpZ/VcEd00UAV/LDeS",
      "$2y$10$QOauhQNbBCuQDKes6eFzPeMqBSjb7Mr5DUmpZ/VcEd00UAV/LDeSi=",
      "$2y$10$QOauhQNbBCuQDKes6eFzPeMqBSjb7Mr5DUmpZ/VcEd00UAV/LDe+i",
      "$6$rounds=5000$saltsaltsaltsalt$hashhashhashhashhashhashhashhashhashhashhashh",
      "{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=",
    ])
  func refusesShapes(text: String) {
    #expect(BcryptHash(text) == nil)
  }
}
