/// The client side of one gRPC call, from its creation through its HTTP/2 stream to its end, as a pure state
/// machine.
///
/// A call starts waiting for a stream (its connection may still be connecting); `streamOpened()` puts it on
/// one. Every event before and on the stream (a failed connection, headers, body chunks, stream close, local
/// cancellation, an expired deadline, the connection going away) is an input; the output says what the I/O
/// layer must do. The machine owns framing
/// rules, header validation and the mapping of every way a stream can end to one `GRPCStatus`. It has no NIO or
/// nghttp2 types, and is tested with tables of inputs.
public struct GRPCCallStateMachine: Sendable {
  /// How a call is shaped.
  public struct Configuration: Sendable, Hashable {
    /// The largest response message accepted, in bytes.
    public var maxReceiveMessageLength: Int
    /// Whether exactly one response message is expected (unary and client-streaming calls).
    public var expectsSingleResponse: Bool

    /// Creates a configuration.
    public init(maxReceiveMessageLength: Int, expectsSingleResponse: Bool) {
      self.maxReceiveMessageLength = maxReceiveMessageLength
      self.expectsSingleResponse = expectsSingleResponse
    }
  }

  /// What the I/O layer must do after an input.
  public enum Action: Sendable, Hashable {
    /// Nothing beyond delivering the messages passed to the callback.
    case none
    /// The call ended with this status; the stream needs nothing more.
    case finish(GRPCStatus, CallEnd)
    /// Reset the stream with RST_STREAM(CANCEL), then end the call with this status.
    case resetStreamAndFinish(GRPCStatus, CallEnd)
  }

  /// Facts about how a call ended, beyond its status: where the end came from, and whether it may be retried.
  public struct CallEnd: Sendable, Hashable {
    /// Where an end came from.
    public enum Origin: Sendable, Hashable {
      /// The server's status (trailers or a trailers-only response), or a non-gRPC HTTP response.
      case server
      /// The response broke gRPC's rules (framing, headers, message count).
      case malformedResponse
      /// A response message was over the receive limit.
      case responseTooLarge
      /// The peer reset the stream, went away, or the connection failed.
      case connection
      /// The caller cancelled.
      case cancelled
      /// The deadline passed.
      case deadline
    }
    /// Where the end came from.
    public var origin: Origin
    /// True when the server provably never processed the request (REFUSED_STREAM, or a stream above a GOAWAY's
    /// last stream id), so even a call that changes state may be retried elsewhere.
    public var neverProcessed: Bool

    /// Creates the facts of an end.
    public init(origin: Origin, neverProcessed: Bool = false) {
      self.origin = origin
      self.neverProcessed = neverProcessed
    }
  }

  private enum State: Sendable, Hashable {
    /// The call exists but is not on a stream yet: it waits for a connection, or to be submitted.
    case waitingForStream
    /// The request went out; no response headers yet.
    case awaitingResponseHeaders
    /// Response headers were valid; messages may arrive until trailers.
    case receivingMessages
    /// The call has ended; every later input is ignored.
    case finished
  }

  private var state: State
  private var deframer: GRPCMessageDeframer
  private let configuration: Configuration
  /// Response messages delivered so far.
  public private(set) var messagesReceived = 0

  /// Creates the machine of a call.
  ///
  /// - Parameters:
  ///   - configuration: The largest response message accepted, and whether one response is expected.
  ///   - onStream: true (the default) for a call whose request is already submitted on a stream; false
  ///     for a call that waits for one, until `streamOpened()`.
  public init(configuration: Configuration, onStream: Bool = true) {
    self.state = onStream ? .awaitingResponseHeaders : .waitingForStream
    self.configuration = configuration
    self.deframer = GRPCMessageDeframer(maxMessageLength: configuration.maxReceiveMessageLength)
  }

  /// Whether the call has ended.
  public var isFinished: Bool { state == .finished }

  /// Whether the call is on a stream (its request was submitted) and has not ended.
  public var isOnStream: Bool {
    switch state {
    case .awaitingResponseHeaders, .receivingMessages: true
    case .waitingForStream, .finished: false
    }
  }

