import Testing

@testable import PrometheusMetrics

/// ``ConnectionDeadlines`` as tables of connection events and the cuts and refusals they lead to;
/// no sockets.
@Suite("ConnectionDeadlines")
struct ConnectionDeadlinesTests {
  typealias Reason = ConnectionDeadlines.CloseReason

  static let start = ContinuousClock.now
  static func at(_ milliseconds: Int) -> ContinuousClock.Instant {
    start + .milliseconds(milliseconds)
  }

  /// One event for connection `id` at a time in milliseconds after the start.
  enum Event: Sendable, CustomStringConvertible {
    case started(UInt, socket: Int32, address: String, at: Int)
    case requestLine(UInt)
    case head(UInt)
    case queued(UInt, at: Int)
    case completed(UInt, status: Int?, at: Int)
    case closed(UInt)
    case sweep(at: Int)

    var description: String {
      switch self {
      case .started(let id, let socket, let address, let at):
        "started #\(id) fd \(socket) \(address) @\(at)"
      case .requestLine(let id): "request line #\(id)"
      case .head(let id): "head #\(id)"
      case .queued(let id, let at): "queued #\(id) @\(at)"
      case .completed(let id, let status, let at): "completed #\(id) \(status ?? 0) @\(at)"
      case .closed(let id): "closed #\(id)"
      case .sweep(let at): "sweep @\(at)"
      }
    }
  }

  /// What the events led to: sockets to shut down with reasons, in order (a sweep's cuts sorted by
  /// socket).
  static func run(_ events: [Event], limits: ConnectionDeadlines.Limits = limits)
    -> [String]
  {
    var deadlines = ConnectionDeadlines(limits: limits)
    var outcomes: [String] = []
    for event in events {
      switch event {
      case .started(let id, let socket, let address, let at):
        if case .refuse(let socket, let reason) = deadlines.connectionStarted(
          id, socket: socket, address: address, at: Self.at(at))
        {
          outcomes.append("refuse fd \(socket) \(reason.rawValue)")
        }
      case .requestLine(let id):
        deadlines.requestLineReceived(id)
      case .head(let id):
        deadlines.headReceived(id)
      case .queued(let id, let at):
        deadlines.responseQueued(id, at: Self.at(at))
      case .completed(let id, let status, let at):
        if let reason = deadlines.requestCompleted(id, status: status, at: Self.at(at)) {
          outcomes.append("count #\(id) \(reason.rawValue)")
        }
      case .closed(let id):
        deadlines.connectionClosed(id)
      case .sweep(let at):
        for cut in deadlines.deadlinesPassed(at: Self.at(at)).sorted(by: { $0.socket < $1.socket }) {
          outcomes.append("cut fd \(cut.socket) \(cut.reason.rawValue)")
        }
      }
    }
    return outcomes
  }

  static let limits = ConnectionDeadlines.Limits(
    headTimeout: .milliseconds(1000), sendTimeout: .milliseconds(3000), maxConnectionsPerAddress: 2)

  struct Case: Sendable, CustomTestStringConvertible {
    var name: String
    var events: [Event]
    var outcomes: [String]
    var testDescription: String { name }
  }

