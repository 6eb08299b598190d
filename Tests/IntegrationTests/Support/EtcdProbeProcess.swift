import Foundation
import LoopbackTestSupport

#if canImport(Glibc)
  import Glibc
#endif

/// The `etcd-probe` binary built beside the tests, run as a child process on a free loopback port.
final class EtcdProbeProcess {
  let pid: pid_t
  let port: Int
  let logFile: String

  /// The built probe next to the test bundle (`.build/<triple>/debug/etcd-probe`), or nil.
  static var binaryPath: String? {
    let bundle = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    let candidates = [
      bundle.appendingPathComponent("etcd-probe").path,
      bundle.deletingLastPathComponent().appendingPathComponent("etcd-probe").path,
      FileManager.default.currentDirectoryPath + "/.build/debug/etcd-probe",
    ]
    return candidates.first { FileManager.default.isExecutableFile(atPath: $0) }
  }

  /// Starts the probe with `arguments` (plus `--listen-address 127.0.0.1:<free port>`).
  init(arguments: [String]) throws {
    guard let binary = Self.binaryPath else { throw FixtureError("etcd-probe is not built") }
    port = try freeLoopbackPort()
    logFile = NSTemporaryDirectory() + "etcd-probe-test-\(getpid())-\(port).log"
    pid = try spawn([binary, "--listen-address", "127.0.0.1:\(port)"] + arguments, logFile: logFile)
  }

  /// The text of /metrics, or nil when it does not answer.
  func scrape() -> String? {
    guard let result = try? run(["curl", "-sf", "--max-time", "5", "http://127.0.0.1:\(port)/metrics"]),
      result.status == 0
    else { return nil }
    return result.output
  }

  /// GETs `path` (with its query) from the probe's server: the status code and body.
  func get(_ path: String) throws -> (status: Int, body: String) {
    let response = try LoopbackHTTP.request(port: port, path: path)
    return (response.status, String(decoding: response.body, as: UTF8.self))
  }

  /// Waits (bounded) until a scrape satisfies `condition`; returns the last scrape.
  func waitForScrape(
    timeout: Duration = .seconds(30),
    until condition: ([String: Double]) -> Bool
  ) async throws -> [String: Double] {
    let deadline = ContinuousClock.now + timeout
    var samples: [String: Double] = [:]
    while ContinuousClock.now < deadline {
      if let text = scrape() {
        samples = parseExposition(text)
        if condition(samples) { return samples }
      }
      try await Task.sleep(for: .milliseconds(300))
    }
    let log = (try? String(contentsOfFile: logFile, encoding: .utf8)) ?? ""
    throw FixtureError("the probe's metrics did not reach the expected state; log tail:\n\(log.suffix(1500))")
  }

  /// Waits (bounded) for the probe to exit by itself; returns its exit status, or nil if it still runs.
  func waitForExit(timeout: Duration = .seconds(30)) async throws -> Int32? {
    let deadline = ContinuousClock.now + timeout
    var status: Int32 = 0
    while ContinuousClock.now < deadline {
      if waitpid(pid, &status, WNOHANG) == pid { return (status >> 8) & 0xff }
      try await Task.sleep(for: .milliseconds(100))
    }
    return nil
  }

  /// The probe's log so far.
  var log: String { (try? String(contentsOfFile: logFile, encoding: .utf8)) ?? "" }

  /// Sends SIGTERM and waits (bounded) for the exit status.
  @discardableResult
  func stop() -> Int32? {
    kill(pid, SIGTERM)
    var status: Int32 = 0
    for _ in 0..<200 {
      if waitpid(pid, &status, WNOHANG) == pid { return (status >> 8) & 0xff }
      usleep(50_000)
    }
    kill(pid, SIGKILL)
    waitpid(pid, &status, 0)
    return nil
  }

  deinit {
    kill(pid, SIGKILL)
    var status: Int32 = 0
    waitpid(pid, &status, WNOHANG)
    try? FileManager.default.removeItem(atPath: logFile)
  }
}

/// The sum of the samples whose series starts with `prefix` and contains each of `parts` (e.g. a label pair).
func sum(_ samples: [String: Double], _ prefix: String, containing parts: [String] = []) -> Double {
  samples.filter { key, _ in key.hasPrefix(prefix) && parts.allSatisfy { key.contains($0) } }
    .values.reduce(0, +)
}
