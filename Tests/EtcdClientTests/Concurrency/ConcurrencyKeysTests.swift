import Testing

@testable import EtcdClient

/// The key layout must be Go's byte for byte (`fmt.Sprintf("%s%x", pfx + "/", lease)`), or Go and Swift
/// contenders on one prefix would not see each other in line.
@Suite("Concurrency key layout")
struct ConcurrencyKeysTests {
  static let cases: [(name: String, lease: Int64, key: String)] = [
    ("locks/orders", 0x694d_7a1b_2c3d_4e5f, "locks/orders/694d7a1b2c3d4e5f"),
    ("locks/orders", 1, "locks/orders/1"),
    ("e", 0xabc, "e/abc"),
    ("", 255, "/ff"),
    // Go's %x of a negative int64 is a minus and the magnitude.
    ("n", -26, "n/-1a"),
  ]

  @Test(arguments: cases)
  func keyIsPrefixSlashAndLowerHexLease(_ testCase: (name: String, lease: Int64, key: String)) {
    let prefix = ConcurrencyKeys.prefix(Array(testCase.name.utf8))
    let key = ConcurrencyKeys.key(prefix: prefix, leaseID: testCase.lease)
    #expect(String(decoding: key, as: UTF8.self) == testCase.key)
  }

  @Test func ownerAndLastWaiterReadsAreGoFirstAndLastCreate() {
    let first = ConcurrencyKeys.firstCreate
    #expect(first.range == .prefix)
    #expect(first.limit == 1)
    #expect(first.sortOrder == .ascend)
    #expect(first.sortTarget == .createRevision)

    let last = ConcurrencyKeys.lastCreate(maxCreateRevision: 41)
    #expect(last.range == .prefix)
    #expect(last.limit == 1)
    #expect(last.sortOrder == .descend)
    #expect(last.sortTarget == .createRevision)
    #expect(last.maxCreateRevision == 41)
  }
}
