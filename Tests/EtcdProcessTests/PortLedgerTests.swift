import Testing

@testable import EtcdProcess

@Suite struct PortLedgerTests {
  /// Candidates handed out in order, as the kernel's binds of port 0 would give them.
  private final class Candidates {
    var ports: [Int]
    var taken = 0
    init(_ ports: [Int]) { self.ports = ports }
    func next() throws(EtcdProcessError) -> Int {
      guard taken < ports.count else { throw EtcdProcessError(.noFreePort, "bind: errno 98") }
      defer { taken += 1 }
      return ports[taken]
    }
  }

  @Test func aPortIsNeverHandedOutTwice() throws {
    var ledger = PortLedger()
    let candidates = Candidates([4000, 4000, 4001, 4000, 4001, 4002])
    #expect(try ledger.claim(candidates.next) == 4000)
    #expect(try ledger.claim(candidates.next) == 4001)
    #expect(try ledger.claim(candidates.next) == 4002)
    #expect(candidates.taken == 6)
    #expect(ledger.handedOut == [4000, 4001, 4002])
  }

  @Test func givesUpAfterTheTriesOnlyRepeat() throws {
    var ledger = PortLedger()
    let first = Candidates([4000])
    #expect(try ledger.claim(first.next) == 4000)
    let repeats = Candidates(Array(repeating: 4000, count: 10))
    let error = #expect(throws: EtcdProcessError.self) { try ledger.claim(tries: 3, repeats.next) }
    #expect(error?.code == .noFreePort)
    #expect(repeats.taken == 3)
    #expect(ledger.handedOut == [4000])
  }

  @Test func theCandidatesErrorEndsTheSearch() {
    var ledger = PortLedger()
    let none = Candidates([])
    let error = #expect(throws: EtcdProcessError.self) { try ledger.claim(none.next) }
    #expect(error?.message == "bind: errno 98")
    #expect(ledger.handedOut.isEmpty)
  }
}