  // MARK: - Inputs before the stream

  /// The request was submitted on a new stream; the call now waits for the response headers.
  ///
  /// - Returns: false when the call already ended (cancelled or expired while waiting): the stream must not be
  ///   opened.
  public mutating func streamOpened() -> Bool {
    guard state == .waitingForStream else { return false }
    state = .awaitingResponseHeaders
    return true
  }

  /// No stream could be opened for the call (no connection could be made, the connection is closing, the
  /// client closed): it ends with `status`. The request never left, so it may be retried anywhere.
  public mutating func streamUnavailable(_ status: GRPCStatus) -> Action {
    guard state == .waitingForStream else { return .none }
    state = .finished
    return .finish(status, CallEnd(origin: .connection, neverProcessed: true))
  }

  // MARK: - Inputs from the peer

  /// A HEADERS block arrived: the response headers, a trailers-only response, or the trailers.
  public mutating func headersReceived(_ block: GRPCHeaderBlock, endStream: Bool) -> Action {
    switch state {
    case .awaitingResponseHeaders:
      if let httpStatus = block.httpStatus, httpStatus != 200 {
        // Not a gRPC response. A grpc-status, if the peer sent one, still wins (gRPC's
        // http-grpc-status-mapping.md), except OK: an HTTP error never makes a call succeed (a
        // unary call would "succeed" with no message, and a reset stream would look complete).
        let mapped = GRPCStatus(
          code: Self.code(forHTTPStatus: httpStatus),
          message: "unexpected HTTP status code \(httpStatus) received from server"
        )
        let status = block.status.flatMap { $0.code == .ok ? nil : $0 } ?? mapped
        return finish(status, reset: !endStream, origin: .server)
      }
      if block.httpStatus == nil {
        return finish(
          GRPCStatus(code: .internal, message: "malformed response: missing HTTP :status"),
          reset: !endStream
        )
      }
      if endStream {
        // Trailers-only: the status is in this one block.
        guard let status = block.status else {
          return finish(Self.missingStatus, reset: false)
        }
        if status.code == .ok && configuration.expectsSingleResponse {
          return finish(Self.okWithoutMessage, reset: false)
        }
        return finish(status, reset: false, origin: .server)
      }
      guard let contentType = block.contentType, contentType.hasPrefix("application/grpc") else {
        return finish(
          GRPCStatus(
            code: .internal,
            message: "unexpected content-type \"\(block.contentType ?? "")\" in response"
          ),
          reset: true
        )
      }
      if let encoding = block.grpcEncoding, encoding != "identity" {
        return finish(
          GRPCStatus(code: .internal, message: "unsupported response encoding \"\(encoding)\""),
          reset: true
        )
      }
      state = .receivingMessages
      return .none

    case .receivingMessages:
      guard endStream else {
        return finish(
          GRPCStatus(code: .internal, message: "malformed response: headers after headers without END_STREAM"),
          reset: true
        )
      }
      guard deframer.isAtMessageBoundary else {
        return finish(
          GRPCStatus(code: .internal, message: "response ended inside a message (truncated message)"),
          reset: false
        )
      }
      guard let status = block.status else {
        return finish(Self.missingStatus, reset: false)
      }
      if status.code == .ok && configuration.expectsSingleResponse && messagesReceived == 0 {
        return finish(Self.okWithoutMessage, reset: false)
      }
      return finish(status, reset: false, origin: .server)

    case .waitingForStream, .finished:
      return .none
    }
  }

