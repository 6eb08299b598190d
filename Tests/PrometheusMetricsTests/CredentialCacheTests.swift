import Testing

@testable import PrometheusMetrics

@Suite("CredentialCache")
struct CredentialCacheTests {
  private static func digest(_ number: Int) -> [UInt8] { SHA256.hash(Array("\(number)".utf8)) }

  @Test("holds what was inserted, once")
  func holds() {
    var cache = CredentialCache(capacity: 3)
    #expect(!cache.contains(Self.digest(1)))
    cache.insert(Self.digest(1))
    cache.insert(Self.digest(1))
    #expect(cache.contains(Self.digest(1)))
    #expect(!cache.contains(Self.digest(2)))
    #expect(cache.count == 1)
  }

  @Test("stays within its capacity, replacing the oldest entries first")
  func bounded() {
    var cache = CredentialCache(capacity: 3)
    for number in 1...5 { cache.insert(Self.digest(number)) }
    #expect(cache.count == 3)
    #expect((1...5).map { cache.contains(Self.digest($0)) } == [false, false, true, true, true])
    cache.insert(Self.digest(6))
    #expect(
      (1...6).map { cache.contains(Self.digest($0)) } == [false, false, false, true, true, true])
  }
}
