/// The client side of one HTTP/2 connection's life, as a pure state machine: whether it takes new streams, when
/// it drains and closes, the keepalive PING, and the reason it closed.
///
/// The channel's events (active, bytes received, errors, inactive), the streams opening and closing, GOAWAY,
/// the keepalive timers and a local close are inputs; the output says what the I/O layer must do. Timers are
/// actions the I/O layer arms, and their firing comes back as inputs. Every reason a connection gives its calls
/// is worded here. No NIO or nghttp2 types; tested with tables of inputs.
package struct HTTP2ConnectionStateMachine: Sendable {
  /// What the connection is and how it keeps alive.
  package struct Configuration: Sendable, Hashable {
    /// The endpoint as reasons name it (`host:port`).
    package var endpoint: String
    /// Whether the connection is TLS: a plain connection that gets nothing back may be talking to a TLS server.
    package var isTLS: Bool
    /// HTTP/2 PING keepalive; nil for none.
    package var keepalive: Keepalive?

    /// Creates a configuration.
    package init(endpoint: String, isTLS: Bool, keepalive: Keepalive? = nil) {
      self.endpoint = endpoint
      self.isTLS = isTLS
      self.keepalive = keepalive
    }
  }

  /// PING keepalive times, in nanoseconds.
  package struct Keepalive: Sendable, Hashable {
    /// How often to ping while streams are open.
    package var intervalNanoseconds: Int64
    /// How long to wait for the PING's ACK.
    package var timeoutNanoseconds: Int64

    /// Creates keepalive times.
    package init(intervalNanoseconds: Int64, timeoutNanoseconds: Int64) {
      self.intervalNanoseconds = intervalNanoseconds
      self.timeoutNanoseconds = timeoutNanoseconds
    }
  }

  /// What the I/O layer must do after an input.
  package enum Action: Sendable, Hashable {
    /// Nothing.
    case none
    /// Arm the repeating keepalive timer: `keepaliveTimerFired()` every `intervalNanoseconds`.
    case startKeepaliveTimer(intervalNanoseconds: Int64)
    /// Send a PING, flush, and arm a timer that calls `pingTimedOut()` after `timeoutNanoseconds`.
    case sendPing(timeoutNanoseconds: Int64)
    /// Cancel the PING's timeout timer: the ACK came.
    case cancelPingTimeout
    /// The peer sent GOAWAY: end every open stream above `lastStreamID` as never processed (each call's
    /// `goAwayReceived`), and tell the owner that no new call may start here.
    case drain(lastStreamID: Int32, errorCode: UInt32)
    /// Send GOAWAY (end the HTTP/2 session), flush, and close the channel. Calls still open end when the channel
    /// goes inactive.
    case sendGoAwayAndClose
    /// Close the channel. Its calls end when it goes inactive.
    case closeChannel
    /// Stop the timers, end every open call with `reason`, close the channel and tell the owner the connection
    /// is gone.
    case failCallsAndClose(reason: String)
  }

  @usableFromInline
  enum State: Sendable, Hashable {
    /// New streams may open.
    case active
    /// No new stream (GOAWAY, or a local graceful close); the channel closes once the open streams end.
    case draining
    /// The channel is closing; open calls end when it goes inactive.
    case closing
    /// The open calls have ended and the owner was told; every later input is ignored.
    case closed
  }

  private let configuration: Configuration
  // The state and the counters the per-call path reads and changes are usable from inline code, so that the
  // connection handler's calls to `acceptsNewStreams`, `streamOpened` and `streamClosed` compile to field
  // accesses, without copying the machine or entering the runtime's exclusivity checks once per call.
  @usableFromInline
  var state: State = .active {
    didSet { acceptsNewStreams = state == .active }
  }
  /// The number of open streams.
  @usableFromInline
  package internal(set) var openStreams = 0
  /// Whether the peer sent any byte yet.
  @usableFromInline
  package private(set) var hasReceivedBytes = false
  private var keepaliveStarted = false
  private var pingOutstanding = false
  /// Why the connection stopped taking streams, once it has.
  package private(set) var closeReason: String?

  /// Creates the machine of a connection being made.
  package init(configuration: Configuration) {
    self.configuration = configuration
  }

  /// Whether a new stream may open (the state is active). Stored, so that reading it from the handler's
  /// storage is one field load rather than a copy of the machine.
  package private(set) var acceptsNewStreams = true

  /// The reason a call that cannot get a stream here ends with.
  package var refusalReason: String {
    closeReason ?? "connection to \(configuration.endpoint) is closing"
  }

  /// The reason a call ends with when nghttp2 refused to submit its stream.
  package func streamNotSubmittedReason(error: String) -> String {
    "cannot open a stream to \(configuration.endpoint): \(error)"
  }

  // MARK: - Channel events

  /// The channel is connected (or the handler was added to a connected channel).
  package mutating func channelActive() -> Action {
    guard let keepalive = configuration.keepalive, !keepaliveStarted, state != .closed else { return .none }
    keepaliveStarted = true
    return .startKeepaliveTimer(intervalNanoseconds: keepalive.intervalNanoseconds)
  }

  /// Bytes arrived. `http1StatusLine` is what an HTTP/1 sniff of the first bytes found (nil for HTTP/2, and
  /// for every later read, which is not sniffed): an HTTP/1 answer fails the connection.
  ///
  /// - Returns: `.none` when the bytes go to the HTTP/2 session.
  package mutating func bytesReceived(http1StatusLine: String?) -> Action {
    let first = !hasReceivedBytes
    hasReceivedBytes = true
    guard first, let statusLine = http1StatusLine else { return .none }
    return fail(
      reason: "\(configuration.endpoint) answered in HTTP/1 (\"\(statusLine)\"), not HTTP/2: it is not an etcd "
        + "gRPC endpoint (etcd serves clients on its --listen-client-urls, port 2379 by default)")
  }

  /// The channel reported an error: it closes, and its calls end with this reason when it is inactive.
  package mutating func errorCaught(_ error: String) -> Action {
    guard state != .closed else { return .none }
    closeReason = "connection to \(configuration.endpoint) failed: \(error)"
    state = .closing
    return .closeChannel
  }

  /// The channel closed.
  package mutating func channelInactive() -> Action {
    if !configuration.isTLS && !hasReceivedBytes && closeReason == nil {
      closeReason =
        "\(configuration.endpoint) closed the connection before it sent anything (if it serves TLS, use an "
        + "https:// endpoint or set Configuration.tls)"
    }
    return fail(reason: closeReason ?? "connection to \(configuration.endpoint) closed")
  }

  /// The handler left the channel.
  package mutating func handlerRemoved() -> Action {
    fail(reason: closeReason ?? "connection to \(configuration.endpoint) closed")
  }

  // MARK: - HTTP/2 session events

  /// The HTTP/2 session could not be created.
  package mutating func sessionStartFailed(_ error: String) -> Action {
    fail(reason: "cannot start HTTP/2 session: \(error)")
  }

  /// The peer broke HTTP/2 (the session has queued a GOAWAY, which the I/O layer sends first).
  package mutating func receiveFailed(_ error: String) -> Action {
    fail(reason: "\(error) from \(configuration.endpoint)")
  }

  /// The session's output could not be produced.
  package mutating func sendFailed(_ error: String) -> Action {
    fail(reason: "\(error) on the connection to \(configuration.endpoint)")
  }

  /// The session wants neither to read nor to write any more.
  package mutating func sessionEnded() -> Action {
    fail(reason: "the HTTP/2 session with \(configuration.endpoint) ended")
  }

  /// A stream was opened (a call's request submitted).
  @inlinable
  package mutating func streamOpened() {
    openStreams += 1
  }

  /// A stream's call ended. The last stream of a draining connection closes it.
  @inlinable
  package mutating func streamClosed() -> Action {
    openStreams = max(openStreams - 1, 0)
    guard state == .draining, openStreams == 0 else { return .none }
    state = .closing
    return .sendGoAwayAndClose
  }

  /// The peer sent GOAWAY: no new stream; streams above `lastStreamID` were never processed.
  package mutating func goAwayReceived(lastStreamID: Int32, errorCode: UInt32) -> Action {
    guard state != .closed else { return .none }
    closeReason =
      "\(configuration.endpoint) sent GOAWAY (\(GRPCCallStateMachine.http2ErrorName(errorCode)))"
    if state == .active { state = .draining }
    return .drain(lastStreamID: lastStreamID, errorCode: errorCode)
  }

  // MARK: - Keepalive

  /// The keepalive timer fired. A PING goes out only while streams are open and none is outstanding: etcd's gRPC
  /// server counts PINGs on an idle connection as abuse (`too_many_pings`).
  package mutating func keepaliveTimerFired() -> Action {
    guard let keepalive = configuration.keepalive, state == .active || state == .draining,
      openStreams > 0, !pingOutstanding
    else { return .none }
    pingOutstanding = true
    return .sendPing(timeoutNanoseconds: keepalive.timeoutNanoseconds)
  }

  /// The peer acknowledged a PING.
  package mutating func pingAcknowledged() -> Action {
    guard pingOutstanding else { return .none }
    pingOutstanding = false
    return .cancelPingTimeout
  }

  /// The PING's timeout passed without an ACK: the peer is gone (stopped, or the network cut).
  package mutating func pingTimedOut() -> Action {
    guard pingOutstanding, state != .closed, let keepalive = configuration.keepalive else { return .none }
    pingOutstanding = false
    let reason =
      "\(configuration.endpoint) did not answer a keepalive PING within "
      + "\(keepalive.timeoutNanoseconds / 1_000_000) ms"
    closeReason = reason
    return fail(reason: reason)
  }

  // MARK: - The owner

  /// The client closes the connection: GOAWAY and close once the open streams ended, or at once with `force`.
  package mutating func closeRequested(force: Bool) -> Action {
    guard state != .closed, state != .closing else { return .none }
    if closeReason == nil { closeReason = "the client closed the connection to \(configuration.endpoint)" }
    guard force || openStreams == 0 else {
      state = .draining
      return .none
    }
    state = .closing
    return .sendGoAwayAndClose
  }

  // MARK: - Helpers

  private mutating func fail(reason: String) -> Action {
    guard state != .closed else { return .none }
    if closeReason == nil { closeReason = reason }
    state = .closed
    openStreams = 0
    pingOutstanding = false
    return .failCallsAndClose(reason: reason)
  }
}
