import GRPCProtocol

/// The lifecycle of one long-lived bidirectional stream shared by many consumers (Watch, LeaseKeepAlive), as a
/// pure state machine: when to open it, when to cancel it, how long to wait before reopening it after it
/// broke, when to fetch a new auth token, and whether the consumers survive an error.
///
/// What the stream carries is another machine's business (`WatchStreamStateMachine`,
/// `LeaseKeepAliveStateMachine`): this one tells it that the stream opened, or failed and whether that failure
/// is resumable; it asks this one to open the stream or to close it. Each stream it opens has a generation, so
/// the events of a stream it already gave up are recognised and ignored.
///
/// No I/O, no clocks: the random number that places a backoff in its jitter range is an input.
struct SharedStreamStateMachine: Sendable {
  /// What the owner of the stream must do.
  enum Action: Sendable {
    /// Open a stream and report it with `streamOpened(generation:)` or `streamFailed(generation:...)`.
    case openStream(generation: Int)
    /// Cancel the current stream.
    case cancelStream
    /// Wait, then report `backoffElapsed()`.
    case waitBackoff(Duration)
    /// Fetch a new auth token (the one the stream was opened with is stale), then report
    /// `authTokenRefreshed()`.
    case refreshAuthToken
    /// Tell the protocol machine that the stream is open.
    case protocolStreamOpened
    /// Tell the protocol machine that the stream failed with `error`; with `resumable`, its consumers wait for
    /// the stream to reopen, otherwise they end with `error`.
    case protocolStreamFailed(EtcdError, resumable: Bool)
  }

  /// Where the stream is.
  enum State: Sendable, Equatable {
    /// No stream, and none is wanted.
    case closed
    /// A stream of this generation is being opened.
    case opening(generation: Int)
    /// A stream of this generation is open.
    case open(generation: Int)
    /// The stream broke: waiting, while `backoffPending`, for the backoff to elapse and, while
    /// `awaitingToken`, for a new auth token; `wanted` says whether a stream is to be opened after that.
    case backingOff(backoffPending: Bool, awaitingToken: Bool, wanted: Bool)
    /// The client is closing: nothing opens any more.
    case shutDown
  }

  /// Where the stream is.
  private(set) var state: State = .closed
  /// Failures since a message last arrived.
  private(set) var consecutiveFailures = 0
  /// How many times the stream was reopened after a resumable failure.
  private(set) var resumptions = 0
  private var generation = 0
  /// Whether the backoff in progress follows a failure (not only the first auth token's fetch).
  private var resumingAfterFailure = false
  private let requireLeader: Bool
  private let backoff: Backoff

  /// The pause before reopening a shared stream: 50 ms doubled per consecutive failure, up to 2 s, ±20%.
  static let reopenBackoff = Backoff(
    initial: .milliseconds(50), maximum: .seconds(2), growth: .exponential(multiplier: 2), jitter: 0.2)

  /// Creates a closed stream's machine; `requireLeader` says whether the stream carries `hasleader` metadata.
  init(requireLeader: Bool = false, backoff: Backoff = Self.reopenBackoff) {
    self.requireLeader = requireLeader
    self.backoff = backoff
  }

  /// Whether a stream of `generation` is the open one.
  func isCurrent(_ generation: Int) -> Bool {
    state == .open(generation: generation)
  }

  // MARK: - Inputs

  /// The protocol machine has consumers and wants the stream: `needsAuthToken` when the client
  /// authenticates and has no token yet (it is fetched first).
  mutating func openRequested(needsAuthToken: Bool = false) -> [Action] {
    switch state {
    case .closed:
      if needsAuthToken {
        state = .backingOff(backoffPending: false, awaitingToken: true, wanted: true)
        return [.refreshAuthToken]
      }
      return open()
    case .backingOff(let backoffPending, let awaitingToken, _):
      state = .backingOff(backoffPending: backoffPending, awaitingToken: awaitingToken, wanted: true)
      return []
    case .opening, .open, .shutDown:
      return []
    }
  }

