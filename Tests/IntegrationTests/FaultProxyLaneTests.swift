import Testing

/// ``FaultProxyLane``'s decisions as tables: no sockets.
@Suite struct FaultProxyLaneTests {
  private static let start = ContinuousClock.now

  /// `milliseconds` after `start`.
  private static func at(_ milliseconds: Int) -> ContinuousClock.Instant { start + .milliseconds(milliseconds) }

  @Test(arguments: [
    (FaultProxyMode.pass, FaultProxyLane.Direction.request, FaultProxyLane.Action.forward),
    (.pass, .response, .forward),
    (.dropResponses, .request, .forward),
    (.dropResponses, .response, .discard),
    (.dropRequests, .request, .discard),
    (.dropRequests, .response, .forward),
    (.blackhole, .request, .discard),
    (.blackhole, .response, .discard),
    (.delay(.milliseconds(300)), .request, .forwardAt(at(300))),
    (.delay(.milliseconds(300)), .response, .forwardAt(at(300))),
  ])
  func aFirstChunk(mode: FaultProxyMode, direction: FaultProxyLane.Direction, expected: FaultProxyLane.Action) {
    var lane = FaultProxyLane(direction: direction)
    #expect(lane.chunkReceived(at: Self.at(0), mode: mode) == expected)
  }

  /// Chunks arriving (at a millisecond, in a mode) and what the lane says for each; `nil` for a held-back
  /// chunk being written in between.
  @Test(arguments: [
    (
      "delayed chunks keep their order and spacing",
      [(0, FaultProxyMode.delay(.milliseconds(100))), (10, .delay(.milliseconds(100)))],
      [FaultProxyLane.Action.forwardAt(at(100)), .forwardAt(at(110))]
    ),
    (
      "a shorter delay does not overtake a longer one",
      [(0, .delay(.milliseconds(500))), (10, .delay(.milliseconds(100)))],
      [.forwardAt(at(500)), .forwardAt(at(500))]
    ),
    (
      "switching to pass while a chunk is held back: the next waits behind it",
      [(0, .delay(.milliseconds(200))), (50, .pass)],
      [.forwardAt(at(200)), .forwardAt(at(200))]
    ),
    (
      "after a dropped chunk the lane drops every chunk: a stream with a hole in it is no stream",
      [(0, .pass), (5, .dropRequests), (10, .pass), (15, .delay(.milliseconds(100)))],
      [.forward, .discard, .discard, .discard]
    ),
    (
      "a mode that drops the other direction breaks nothing",
      [(0, .dropResponses), (5, .pass)],
      [.forward, .forward]
    ),
  ])
  func sequences(_ name: String, _ chunks: [(Int, FaultProxyMode)], _ expected: [FaultProxyLane.Action]) {
    var lane = FaultProxyLane(direction: .request)
    let actions = chunks.map { lane.chunkReceived(at: Self.at($0.0), mode: $0.1) }
    #expect(actions == expected, "\(name)")
  }

  @Test func onceHeldChunksAreWrittenPassForwardsAtOnceAgain() {
    var lane = FaultProxyLane(direction: .response)
    #expect(lane.chunkReceived(at: Self.at(0), mode: .delay(.milliseconds(100))) == .forwardAt(Self.at(100)))
    #expect(lane.heldBack == 1)
    lane.heldBackChunkWritten()
    #expect(lane.heldBack == 0)
    #expect(lane.chunkReceived(at: Self.at(150), mode: .pass) == .forward)
  }

  @Test func closingWaitsForHeldChunksOnly() {
    var lane = FaultProxyLane(direction: .request)
    #expect(lane.closeAt == nil)
    _ = lane.chunkReceived(at: Self.at(0), mode: .delay(.milliseconds(100)))
    #expect(lane.closeAt == Self.at(100))
    lane.heldBackChunkWritten()
    #expect(lane.closeAt == nil)
  }
}
