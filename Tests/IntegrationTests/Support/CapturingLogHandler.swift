import Logging
import Synchronization

/// A swift-log handler that keeps every record, rendered as one line: the level, the message and the
/// metadata, for tests that read what the client logged.
struct CapturingLogHandler: LogHandler {
  /// The lines logged so far, shared by every copy of the handler.
  final class Lines: Sendable {
    private let lines = Mutex<[String]>([])

    /// Every line, in order.
    var all: [String] { lines.withLock { $0 } }

    fileprivate func append(_ line: String) { lines.withLock { $0.append(line) } }
  }

  let lines: Lines
  var logLevel: Logger.Level
  var metadata: Logger.Metadata = [:]

  init(lines: Lines, logLevel: Logger.Level = .trace) {
    self.lines = lines
    self.logLevel = logLevel
  }

  subscript(metadataKey key: String) -> Logger.Metadata.Value? {
    get { metadata[key] }
    set { metadata[key] = newValue }
  }

  func log(event: LogEvent) {
    let merged = metadata.merging(event.metadata ?? [:]) { $1 }
    let rendered = merged.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
    lines.append("\(event.level) \(event.message) \(rendered.joined(separator: " "))")
  }
}
