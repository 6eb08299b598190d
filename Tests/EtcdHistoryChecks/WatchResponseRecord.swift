/// One watch response as the history records it.
package struct WatchResponseRecord: Hashable, Sendable, Codable {
  /// The response header's revision.
  package var headerRevision: Int64
  /// The events, in the order received.
  package var events: [WatchEventRecord]
  /// Whether the response is a progress notification (no events; every event up to `headerRevision`
  /// has been sent).
  package var isProgressNotification: Bool
  /// The compact revision of a response that ends the watcher because its next revision is
  /// compacted.
  package var compactRevision: Int64?

  /// Creates a response record.
  package init(
    headerRevision: Int64, events: [WatchEventRecord], isProgressNotification: Bool = false,
    compactRevision: Int64? = nil
  ) {
    self.headerRevision = headerRevision
    self.events = events
    self.isProgressNotification = isProgressNotification
    self.compactRevision = compactRevision
  }
}
