import ArgumentParser
import Testing

@testable import etcd_probe

/// The probe's flags as its command line parses them: the duration flags' values and their refusals.
@Suite("etcd-probe's duration flags")
struct ProbeCommandParsingTests {
  /// The message the probe prints for `arguments`, or nil when they parse.
  func refusal(_ arguments: [String]) -> String? {
    do {
      _ = try ProbeCommand.parse(arguments)
      return nil
    } catch {
      return ProbeCommand.message(for: error)
    }
  }

  @Test(arguments: [
    (["--timeout", "500ms"], Duration.milliseconds(500)),
    (["--timeout=1m30s"], .seconds(90)),
    (["--timeout", "3"], .seconds(3)),
    ([], .seconds(2)),
  ])
  func theTimeoutFlagTakesEtcdctlDurations(arguments: [String], timeout: Duration) throws {
    #expect(try ProbeCommand.parse(arguments).timeout.duration == timeout)
  }

  @Test(arguments: [
    "--dial-timeout", "--interval", "--timeout", "--hash-interval", "--web.request-head-timeout",
    "--web.response-send-timeout",
  ])
  func aNegativeDurationIsRefusedAsNegative(flag: String) {
    let message = refusal([flag, "-1s"])
    #expect(message?.contains("The value '-1s' is invalid for '\(flag) <") == true)
    #expect(message?.contains("negative durations are not allowed") == true)
    #expect(message?.contains("such as 5s, 500ms or 1m30s") == true)
  }

  @Test(arguments: [
    ("soon", "not a duration"), ("5x", "not a duration"), ("0s", "must be above zero"),
    ("--interval", "the value is missing (--interval is a flag)"),
  ])
  func anInvalidDurationNamesTheAcceptedFormat(value: String, problem: String) {
    let message = refusal(["--timeout", value])
    #expect(message?.contains("The value '\(value)' is invalid for '--timeout <timeout>'") == true)
    #expect(message?.contains(problem) == true)
    #expect(
      message?.contains("a number with a unit (h, m, s, ms, us, ns), such as 5s, 500ms or 1m30s") == true)
  }

  @Test func theHelpShowsEachDurationFlagsDefault() {
    let help = ProbeCommand.helpMessage(columns: 1000)
    #expect(help.contains("Deadline of each probe operation. (default: 2s)"))
    #expect(help.contains("Time between probe rounds. (default: 5s)"))
    #expect(help.contains("(default: 10s)"))  // --web.request-head-timeout, the server's default
  }
}
