import Foundation
import Testing

@testable import etcd_probe

@Suite("Readiness and the status page")
struct ProbeStatusBoardTests {
  @Test func theWindowCoversThreeIntervalsAndOneSlowRound() {
    #expect(Readiness.window(interval: .seconds(5), timeout: .seconds(2)) == .seconds(17))
    #expect(Readiness.window(interval: .seconds(30), timeout: .seconds(2)) == .seconds(90))
  }

  @Test(arguments: [
    (Duration?.none, false, "[-]round failed: no probe round has completed yet"),
    (.seconds(1), true, "[+]round ok: the last round completed 1.0s ago"),
    (.seconds(17), true, "[+]round ok: the last round completed 17.0s ago"),
    (.milliseconds(17_100), false, "[-]round failed: no probe round completed in the last 17.0s (the last 17.1s ago)"),
  ])
  func readyWhileARoundCompletedRecently(since: Duration?, ready: Bool, line: String) {
    let readiness = Readiness(sinceLastRound: since, window: .seconds(17))
    #expect(readiness.isReady == ready)
    #expect(readiness.line == line)
    let page = readiness.page(verbose: false)
    #expect(page.status == (ready ? 200 : 503))
    #expect(page.body == (ready ? "ok\n" : "not ready\n"))
    let verbose = readiness.page(verbose: true)
    #expect(verbose.body == line + "\nreadyz check " + (ready ? "passed" : "failed") + "\n")
  }

  @Test func theBoardBecomesReadyWithARoundAndKeepsTheLastTen() {
    let board = ProbeStatusBoard(interval: .seconds(1), timeout: .seconds(1))
    let start = ContinuousClock.now
    #expect(!board.readiness(now: start).isReady)
    for number in 1...12 {
      board.completed(
        RoundRecord(number: number, ended: Date(), duration: .milliseconds(5), targets: [], hashCheck: nil),
        at: start)
    }
    #expect(board.rounds.map(\.number) == Array(3...12))
    #expect(board.readiness(now: start + .seconds(7)).isReady)
    #expect(!board.readiness(now: start + .seconds(8)).isReady)
  }

  @Test func theStatusPageListsEachOperationNewestRoundFirst() {
    let ended = Date(timeIntervalSince1970: 1_800_000_000)
    let ok = OperationResult(at: ended, duration: .microseconds(2500), failure: nil)
    let stale = OperationResult(
      at: ended, duration: .milliseconds(12),
      failure: OperationFailure(code: "OK", reason: "stale_read", message: "key at revision 4"))
    let rounds = [
      RoundRecord(
        number: 1, ended: ended, duration: .milliseconds(40),
        targets: [.init(name: "127.0.0.1:2379", results: [(.put, ok)])], hashCheck: nil),
      RoundRecord(
        number: 2, ended: ended, duration: .milliseconds(50),
        targets: [
          .init(name: "127.0.0.1:2379", results: [(.put, ok), (.get, stale)]),
          .init(name: "cluster", results: [(.put, ok)]),
        ],
        hashCheck: "agreed after 1 attempt; agreeing: a, b"),
    ]
    let readiness = Readiness(sinceLastRound: .seconds(1), window: .seconds(5))
    let text = ProbeStatusBoard.statusText(rounds: rounds, readiness: readiness, target: nil)
    let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    #expect(lines[0] == "etcd-probe status")
    #expect(lines[1] == "[+]round ok: the last round completed 1.0s ago")
    #expect(lines[3] == "round 2, ended 2027-01-15T08:00:00.000Z, took 50.0ms")
    #expect(lines[4] == "  127.0.0.1:2379           put               ok           2.5ms")
    #expect(
      lines[5] == "  127.0.0.1:2379           get               FAILED      12.0ms  OK stale_read: key at revision 4")
    #expect(lines[6].hasPrefix("  cluster "))
    #expect(lines[7] == "  consistency check: agreed after 1 attempt; agreeing: a, b")
    #expect(lines[9].hasPrefix("round 1,"))
    let one = ProbeStatusBoard.statusText(rounds: rounds, readiness: readiness, target: "cluster")
    #expect(!one.contains("127.0.0.1:2379") && one.contains("  cluster ") && !one.contains("consistency"))
    #expect(
      ProbeStatusBoard.statusText(rounds: [], readiness: readiness, target: nil).hasSuffix(
        "\nno round has completed yet\n"))
  }
}

@Suite("Readiness of a cluster added by a reload")
struct AddedClusterReadinessTests {
  @Test func readyWhileTheFirstRoundIsDueThenLikeAnyOther() {
    let start = ContinuousClock.now
    let added = ProbeStatusBoard(interval: .seconds(5), timeout: .seconds(2), graceFrom: start)
    let first = ProbeStatusBoard(interval: .seconds(5), timeout: .seconds(2))
    // The window is 17 s: within it an added cluster without a round is ready, a first cluster is not.
    #expect(added.readiness(now: start + .seconds(10)).isReady)
    #expect(added.readiness(now: start + .seconds(10)).line.contains("first round is due"))
    #expect(!first.readiness(now: start + .seconds(10)).isReady)
    #expect(!added.readiness(now: start + .seconds(18)).isReady)
    // Once a round completed, the last round decides.
    added.completed(
      RoundRecord(number: 1, ended: Date(), duration: .seconds(1), targets: [], hashCheck: nil),
      at: start + .seconds(1))
    #expect(added.readiness(now: start + .seconds(18)).isReady)
    #expect(!added.readiness(now: start + .seconds(19)).isReady)
  }
}