  /// A chunk of the response body arrived. Each completed message is passed to `onMessage` in order.
  public mutating func dataReceived(
    _ chunk: UnsafeRawBufferPointer,
    onMessage: (_ message: [UInt8]) -> Void
  ) -> Action {
    switch state {
    case .awaitingResponseHeaders:
      return finish(
        GRPCStatus(code: .internal, message: "malformed response: DATA before HEADERS"),
        reset: true
      )
    case .waitingForStream, .finished:
      return .none
    case .receivingMessages:
      let expectsSingle = configuration.expectsSingleResponse
      var delivered = messagesReceived
      do {
        try deframer.process(chunk) { message in
          // A unary call's second message ends the call here, before the rest of the chunk is
          // read: the first violation decides the status, however DATA frames cut the body.
          if expectsSingle && delivered >= 1 { throw TooManyMessages() }
          delivered += 1
          onMessage(message)
        }
      } catch let error as GRPCMessageDeframer.DeframingError {
        messagesReceived = delivered
        let origin: CallEnd.Origin
        if case .messageTooLarge = error { origin = .responseTooLarge } else { origin = .malformedResponse }
        return finish(error.status, reset: true, origin: origin)
      } catch {
        // `process` only rethrows what the closure throws: `TooManyMessages`.
        messagesReceived = delivered
        return finish(
          GRPCStatus(code: .internal, message: "server sent more than one response message"),
          reset: true
        )
      }
      messagesReceived = delivered
      return .none
    }
  }

  /// The stream closed. `errorCode` is the HTTP/2 error code: 0 after a normal END_STREAM, otherwise the code of
  /// the RST_STREAM (or of the session's failure).
  public mutating func streamClosed(errorCode: UInt32) -> Action {
    guard isOnStream else { return .none }
    state = .finished
    if errorCode == 0 {
      return .finish(
        GRPCStatus(code: .internal, message: "server closed the stream without sending trailers"),
        CallEnd(origin: .malformedResponse)
      )
    }
    let status = GRPCStatus(
      code: Self.code(forHTTP2ErrorCode: errorCode),
      message: "stream terminated by RST_STREAM with error code: \(Self.http2ErrorName(errorCode))"
    )
    return .finish(status, CallEnd(origin: .connection, neverProcessed: errorCode == HTTP2ErrorCode.refusedStream))
  }

  /// The peer sent GOAWAY. Streams above `lastStreamID` were never processed and end now; others continue.
  public mutating func goAwayReceived(
    lastStreamID: Int32, streamID: Int32, errorCode: UInt32
  ) -> Action {
    guard isOnStream, streamID > lastStreamID else { return .none }
    state = .finished
    return .finish(
      GRPCStatus(
        code: .unavailable,
        message: "the connection is draining (GOAWAY \(Self.http2ErrorName(errorCode))); request not processed"
      ),
      CallEnd(origin: .connection, neverProcessed: true)
    )
  }

  /// The connection closed or failed under the stream.
  ///
  /// - Parameters:
  ///   - reason: Why the connection ended: the message of the call's `UNAVAILABLE` status.
  ///   - requestSent: whether any byte of this stream's request could have reached the peer.
  public mutating func connectionClosed(reason: String, requestSent: Bool) -> Action {
    guard state != .finished else { return .none }
    let neverProcessed = state == .waitingForStream || !requestSent
    state = .finished
    return .finish(
      GRPCStatus(code: .unavailable, message: reason),
      CallEnd(origin: .connection, neverProcessed: neverProcessed)
    )
  }

  // MARK: - Inputs from the caller

  /// The caller cancelled the call (its Task was cancelled, or it stopped consuming a stream). On a stream, the
  /// stream is reset; before one, the call just ends, never processed.
  public mutating func cancel() -> Action {
    localEnd(Self.cancelledStatus, origin: .cancelled)
  }

  /// The call's deadline passed. On a stream, the stream is reset; before one, the call just ends, never
  /// processed.
  public mutating func deadlineExceeded() -> Action {
    localEnd(Self.deadlineExceededStatus, origin: .deadline)
  }

  /// The status of a call the client cancelled.
  public static let cancelledStatus = GRPCStatus(
    code: .cancelled, message: "the call was cancelled by the client")

  /// The status of a call whose deadline passed (etcd's Go client says the same).
  public static let deadlineExceededStatus = GRPCStatus(
    code: .deadlineExceeded, message: "context deadline exceeded")

