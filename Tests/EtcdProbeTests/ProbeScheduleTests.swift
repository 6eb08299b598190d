import Testing

@testable import etcd_probe

@Suite("ProbeSchedule and flags")
struct ProbeScheduleTests {
  @Test func roundsEveryIntervalAndHashChecksEveryHashInterval() {
    var schedule = ProbeSchedule(interval: .seconds(1), hashInterval: .seconds(3))
    #expect(schedule.take(now: .zero) == .init(round: true, hashCheck: true))
    #expect(schedule.take(now: .milliseconds(500)) == .init(round: false, hashCheck: false))
    #expect(schedule.delay(now: .milliseconds(500)) == .milliseconds(500))
    #expect(schedule.take(now: .seconds(1)) == .init(round: true, hashCheck: false))
    #expect(schedule.take(now: .seconds(2)) == .init(round: true, hashCheck: false))
    #expect(schedule.take(now: .seconds(3)) == .init(round: true, hashCheck: true))
  }

  @Test func aLateRoundDoesNotCauseABurst() {
    var schedule = ProbeSchedule(interval: .seconds(1), hashInterval: .seconds(60))
    _ = schedule.take(now: .zero)
    // The round took 10 s (a dead member): the next one is not due at once ten times over.
    #expect(schedule.take(now: .seconds(10)).round)
    #expect(!schedule.take(now: .seconds(10) + .milliseconds(100)).round)
    #expect(schedule.delay(now: .seconds(10)) > .zero)
  }

  @Test func targetsStartSpreadOverTheFirstHalfOfTheInterval() {
    let schedule = ProbeSchedule(interval: .milliseconds(100), hashInterval: .seconds(60))
    #expect(
      (0..<4).map { schedule.stagger(index: $0, count: 4) } == [
        .zero, .microseconds(12_500), .milliseconds(25), .microseconds(37_500),
      ])
    // One target starts with the round.
    #expect(schedule.stagger(index: 0, count: 1) == .zero)
  }

  @Test(arguments: [
    ("5s", Int64(5_000_000_000)), ("500ms", 500_000_000), ("1m30s", 90_000_000_000), ("2h", 7_200_000_000_000),
    ("0.25", 250_000_000), ("100us", 100_000),
  ])
  func durationsInEtcdctlSpelling(text: String, nanoseconds: Int64) {
    #expect(DurationArgument.parse(text) == nanoseconds)
  }

  @Test(arguments: ["", "soon", "5x", "s5", "-1s", "0s", "0", "--5s", "-", "inf", "1e300", "9999999999h"])
  func invalidDurations(text: String) {
    #expect(DurationArgument.parse(text) == nil)
  }

  @Test func listenAddresses() {
    #expect(ListenAddress("0.0.0.0:9379").map { "\($0.host) \($0.port)" } == "0.0.0.0 9379")
    #expect(ListenAddress(":9379")?.host == "0.0.0.0")
    #expect(ListenAddress("[::1]:80")?.host == "::1")
    #expect(ListenAddress("nowhere") == nil)
    #expect(ListenAddress("host:99999") == nil)
  }
}
