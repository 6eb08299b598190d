import Foundation
import LoopbackTestSupport

#if canImport(Glibc)
  import Glibc
#endif

/// An HTTP/2 server without TLS on a free loopback port that logs the header fields of every
/// request it receives: Debian's `nghttpd --no-tls -v` (package nghttp2-server), stopped by PID. It
/// answers every request 404, so a gRPC call to it fails; it is there to show what a client sends.
final class HeaderRecordingServer {
  let pid: pid_t
  let port: Int
  private let logFile: String

  init() async throws {
    port = try freeLoopbackPort()
    logFile = NSTemporaryDirectory() + "nghttpd-\(getpid())-\(port).log"
    pid = try spawn(
      ["nghttpd", "--no-tls", "--verbose", "--address=127.0.0.1", "\(port)"], logFile: logFile)
    let deadline = ContinuousClock.now + .seconds(10)
    while ContinuousClock.now < deadline {
      if let log = try? String(contentsOfFile: logFile, encoding: .utf8), log.contains("listen") {
        return
      }
      try await Task.sleep(for: .milliseconds(50))
    }
    throw FixtureError("nghttpd did not start (is Debian's nghttp2-server installed?)")
  }

  var endpoint: String { "127.0.0.1:\(port)" }

  /// The values of the header field `name` of every request received so far, in order, from
  /// nghttpd's log lines `[id=1] [  0.002] recv (stream_id=1) name: value`.
  func receivedValues(of name: String) -> [String] {
    guard let log = try? String(contentsOfFile: logFile, encoding: .utf8) else { return [] }
    let marker = ") \(name): "
    return log.split(separator: "\n").compactMap { line in
      guard line.contains("recv (stream_id="), let range = line.range(of: marker) else {
        return nil
      }
      return String(line[range.upperBound...])
    }
  }

  deinit {
    kill(pid, SIGKILL)
    var status: Int32 = 0
    waitpid(pid, &status, 0)
    try? FileManager.default.removeItem(atPath: logFile)
  }
}
