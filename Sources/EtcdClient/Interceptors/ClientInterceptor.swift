public import Tracing

/// Sees every RPC the client makes: its start, each message sent and received with its size, and its end.
///
/// Interceptors are configured on the client (`EtcdClient.Configuration.interceptors`) and called in that order
/// at start, in reverse order at the end. For unary calls every hook runs on the calling task, never on the
/// event loop. For streaming calls (Watch, LeaseKeepAlive) the start and each sent message are seen on the
/// sender's task, and each received message and the end on the connection's event loop as they happen, so
/// hooks must be quick: they are on the call's path. A client with no interceptors does none of this work.
///
/// Every method has an empty default, so an interceptor implements only what it needs:
///
/// ```swift
/// struct SlowCallLogger: ClientInterceptor {
///   func callFinished(_ call: ClientCallInfo, outcome: ClientCallOutcome) {
///     if outcome.duration > .milliseconds(100) { print("slow: \(call.method) \(outcome.duration)") }
///   }
/// }
/// ```
public protocol ClientInterceptor: Sendable {
  /// A call is about to start. `metadata` is sent with the request; an interceptor may add to it.
  func callStarted(_ call: ClientCallInfo, metadata: inout ClientMetadata)

  /// A request message is about to be sent. `size` counts the serialized message, without gRPC's 5-byte prefix
  /// (gRFC A66's "compressed message size" with no compression).
  func messageSent(_ call: ClientCallInfo, size: Int)

  /// A response message was received; `size` is counted as for `messageSent`.
  func messageReceived(_ call: ClientCallInfo, size: Int)

  /// One attempt of the call ended. A call makes one attempt, or several when it is retried on another
  /// endpoint (gRFC A66's per-attempt view); `callFinished` follows the last.
  func attemptFinished(_ call: ClientCallInfo, attempt: ClientAttempt)

  /// The call ended: with `.ok`, or with the status and error it failed with.
  func callFinished(_ call: ClientCallInfo, outcome: ClientCallOutcome)
}

extension ClientInterceptor {
  /// Does nothing.
  public func callStarted(_ call: ClientCallInfo, metadata: inout ClientMetadata) {}
  /// Does nothing.
  public func messageSent(_ call: ClientCallInfo, size: Int) {}
  /// Does nothing.
  public func messageReceived(_ call: ClientCallInfo, size: Int) {}
  /// Does nothing.
  public func attemptFinished(_ call: ClientCallInfo, attempt: ClientAttempt) {}
  /// Does nothing.
  public func callFinished(_ call: ClientCallInfo, outcome: ClientCallOutcome) {}
}

/// One attempt of a call.
public struct ClientAttempt: Sendable {
  /// The attempt's number: 0 for the first, 1 for the first retry, ...
  public let number: Int
  /// The endpoint the attempt went to.
  public let endpoint: String
  /// How the attempt ended.
  public let status: GRPCStatus
  /// The attempt's duration.
  public var duration: Duration { .nanoseconds(durationNanoseconds) }
  /// The attempt's duration in nanoseconds: `duration` without `Duration`'s 128-bit arithmetic, for
  /// recorders on the call's path.
  public let durationNanoseconds: Int64
  /// The size of the request messages sent in this attempt.
  public let bytesSent: Int
  /// The size of the response messages received in this attempt.
  public let bytesReceived: Int

  /// Creates an attempt (public for interceptor tests).
  public init(
    number: Int,
    endpoint: String,
    status: GRPCStatus,
    duration: Duration,
    bytesSent: Int,
    bytesReceived: Int
  ) {
    self.init(
      number: number, endpoint: endpoint, status: status,
      durationNanoseconds: MonotonicClock.nanoseconds(duration), bytesSent: bytesSent,
      bytesReceived: bytesReceived)
  }

  init(
    number: Int,
    endpoint: String,
    status: GRPCStatus,
    durationNanoseconds: Int64,
    bytesSent: Int,
    bytesReceived: Int
  ) {
    self.number = number
    self.endpoint = endpoint
    self.status = status
    self.durationNanoseconds = durationNanoseconds
    self.bytesSent = bytesSent
    self.bytesReceived = bytesReceived
  }
}

