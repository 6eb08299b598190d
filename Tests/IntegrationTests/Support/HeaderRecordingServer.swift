/// An HTTP/2 server without TLS on a free loopback port that logs the header fields of every
/// request it receives: Debian's `nghttpd --no-tls -v` (package nghttp2-server), stopped by PID. It
/// answers every request 404, so a gRPC call to it fails; it is there to show what a client sends.
final class HeaderRecordingServer {
  private let process: LoopbackServerProcess

  init() async throws {
    // nghttpd prints "IPv4: listen 127.0.0.1:PORT" once it does.
    process = try await LoopbackServerProcess(name: "nghttpd", listening: "listen") { port in
      ["nghttpd", "--no-tls", "--verbose", "--address=127.0.0.1", "\(port)"]
    }
  }

  var endpoint: String { process.endpoint }

  /// The values of the header field `name` of every request received so far, in order, from
  /// nghttpd's log lines `[id=1] [  0.002] recv (stream_id=1) name: value`.
  func receivedValues(of name: String) -> [String] {
    let marker = ") \(name): "
    return process.log.split(separator: "\n").compactMap { line in
      guard line.contains("recv (stream_id="), let range = line.range(of: marker) else {
        return nil
      }
      return String(line[range.upperBound...])
    }
  }
}