  /// The protocol machine has no consumer left: the stream is closed (a backoff in progress still runs).
  mutating func closeRequested() -> [Action] {
    switch state {
    case .opening, .open:
      state = .closed
      return [.cancelStream]
    case .backingOff(let backoffPending, let awaitingToken, _):
      state = .backingOff(backoffPending: backoffPending, awaitingToken: awaitingToken, wanted: false)
      return []
    case .closed, .shutDown:
      return []
    }
  }

  /// The stream of `generation` is open.
  mutating func streamOpened(generation opened: Int) -> [Action] {
    guard state == .opening(generation: opened) else { return [] }
    state = .open(generation: opened)
    return [.protocolStreamOpened]
  }

  /// A message arrived on the stream of `generation`: true when it is to be handed to the protocol machine
  /// (the stream is the current one). A message resets the count of consecutive failures.
  mutating func messageReceived(generation received: Int) -> Bool {
    guard isCurrent(received) else { return false }
    consecutiveFailures = 0
    return true
  }

  /// The stream of `generation` failed: it ended (normally or with an error), could not be opened, carried
  /// an undecodable message, or a request could not be framed. `random` (0...1) places the backoff in its
  /// jitter range.
  mutating func streamFailed(generation failed: Int, error: EtcdError, random: Double) -> [Action] {
    switch state {
    case .opening(let current), .open(let current):
      guard current == failed else { return [] }
    case .closed, .backingOff, .shutDown:
      return []
    }
    let resumable = Self.isResumable(error, requireLeader: requireLeader)
    guard resumable else {
      state = .closed
      return [.cancelStream, .protocolStreamFailed(error, resumable: false)]
    }
    consecutiveFailures += 1
    let refresh = Self.needsNewAuthToken(error)
    state = .backingOff(backoffPending: true, awaitingToken: refresh, wanted: false)
    resumingAfterFailure = true
    var actions: [Action] = [
      .cancelStream,
      .waitBackoff(backoff.delay(afterFailures: consecutiveFailures, random: random)),
    ]
    if refresh { actions.append(.refreshAuthToken) }
    // The protocol machine asks for the stream again (`openRequested`) when it still has consumers.
    actions.append(.protocolStreamFailed(error, resumable: true))
    return actions
  }

  /// The backoff of a failure elapsed.
  mutating func backoffElapsed() -> [Action] {
    guard case .backingOff(true, let awaitingToken, let wanted) = state else { return [] }
    state = .backingOff(backoffPending: false, awaitingToken: awaitingToken, wanted: wanted)
    return reopenIfReady()
  }

  /// A new auth token was fetched (or fetching it failed: the stream is opened anyway, and its error says
  /// what is wrong).
  mutating func authTokenRefreshed() -> [Action] {
    guard case .backingOff(let backoffPending, true, let wanted) = state else { return [] }
    state = .backingOff(backoffPending: backoffPending, awaitingToken: false, wanted: wanted)
    return reopenIfReady()
  }

  /// The client is closing.
  mutating func shutdown() -> [Action] {
    let hadStream: Bool
    switch state {
    case .opening, .open: hadStream = true
    case .closed, .backingOff, .shutDown: hadStream = false
    }
    state = .shutDown
    return hadStream ? [.cancelStream] : []
  }

  // MARK: - Classification

  /// Whether consumers survive this stream error by waiting for the stream to reopen.
  static func isResumable(_ error: EtcdError, requireLeader: Bool) -> Bool {
    switch error.code {
    case .clientClosed, .invalidConfiguration, .permissionDenied, .authFailed:
      return false
    case .noLeader:
      return !requireLeader
    default:
      return true
    }
  }

  /// Whether the error says the stream's auth token is stale.
  static func needsNewAuthToken(_ error: EtcdError) -> Bool {
    error.code == .invalidAuthToken || error.code == .authOldRevision
  }

  // MARK: - Helpers

  private mutating func open() -> [Action] {
    generation += 1
    state = .opening(generation: generation)
    return [.openStream(generation: generation)]
  }

  private mutating func reopenIfReady() -> [Action] {
    guard case .backingOff(false, false, let wanted) = state else { return [] }
    let resuming = resumingAfterFailure
    resumingAfterFailure = false
    guard wanted else {
      state = .closed
      return []
    }
    if resuming { resumptions += 1 }
    return open()
  }
}