/// What an interceptor knows about a call.
public struct ClientCallInfo: Sendable {
  /// The call's span when the client traces calls (`EtcdClient.Configuration.tracer`), started before
  /// any interceptor's `callStarted` and ended after every `callFinished`; nil otherwise.
  public var span: (any Span)? { traced?.span }

  /// The span, in a class of its own: `any Span` would make this struct address-only, copied and
  /// tested through value witnesses on every call (about 250 instructions per call under callgrind,
  /// with tracing off), where a reference is one word and nil costs nothing.
  let traced: CallSpan?
  /// The method called.
  public let method: RPCMethod
  /// The endpoint of the call's first attempt (`host:port` as configured). Retries may go elsewhere: see
  /// `ClientAttempt.endpoint` and `ClientCallOutcome.endpoint`.
  public let endpoint: String
  /// When the call started, on the monotonic clock.
  public var startTime: ContinuousClock.Instant { MonotonicClock.instant(started) }

  /// `startTime` as a `MonotonicClock` reading: an integer, so this struct has a fixed layout (unlike the
  /// resilient `ContinuousClock.Instant`) and a call's durations cost a subtraction.
  let started: Int64

  /// Creates call information (public for interceptor tests).
  public init(
    method: RPCMethod, endpoint: String, startTime: ContinuousClock.Instant, span: (any Span)? = nil
  ) {
    self.init(
      method: method, endpoint: endpoint, started: MonotonicClock.nanoseconds(startTime),
      span: span.map(CallSpan.init))
  }

  init(method: RPCMethod, endpoint: String, started: Int64, span: CallSpan? = nil) {
    self.method = method
    self.endpoint = endpoint
    self.started = started
    self.traced = span
  }

  /// Nanoseconds from the call's start to now.
  func elapsed() -> Int64 {
    MonotonicClock.now() &- started
  }
}

/// How a call ended.
public struct ClientCallOutcome: Sendable {
  /// The final status; `.ok` on success.
  public let status: GRPCStatus
  /// The error the call threw, or nil on success.
  public let error: EtcdError?
  /// The time from `callStarted` to the end.
  public var duration: Duration { .nanoseconds(durationNanoseconds) }
  /// `duration` in nanoseconds, for recorders on the call's path.
  public let durationNanoseconds: Int64
  /// How many request messages were sent.
  public let messagesSent: Int
  /// The total size of the request messages sent, counted as in `messageSent`.
  public let bytesSent: Int
  /// How many response messages were received.
  public let messagesReceived: Int
  /// The total size of the response messages received, counted as in `messageReceived`.
  public let bytesReceived: Int
  /// How many attempts the call made (1 unless it was retried).
  public let attempts: Int
  /// The endpoint of the last attempt: the member that served the call, or the last one tried.
  public let endpoint: String

  /// Creates an outcome (public for interceptor tests).
  public init(
    status: GRPCStatus,
    error: EtcdError?,
    duration: Duration,
    messagesSent: Int = 0,
    bytesSent: Int = 0,
    messagesReceived: Int = 0,
    bytesReceived: Int = 0,
    attempts: Int = 1,
    endpoint: String = ""
  ) {
    self.init(
      status: status, error: error, durationNanoseconds: MonotonicClock.nanoseconds(duration),
      messagesSent: messagesSent, bytesSent: bytesSent, messagesReceived: messagesReceived,
      bytesReceived: bytesReceived, attempts: attempts, endpoint: endpoint)
  }

  init(
    status: GRPCStatus,
    error: EtcdError?,
    durationNanoseconds: Int64,
    messagesSent: Int,
    bytesSent: Int,
    messagesReceived: Int,
    bytesReceived: Int,
    attempts: Int,
    endpoint: String
  ) {
    self.attempts = attempts
    self.endpoint = endpoint
    self.status = status
    self.error = error
    self.durationNanoseconds = durationNanoseconds
    self.messagesSent = messagesSent
    self.bytesSent = bytesSent
    self.messagesReceived = messagesReceived
    self.bytesReceived = bytesReceived
  }
}
