import Testing

import GRPCProtocol

// MARK: - Table machinery

/// One input to the connection's state machine, as the channel handler would deliver it.
private enum Input: Sendable, CustomStringConvertible {
  case channelActive
  case bytes(http1StatusLine: String?)
  case errorCaught(String)
  case channelInactive
  case handlerRemoved
  case sessionStartFailed(String)
  case receiveFailed(String)
  case sendFailed(String)
  case sessionEnded
  case streamOpened
  case streamClosed
  case goAway(lastStreamID: Int32, errorCode: UInt32)
  case keepaliveTimer
  case pingAck
  case pingTimeout
  case close(force: Bool)

  var description: String {
    switch self {
    case .channelActive: "channelActive"
    case .bytes(let line): "bytes(http1StatusLine: \(line ?? "nil"))"
    case .errorCaught(let error): "errorCaught(\(error))"
    case .channelInactive: "channelInactive"
    case .handlerRemoved: "handlerRemoved"
    case .sessionStartFailed(let error): "sessionStartFailed(\(error))"
    case .receiveFailed(let error): "receiveFailed(\(error))"
    case .sendFailed(let error): "sendFailed(\(error))"
    case .sessionEnded: "sessionEnded"
    case .streamOpened: "streamOpened"
    case .streamClosed: "streamClosed"
    case .goAway(let last, let code): "goAway(last: \(last), code: \(code))"
    case .keepaliveTimer: "keepaliveTimer"
    case .pingAck: "pingAck"
    case .pingTimeout: "pingTimeout"
    case .close(let force): "close(force: \(force))"
    }
  }
}

private typealias Machine = HTTP2ConnectionStateMachine
private typealias Action = HTTP2ConnectionStateMachine.Action

extension HTTP2ConnectionStateMachine {
  fileprivate mutating func apply(_ input: Input) -> Action {
    switch input {
    case .channelActive: return channelActive()
    case .bytes(let line): return bytesReceived(http1StatusLine: line)
    case .errorCaught(let error): return errorCaught(error)
    case .channelInactive: return channelInactive()
    case .handlerRemoved: return handlerRemoved()
    case .sessionStartFailed(let error): return sessionStartFailed(error)
    case .receiveFailed(let error): return receiveFailed(error)
    case .sendFailed(let error): return sendFailed(error)
    case .sessionEnded: return sessionEnded()
    case .streamOpened:
      streamOpened()
      return .none
    case .streamClosed: return streamClosed()
    case .goAway(let last, let code): return goAwayReceived(lastStreamID: last, errorCode: code)
    case .keepaliveTimer: return keepaliveTimerFired()
    case .pingAck: return pingAcknowledged()
    case .pingTimeout: return pingTimedOut()
    case .close(let force): return closeRequested(force: force)
    }
  }
}

/// A scripted connection: its configuration and the inputs in order, each with the action it must produce.
private struct Script: Sendable, CustomTestStringConvertible {
  var name: String
  var isTLS = false
  var keepalive: Machine.Keepalive? = defaultKeepalive
  var steps: [(Input, Action)]
  /// Whether new streams may open after the last step.
  var acceptsNewStreams: Bool
  /// The close reason after the last step.
  var closeReason: String?

  var testDescription: String { name }
}

private let endpoint = "10.0.0.1:2379"
private let defaultKeepalive = Machine.Keepalive(
  intervalNanoseconds: 10_000_000_000, timeoutNanoseconds: 2_500_000_000)
private let closedReason = "connection to 10.0.0.1:2379 closed"
private let clientClosed = "the client closed the connection to 10.0.0.1:2379"
private let nothingSent =
  "10.0.0.1:2379 closed the connection before it sent anything (if it serves TLS, use an https:// endpoint or "
  + "set Configuration.tls)"
private let goAwayReason = "10.0.0.1:2379 sent GOAWAY (NO_ERROR)"
private let pingReason = "10.0.0.1:2379 did not answer a keepalive PING within 2500 ms"