  private mutating func localEnd(_ status: GRPCStatus, origin: CallEnd.Origin) -> Action {
    switch state {
    case .finished:
      return .none
    case .waitingForStream:
      state = .finished
      return .finish(status, CallEnd(origin: origin, neverProcessed: true))
    case .awaitingResponseHeaders, .receivingMessages:
      state = .finished
      return .resetStreamAndFinish(status, CallEnd(origin: origin))
    }
  }

  // MARK: - Helpers

  private mutating func finish(
    _ status: GRPCStatus,
    reset: Bool,
    origin: CallEnd.Origin = .malformedResponse
  ) -> Action {
    state = .finished
    let end = CallEnd(origin: origin)
    return reset ? .resetStreamAndFinish(status, end) : .finish(status, end)
  }

  /// Thrown from the deframer's callback to stop at a unary call's second message.
  private struct TooManyMessages: Error {}

  private static let okWithoutMessage = GRPCStatus(
    code: .internal,
    message: "server returned OK but no response message"
  )

  private static let missingStatus = GRPCStatus(
    code: .internal,
    message: "malformed response: missing grpc-status"
  )

  /// Maps a non-200 HTTP status to a gRPC code, as gRPC's `http-grpc-status-mapping.md` specifies.
  public static func code(forHTTPStatus status: Int) -> GRPCStatusCode {
    switch status {
    case 400: .internal
    case 401: .unauthenticated
    case 403: .permissionDenied
    case 404: .unimplemented
    case 429, 502, 503, 504: .unavailable
    default: .unknown
    }
  }

  /// Maps an HTTP/2 RST_STREAM error code to a gRPC code, as gRPC's `PROTOCOL-HTTP2.md` specifies.
  public static func code(forHTTP2ErrorCode code: UInt32) -> GRPCStatusCode {
    switch code {
    case HTTP2ErrorCode.refusedStream: .unavailable
    case HTTP2ErrorCode.cancel: .cancelled
    case HTTP2ErrorCode.enhanceYourCalm: .resourceExhausted
    case HTTP2ErrorCode.inadequateSecurity: .permissionDenied
    default: .internal
    }
  }

  /// The name RFC 9113 gives an HTTP/2 error code.
  public static func http2ErrorName(_ code: UInt32) -> String {
    switch code {
    case 0x0: "NO_ERROR"
    case 0x1: "PROTOCOL_ERROR"
    case 0x2: "INTERNAL_ERROR"
    case 0x3: "FLOW_CONTROL_ERROR"
    case 0x4: "SETTINGS_TIMEOUT"
    case 0x5: "STREAM_CLOSED"
    case 0x6: "FRAME_SIZE_ERROR"
    case 0x7: "REFUSED_STREAM"
    case 0x8: "CANCEL"
    case 0x9: "COMPRESSION_ERROR"
    case 0xa: "CONNECT_ERROR"
    case 0xb: "ENHANCE_YOUR_CALM"
    case 0xc: "INADEQUATE_SECURITY"
    case 0xd: "HTTP_1_1_REQUIRED"
    default: "0x\(String(code, radix: 16))"
    }
  }
}

/// HTTP/2 error codes (RFC 9113 section 7) that the gRPC mapping distinguishes.
public enum HTTP2ErrorCode {
  /// NO_ERROR: a graceful end.
  public static let noError: UInt32 = 0x0
  /// PROTOCOL_ERROR.
  public static let protocolError: UInt32 = 0x1
  /// INTERNAL_ERROR.
  public static let internalError: UInt32 = 0x2
  /// REFUSED_STREAM: the stream was not processed.
  public static let refusedStream: UInt32 = 0x7
  /// CANCEL: the stream is no longer needed.
  public static let cancel: UInt32 = 0x8
  /// ENHANCE_YOUR_CALM: the peer thinks it is being abused.
  public static let enhanceYourCalm: UInt32 = 0xb
  /// INADEQUATE_SECURITY: the TLS setup is not good enough for HTTP/2.
  public static let inadequateSecurity: UInt32 = 0xc
}
