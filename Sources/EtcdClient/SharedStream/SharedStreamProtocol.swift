import SwiftProtobuf

/// What a shared stream's protocol asks of the stream.
enum SharedStreamCommand<Request: Sendable>: Sendable {
  /// Open the stream (the protocol has consumers).
  case open
  /// Close the stream (no consumer is left).
  case close
  /// Send a request message on the open stream.
  case send(Request)
}

/// The protocol a `SharedStreamDriver` carries (Watch, LeaseKeepAlive): the protocol's state machine and its
/// consumers' continuations. It decodes responses, feeds its machine, delivers to and ends its consumers
/// itself, and returns what the stream must do; the driver owns the stream, its reading, its backoff, its
/// auth token refresh and the protocol's timer.
protocol SharedStreamProtocol: SendableMetatype {
  /// The request message the stream carries.
  associatedtype Request: SwiftProtobuf.Message & Sendable
  /// A consumer's request (to start, to stop), handed to the driver from any task.
  associatedtype Operation: Sendable
  /// A command of this protocol.
  typealias Command = SharedStreamCommand<Request>

  /// The stream's method.
  var method: RPCMethod { get }
  /// Metadata sent when the stream opens.
  var metadata: ClientMetadata { get }
  /// Whether the protocol needs its timer (checked after every change, so cheap).
  var needsTimer: Bool { get }
  /// How long until the protocol's timer is due; nil when it needs no timer.
  var timerDelay: Duration? { get }

  /// A consumer's request.
  mutating func apply(_ operation: Operation) -> [Command]
  /// The stream opened.
  mutating func streamOpened() -> [Command]
  /// A message arrived; throws `invalidResponse` when it cannot be decoded.
  mutating func received(_ message: [UInt8]) throws(EtcdError) -> [Command]
  /// The stream failed; with `resumable`, consumers wait for it to reopen, otherwise they end with `error`.
  mutating func streamFailed(_ error: EtcdError, resumable: Bool) -> [Command]
  /// The protocol's timer fired.
  mutating func timerFired() -> [Command]
  /// The client is closing: every consumer ends with `error`.
  mutating func shutdown(_ error: EtcdError)
  /// Ends the consumer of an operation that arrived after shutdown.
  static func reject(_ operation: Operation, with error: EtcdError)
}

extension SharedStreamProtocol {
  /// Decodes a response message of the stream; one that cannot be decoded is an `invalidResponse` error,
  /// which restarts the stream.
  func decode<Response: SwiftProtobuf.Message>(
    _ message: [UInt8], as: Response.Type
  ) throws(EtcdError) -> Response {
    do {
      return try Response(serializedBytes: message)
    } catch {
      throw EtcdError(
        code: .invalidResponse,
        status: GRPCStatus(
          code: .internal, message: "undecodable \(method.method) response: \(error)"),
        cause: error
      )
    }
  }
}
