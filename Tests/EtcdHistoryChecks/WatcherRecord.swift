/// One watcher as the history records it: what it watched from where, what it received, how it
/// ended.
package struct WatcherRecord: Hashable, Sendable, Codable {
  /// How the watcher's stream ended.
  package enum Ending: Hashable, Sendable, Codable {
    /// Still open when the history ended.
    case open
    /// Cancelled because revisions before `revision` were compacted.
    case compacted(revision: Int64)
    /// Failed, with the error's description.
    case failed(String)
  }

  /// The watched key, or the first key of the watched range.
  package var key: String
  /// The end of the watched range, as ``KeyRange`` reads it.
  package var rangeEnd: String?
  /// The first revision the watcher asked for.
  package var startRevision: Int64
  /// The responses, in the order received.
  package var responses: [WatchResponseRecord]
  /// How the stream ended.
  package var ending: Ending

  /// Creates a watcher record.
  package init(
    key: String, rangeEnd: String?, startRevision: Int64, responses: [WatchResponseRecord],
    ending: Ending = .open
  ) {
    self.key = key
    self.rangeEnd = rangeEnd
    self.startRevision = startRevision
    self.responses = responses
    self.ending = ending
  }
}