private func run(_ script: Script) {
  var machine = Machine(
    configuration: .init(endpoint: endpoint, isTLS: script.isTLS, keepalive: script.keepalive))
  for (index, (input, expected)) in script.steps.enumerated() {
    #expect(machine.apply(input) == expected, "step \(index): \(input)")
  }
  #expect(machine.acceptsNewStreams == script.acceptsNewStreams)
  #expect(machine.closeReason == script.closeReason)
}

// MARK: - Tests

@Suite("HTTP2ConnectionStateMachine")
struct HTTP2ConnectionStateMachineTests {
  fileprivate static let lifecycleScripts: [Script] = [
    Script(
      name: "active: streams open and close, the keepalive timer starts once",
      steps: [
        (.channelActive, .startKeepaliveTimer(intervalNanoseconds: 10_000_000_000)),
        (.channelActive, .none),
        (.bytes(http1StatusLine: nil), .none),
        (.streamOpened, .none),
        (.streamClosed, .none),
      ],
      acceptsNewStreams: true
    ),
    Script(
      name: "no keepalive configured: no timer, no PING",
      keepalive: nil,
      steps: [(.channelActive, .none), (.streamOpened, .none), (.keepaliveTimer, .none)],
      acceptsNewStreams: true
    ),
    Script(
      name: "an idle connection is never pinged",
      steps: [
        (.channelActive, .startKeepaliveTimer(intervalNanoseconds: 10_000_000_000)),
        (.keepaliveTimer, .none),
        (.streamOpened, .none),
        (.streamClosed, .none),
        (.keepaliveTimer, .none),
      ],
      acceptsNewStreams: true
    ),
    Script(
      name: "a PING while streams are open, one at a time; its ACK cancels the timeout",
      steps: [
        (.streamOpened, .none),
        (.keepaliveTimer, .sendPing(timeoutNanoseconds: 2_500_000_000)),
        (.keepaliveTimer, .none),
        (.pingAck, .cancelPingTimeout),
        (.pingAck, .none),
        (.pingTimeout, .none),
        (.keepaliveTimer, .sendPing(timeoutNanoseconds: 2_500_000_000)),
      ],
      acceptsNewStreams: true
    ),
    Script(
      name: "an unanswered PING fails the connection with its reason",
      steps: [
        (.streamOpened, .none),
        (.keepaliveTimer, .sendPing(timeoutNanoseconds: 2_500_000_000)),
        (.pingTimeout, .failCallsAndClose(reason: pingReason)),
        (.channelInactive, .none),
        (.handlerRemoved, .none),
      ],
      acceptsNewStreams: false,
      closeReason: pingReason
    ),
    Script(
      name: "GOAWAY drains: open streams go on, the last one closes the connection",
      steps: [
        (.bytes(http1StatusLine: nil), .none),
        (.streamOpened, .none),
        (.streamOpened, .none),
        (.goAway(lastStreamID: 1, errorCode: 0), .drain(lastStreamID: 1, errorCode: 0)),
        (.keepaliveTimer, .sendPing(timeoutNanoseconds: 2_500_000_000)),
        (.streamClosed, .none),
        (.streamClosed, .sendGoAwayAndClose),
        (.channelInactive, .failCallsAndClose(reason: goAwayReason)),
      ],
      acceptsNewStreams: false,
      closeReason: goAwayReason
    ),
    Script(
      name: "a second GOAWAY drains again with its own code",
      steps: [
        (.streamOpened, .none),
        (.goAway(lastStreamID: 5, errorCode: 0), .drain(lastStreamID: 5, errorCode: 0)),
        (.goAway(lastStreamID: 1, errorCode: 0xb), .drain(lastStreamID: 1, errorCode: 0xb)),
      ],
      acceptsNewStreams: false,
      closeReason: "10.0.0.1:2379 sent GOAWAY (ENHANCE_YOUR_CALM)"
    ),
    Script(
      name: "a graceful local close waits for the open streams",
      steps: [
        (.streamOpened, .none),
        (.close(force: false), .none),
        (.streamClosed, .sendGoAwayAndClose),
        (.close(force: true), .none),
        (.channelInactive, .failCallsAndClose(reason: clientClosed)),
      ],
      acceptsNewStreams: false,
      closeReason: clientClosed
    ),
    Script(
      name: "a graceful local close of an idle connection closes at once",
      steps: [(.bytes(http1StatusLine: nil), .none), (.close(force: false), .sendGoAwayAndClose)],
      acceptsNewStreams: false,
      closeReason: clientClosed
    ),
    Script(
      name: "a forced local close does not wait; the calls end when the channel is inactive",
      steps: [
        (.streamOpened, .none),
        (.close(force: true), .sendGoAwayAndClose),
        (.streamClosed, .none),
        (.channelInactive, .failCallsAndClose(reason: clientClosed)),
        (.handlerRemoved, .none),
      ],
      acceptsNewStreams: false,
      closeReason: clientClosed
    ),
    Script(
      name: "a forced close of a connection draining after GOAWAY keeps the GOAWAY reason",
      steps: [
        (.streamOpened, .none),
        (.goAway(lastStreamID: 1, errorCode: 0), .drain(lastStreamID: 1, errorCode: 0)),
        (.close(force: true), .sendGoAwayAndClose),
        (.channelInactive, .failCallsAndClose(reason: goAwayReason)),
      ],
      acceptsNewStreams: false,
      closeReason: goAwayReason
    ),
    Script(
      name: "an HTTP/1 answer fails the connection; later reads are not sniffed",
      steps: [
        (
          .bytes(http1StatusLine: "HTTP/1.1 400 Bad Request"),
          .failCallsAndClose(
            reason: "10.0.0.1:2379 answered in HTTP/1 (\"HTTP/1.1 400 Bad Request\"), not HTTP/2: it is not an "
              + "etcd gRPC endpoint (etcd serves clients on its --listen-client-urls, port 2379 by default)")
        ),
        (.channelInactive, .none),
      ],
      acceptsNewStreams: false,
      closeReason:
        "10.0.0.1:2379 answered in HTTP/1 (\"HTTP/1.1 400 Bad Request\"), not HTTP/2: it is not an etcd gRPC "
        + "endpoint (etcd serves clients on its --listen-client-urls, port 2379 by default)"
    ),
    Script(
      name: "a status line after the first bytes is HTTP/2 payload, not an HTTP/1 answer",
      steps: [
        (.bytes(http1StatusLine: nil), .none),
        (.bytes(http1StatusLine: "HTTP/1.1 200 OK"), .none),
      ],
      acceptsNewStreams: true
    ),
    Script(
      name: "a plain connection closed before any byte came: maybe a TLS server",
      steps: [(.streamOpened, .none), (.channelInactive, .failCallsAndClose(reason: nothingSent))],
      acceptsNewStreams: false,
      closeReason: nothingSent
    ),
    Script(
      name: "a TLS connection closed before any byte came: just closed",
      isTLS: true,
      steps: [(.channelInactive, .failCallsAndClose(reason: closedReason))],
      acceptsNewStreams: false,
      closeReason: closedReason
    ),
    Script(
      name: "a plain connection closed after bytes came: just closed",
      steps: [
        (.bytes(http1StatusLine: nil), .none), (.channelInactive, .failCallsAndClose(reason: closedReason)),
      ],
      acceptsNewStreams: false,
      closeReason: closedReason
    ),
    Script(
      name: "a channel error closes the channel; the calls end with it when inactive",
      steps: [
        (.streamOpened, .none),
        (.errorCaught("Connection reset by peer"), .closeChannel),
        (.close(force: true), .none),
        (
          .channelInactive,
          .failCallsAndClose(reason: "connection to 10.0.0.1:2379 failed: Connection reset by peer")
        ),
      ],
      acceptsNewStreams: false,
      closeReason: "connection to 10.0.0.1:2379 failed: Connection reset by peer"
    ),
    Script(
      name: "a broken HTTP/2 frame fails the connection; the first reason stays",
      steps: [
        (.bytes(http1StatusLine: nil), .none),
        (.receiveFailed("PROTOCOL_ERROR"), .failCallsAndClose(reason: "PROTOCOL_ERROR from 10.0.0.1:2379")),
        (.sessionEnded, .none),
        (.channelInactive, .none),
      ],
      acceptsNewStreams: false,
      closeReason: "PROTOCOL_ERROR from 10.0.0.1:2379"
    ),
    Script(
      name: "a broken frame during GOAWAY draining fails the calls with its own reason",
      steps: [
        (.streamOpened, .none),
        (.goAway(lastStreamID: 1, errorCode: 0), .drain(lastStreamID: 1, errorCode: 0)),
        (.receiveFailed("PROTOCOL_ERROR"), .failCallsAndClose(reason: "PROTOCOL_ERROR from 10.0.0.1:2379")),
      ],
      acceptsNewStreams: false,
      closeReason: goAwayReason
    ),
    Script(
      name: "the session ended",
      steps: [
        (.bytes(http1StatusLine: nil), .none),
        (.sessionEnded, .failCallsAndClose(reason: "the HTTP/2 session with 10.0.0.1:2379 ended")),
      ],
      acceptsNewStreams: false,
      closeReason: "the HTTP/2 session with 10.0.0.1:2379 ended"
    ),
    Script(
      name: "the session's output failed",
      steps: [
        (
          .sendFailed("NGHTTP2_ERR_NOMEM"),
          .failCallsAndClose(reason: "NGHTTP2_ERR_NOMEM on the connection to 10.0.0.1:2379")
        )
      ],
      acceptsNewStreams: false,
      closeReason: "NGHTTP2_ERR_NOMEM on the connection to 10.0.0.1:2379"
    ),
    Script(
      name: "the session could not start: no keepalive after",
      steps: [
        (.sessionStartFailed("nomem"), .failCallsAndClose(reason: "cannot start HTTP/2 session: nomem")),
        (.channelActive, .none),
        (.goAway(lastStreamID: 0, errorCode: 0), .none),
        (.close(force: true), .none),
        (.keepaliveTimer, .none),
      ],
      acceptsNewStreams: false,
      closeReason: "cannot start HTTP/2 session: nomem"
    ),
    Script(
      name: "handler removed without a close: closed",
      steps: [(.handlerRemoved, .failCallsAndClose(reason: closedReason)), (.channelInactive, .none)],
      acceptsNewStreams: false,
      closeReason: closedReason
    ),
  ]

