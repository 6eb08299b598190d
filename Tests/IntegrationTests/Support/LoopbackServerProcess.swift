import Foundation
import LoopbackTestSupport

#if canImport(Glibc)
  import Glibc
#endif

/// A server process on a free loopback port, its output in a log file, started and waited for until
/// its log shows it listens, and stopped by PID.
final class LoopbackServerProcess {
  let pid: pid_t
  let port: Int
  private let logFile: String

  /// Starts `command(port)` on a free port and waits (at most 10 s) until its output contains
  /// `listening`.
  init(name: String, listening: String, command: (Int) -> [String]) async throws {
    port = try freeLoopbackPort()
    logFile = NSTemporaryDirectory() + "\(name)-\(getpid())-\(port).log"
    pid = try spawn(command(port), logFile: logFile)
    let deadline = ContinuousClock.now + .seconds(10)
    while ContinuousClock.now < deadline {
      if log.contains(listening) { return }
      try await Task.sleep(for: .milliseconds(50))
    }
    throw FixtureError("\(name) did not start: \(log.suffix(500))")
  }

  /// A Python server of `Support/`, run as `python3 Support/SCRIPT ARGUMENTS... PORT`, which prints
  /// `listening` when it does.
  static func script(_ script: String, arguments: [String] = []) async throws
    -> LoopbackServerProcess
  {
    let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
      .appendingPathComponent(script).path
    return try await LoopbackServerProcess(name: script, listening: "listening") { port in
      ["python3", path] + arguments + ["\(port)"]
    }
  }

  var endpoint: String { "127.0.0.1:\(port)" }

  /// The process's output so far.
  var log: String { (try? String(contentsOfFile: logFile, encoding: .utf8)) ?? "" }

  deinit {
    kill(pid, SIGKILL)
    var status: Int32 = 0
    waitpid(pid, &status, 0)
    try? FileManager.default.removeItem(atPath: logFile)
  }
}
