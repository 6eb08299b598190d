/// One direction of one proxied connection: decides, for each chunk that arrives, whether and when it goes
/// on, under the mode of the moment. A chunk never overtakes one that came before it, even when the mode
/// changes from a delay to `.pass` in between.
struct FaultProxyLane: Sendable {
  /// Which way the lane's bytes flow.
  enum Direction: Sendable, Hashable {
    /// From the client to the server.
    case request
    /// From the server to the client.
    case response
  }

  /// What to do with a chunk.
  enum Action: Sendable, Hashable {
    /// Write it to the other side now.
    case forward
    /// Write it to the other side at this instant.
    case forwardAt(ContinuousClock.Instant)
    /// Discard it.
    case discard
  }

  /// The lane's direction.
  let direction: Direction
  /// When the last chunk held back goes out: no later chunk goes before it.
  private(set) var lastRelease: ContinuousClock.Instant?
  /// How many chunks are held back and not written yet.
  private(set) var heldBack = 0
  /// Whether the lane discarded a chunk. A byte stream with a hole in it is no stream: a network that loses a
  /// segment retransmits it or the connection dies, and never delivers the bytes after it without it. So
  /// from its first discarded chunk on, a lane discards every chunk, whatever the mode: the connection is dead
  /// to both ends until their keepalives end it, and only connections made later pass again.
  private(set) var broken = false

  /// A lane with nothing forwarded yet.
  init(direction: Direction) {
    self.direction = direction
  }

  /// A chunk arrived at `now` while the proxy is in `mode`.
  ///
  /// - Returns: Whether to forward it, now or later, or to discard it. A chunk to forward later is held
  ///   back until ``heldBackChunkWritten()``.
  mutating func chunkReceived(at now: ContinuousClock.Instant, mode: FaultProxyMode) -> Action {
    if broken { return .discard }
    let delay: Duration
    switch (mode, direction) {
    case (.blackhole, _), (.dropResponses, .response), (.dropRequests, .request):
      broken = true
      return .discard
    case (.delay(let duration), _):
      delay = duration
    case (.pass, _), (.dropResponses, .request), (.dropRequests, .response):
      delay = .zero
    }
    // Written at once only when nothing is held back: a held chunk may be due and not yet written.
    if delay <= .zero && heldBack == 0 { return .forward }
    let release = max(now + delay, lastRelease ?? now)
    lastRelease = release
    heldBack += 1
    return .forwardAt(release)
  }

  /// A chunk held back by ``chunkReceived(at:mode:)`` was written.
  mutating func heldBackChunkWritten() {
    precondition(heldBack > 0, "no chunk is held back")
    heldBack -= 1
  }

  /// When the lane may close the other side, once its own side closed: after the chunks it holds back.
  ///
  /// - Returns: nil to close now, else the instant to close at (a close scheduled for the instant of the
  ///   last chunk runs after that chunk is written).
  var closeAt: ContinuousClock.Instant? {
    heldBack == 0 ? nil : lastRelease
  }
}