  @Test("inputs and actions", arguments: lifecycleScripts)
  fileprivate func lifecycle(_ script: Script) {
    run(script)
  }

  @Test("a connection that takes no new stream says why")
  func refusalReason() {
    var machine = Machine(configuration: .init(endpoint: endpoint, isTLS: false))
    #expect(machine.refusalReason == "connection to 10.0.0.1:2379 is closing")
    _ = machine.goAwayReceived(lastStreamID: 3, errorCode: 0)
    #expect(machine.refusalReason == goAwayReason)
    #expect(
      machine.streamNotSubmittedReason(error: "NGHTTP2_ERR_STREAM_ID_NOT_AVAILABLE")
        == "cannot open a stream to 10.0.0.1:2379: NGHTTP2_ERR_STREAM_ID_NOT_AVAILABLE")
  }

  @Test("open streams are counted, and none after the connection failed")
  func streamCount() {
    var machine = Machine(configuration: .init(endpoint: endpoint, isTLS: false))
    machine.streamOpened()
    machine.streamOpened()
    #expect(machine.openStreams == 2)
    #expect(machine.streamClosed() == .none)
    #expect(machine.openStreams == 1)
    #expect(machine.channelInactive() == .failCallsAndClose(reason: nothingSent))
    #expect(machine.openStreams == 0)
    #expect(machine.streamClosed() == .none)
    #expect(machine.openStreams == 0)
  }
}