  static let cases: [Case] = [
    Case(
      name: "a connection without a complete head is cut at the head deadline, once",
      events: [
        .started(1, socket: 10, address: "a", at: 0), .sweep(at: 999), .sweep(at: 1000),
        .sweep(at: 5000),
      ],
      outcomes: ["cut fd 10 head_timeout"]),
    Case(
      name: "a head in time, then a response sent in time: nothing is cut",
      events: [
        .started(1, socket: 10, address: "a", at: 0), .head(1), .queued(1, at: 900),
        .sweep(at: 3000), .completed(1, status: 200, at: 3100), .closed(1), .sweep(at: 60_000),
      ],
      outcomes: []),
    Case(
      name: "the handler's run has no deadline",
      events: [.started(1, socket: 10, address: "a", at: 0), .head(1), .sweep(at: 60_000)],
      outcomes: []),
    Case(
      name: "a response not sent within the send deadline is cut",
      events: [
        .started(1, socket: 10, address: "a", at: 0), .head(1), .queued(1, at: 500),
        .sweep(at: 3499), .sweep(at: 3500),
      ],
      outcomes: ["cut fd 10 send_timeout"]),
    Case(
      name: "a keep-alive connection without a next request line is cut as idle",
      events: [
        .started(1, socket: 10, address: "a", at: 0), .head(1), .queued(1, at: 100),
        .completed(1, status: 200, at: 2000), .sweep(at: 2999), .sweep(at: 3000),
      ],
      outcomes: ["cut fd 10 idle_timeout"]),
    Case(
      name: "on a keep-alive connection the head deadline runs from the previous request's end",
      events: [
        .started(1, socket: 10, address: "a", at: 0), .requestLine(1), .head(1),
        .queued(1, at: 100), .completed(1, status: 200, at: 2000), .sweep(at: 2900),
        .requestLine(1), .sweep(at: 2999), .sweep(at: 3000),
      ],
      outcomes: ["cut fd 10 head_timeout"]),
    Case(
      name: "a keep-alive connection's next request is served like the first",
      events: [
        .started(1, socket: 10, address: "a", at: 0), .head(1), .queued(1, at: 100),
        .completed(1, status: 200, at: 200), .requestLine(1), .head(1), .queued(1, at: 1500),
        .completed(1, status: 200, at: 1600), .sweep(at: 2599), .closed(1), .sweep(at: 9000),
      ],
      outcomes: []),
    Case(
      name: "a 431 libmicrohttpd answered before the handler is counted; a handler's 431 is not",
      events: [
        .started(1, socket: 10, address: "a", at: 0), .completed(1, status: 431, at: 10),
        .started(2, socket: 11, address: "b", at: 0), .completed(2, status: 414, at: 10),
        .started(3, socket: 12, address: "c", at: 0), .head(3), .queued(3, at: 5),
        .completed(3, status: 431, at: 10),
        .started(4, socket: 13, address: "d", at: 0), .completed(4, status: nil, at: 10),
        .started(5, socket: 14, address: "e", at: 0), .completed(5, status: 400, at: 10),
      ],
      outcomes: ["count #1 head_too_large", "count #2 head_too_large"]),
    Case(
      name: "past the per-address limit a connection is refused; a closed one frees its place",
      events: [
        .started(1, socket: 10, address: "a", at: 0), .started(2, socket: 11, address: "a", at: 0),
        .started(3, socket: 12, address: "a", at: 0), .started(4, socket: 13, address: "b", at: 0),
        .closed(3), .started(5, socket: 14, address: "a", at: 0), .closed(1),
        .started(6, socket: 15, address: "a", at: 0),
      ],
      outcomes: ["refuse fd 12 address_limit", "refuse fd 14 address_limit"]),
    Case(
      name: "a refused connection is not cut again by a deadline",
      events: [
        .started(1, socket: 10, address: "a", at: 0), .started(2, socket: 11, address: "a", at: 0),
        .started(3, socket: 12, address: "a", at: 0), .sweep(at: 1000),
      ],
      outcomes: [
        "refuse fd 12 address_limit", "cut fd 10 head_timeout", "cut fd 11 head_timeout",
      ]),
    Case(
      name: "a closed connection is forgotten: its socket number can come back with a new one",
      events: [
        .started(1, socket: 10, address: "a", at: 0), .sweep(at: 1000), .closed(1),
        .started(2, socket: 10, address: "a", at: 1500), .sweep(at: 2000), .sweep(at: 2500),
      ],
      outcomes: ["cut fd 10 head_timeout", "cut fd 10 head_timeout"]),
    Case(
      name: "a cut connection's late events do not revive its deadline",
      events: [
        .started(1, socket: 10, address: "a", at: 0), .sweep(at: 1000), .head(1),
        .queued(1, at: 1100), .completed(1, status: 200, at: 1200), .sweep(at: 10_000),
      ],
      outcomes: ["cut fd 10 head_timeout"]),
    Case(
      name: "events of unknown connections change nothing",
      events: [
        .head(9), .queued(9, at: 0), .completed(9, status: 431, at: 0), .closed(9),
        .sweep(at: 10_000),
      ],
      outcomes: []),
  ]

  @Test(arguments: cases)
  func outcomes(of testCase: Case) {
    #expect(Self.run(testCase.events) == testCase.outcomes, "\(testCase.events)")
  }

  @Test func aClientThatEndedItsSideIsCutOnlyWhileItsHeadIsAwaited() {
    var deadlines = ConnectionDeadlines(limits: Self.limits)
    for id in 1...3 as ClosedRange<UInt> {
      _ = deadlines.connectionStarted(id, socket: Int32(id), address: "\(id)", at: Self.at(0))
    }
    _ = deadlines.connectionStarted(4, socket: 4, address: "4", at: Self.at(500))
    deadlines.headReceived(2)
    deadlines.responseQueued(3, at: Self.at(100))
    // Only connection 1 (awaiting since 0) is due after 400 ms of patience; 4 started at 500.
    let due = deadlines.awaitingHead(forAtLeast: .milliseconds(400), at: Self.at(600))
    #expect(due.map(\.id) == [1])
    #expect(
      deadlines.clientEndedSending(1)
        == ConnectionDeadlines.Cut(socket: 1, reason: .incompleteHead))
    #expect(deadlines.clientEndedSending(1) == nil)
    #expect(deadlines.clientEndedSending(2) == nil)
    #expect(deadlines.clientEndedSending(3) == nil)
    #expect(deadlines.awaitingHead(forAtLeast: .zero, at: Self.at(600)).map(\.id) == [4])
    #expect(deadlines.deadlinesPassed(at: Self.at(1000)).isEmpty)
  }

  @Test func withoutAPerAddressLimitNoConnectionIsRefused() {
    var limits = Self.limits
    limits.maxConnectionsPerAddress = 0
    let events = (1...100).map { Event.started(UInt($0), socket: Int32($0), address: "a", at: 0) }
    #expect(Self.run(events, limits: limits) == [])
  }

  @Test func closingEveryConnectionEmptiesTheTables() {
    var deadlines = ConnectionDeadlines(limits: Self.limits)
    for id in 1...5 as ClosedRange<UInt> {
      _ = deadlines.connectionStarted(id, socket: Int32(id), address: "a", at: Self.at(0))
    }
    for id in 1...5 as ClosedRange<UInt> { deadlines.connectionClosed(id) }
    #expect(deadlines.connections.isEmpty)
    #expect(deadlines.connectionsPerAddress.isEmpty)
  }
}
