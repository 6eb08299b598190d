import Testing

import GRPCProtocol

// MARK: - Table machinery

/// One input to the state machine, as the I/O layer would deliver it.
private enum Input: Sendable, CustomStringConvertible {
  case headers(GRPCHeaderBlock, endStream: Bool)
  case data([UInt8])
  case streamClosed(errorCode: UInt32)
  case goAway(lastStreamID: Int32, streamID: Int32, errorCode: UInt32)
  case connectionClosed(reason: String, requestSent: Bool)
  case cancel
  case deadlineExceeded
  /// `streamOpened()`, which must answer `opens`.
  case streamOpened(opens: Bool)
  case streamUnavailable(GRPCStatus)

  var description: String {
    switch self {
    case .headers(let block, let endStream): "headers(\(block), endStream: \(endStream))"
    case .data(let bytes): "data(\(bytes.count) bytes)"
    case .streamClosed(let code): "streamClosed(\(code))"
    case .goAway(let last, let id, let code): "goAway(last: \(last), stream: \(id), code: \(code))"
    case .connectionClosed(let reason, let sent):
      "connectionClosed(\(reason), requestSent: \(sent))"
    case .cancel: "cancel"
    case .deadlineExceeded: "deadlineExceeded"
    case .streamOpened(let opens): "streamOpened(opens: \(opens))"
    case .streamUnavailable(let status): "streamUnavailable(\(status))"
    }
  }
}

extension GRPCCallStateMachine {
  /// Feeds one input; messages the machine delivers are appended to `messages`.
  fileprivate mutating func apply(_ input: Input, messages: inout [[UInt8]]) -> Action {
    switch input {
    case .headers(let block, let endStream):
      return headersReceived(block, endStream: endStream)
    case .data(let bytes):
      return bytes.withUnsafeBytes { chunk in
        dataReceived(chunk) { messages.append($0) }
      }
    case .streamClosed(let errorCode):
      return streamClosed(errorCode: errorCode)
    case .goAway(let lastStreamID, let streamID, let errorCode):
      return goAwayReceived(lastStreamID: lastStreamID, streamID: streamID, errorCode: errorCode)
    case .connectionClosed(let reason, let requestSent):
      return connectionClosed(reason: reason, requestSent: requestSent)
    case .cancel:
      return cancel()
    case .deadlineExceeded:
      return deadlineExceeded()
    case .streamOpened(let opens):
      let opened = streamOpened()
      #expect(opened == opens, "streamOpened()")
      return .none
    case .streamUnavailable(let status):
      return streamUnavailable(status)
    }
  }

  fileprivate static func unary(maxReceive: Int = 4 * 1024 * 1024) -> Self {
    Self(configuration: .init(maxReceiveMessageLength: maxReceive, expectsSingleResponse: true))
  }

  fileprivate static func streaming(maxReceive: Int = 4 * 1024 * 1024) -> Self {
    Self(configuration: .init(maxReceiveMessageLength: maxReceive, expectsSingleResponse: false))
  }
}

private typealias Action = GRPCCallStateMachine.Action

/// One input and the action it must produce.
private struct Step: Sendable {
  var input: Input
  var expected: Action
}

/// A scripted call: the inputs in order, each with its expected action, and the messages delivered.
private struct Script: Sendable, CustomTestStringConvertible {
  var name: String
  var expectsSingleResponse = true
  var maxReceive = 4 * 1024 * 1024
  /// Whether the call starts waiting for a stream (`onStream: false`) instead of on one.
  var waitsForStream = false
  var steps: [Step]
  var messages: [[UInt8]] = []

  var testDescription: String { name }
}

private func step(_ input: Input, _ expected: Action) -> Step {
  Step(input: input, expected: expected)
}

/// Response headers of a normal gRPC response.
private let responseHeaders = Input.headers(
  GRPCHeaderBlock(httpStatus: 200, contentType: "application/grpc"),
  endStream: false
)

/// A trailers block with this `grpc-status` (and `grpc-message`).
private func trailers(_ grpcStatus: String?, message: String? = nil) -> Input {
  .headers(GRPCHeaderBlock(grpcStatus: grpcStatus, grpcMessage: message), endStream: true)
}

private func finish(
  _ code: GRPCStatusCode,
  _ message: String = "",
  _ origin: GRPCCallStateMachine.CallEnd.Origin,
  neverProcessed: Bool = false
) -> Action {
  .finish(
    GRPCStatus(code: code, message: message),
    .init(origin: origin, neverProcessed: neverProcessed)
  )
}

private func reset(
  _ code: GRPCStatusCode,
  _ message: String,
  _ origin: GRPCCallStateMachine.CallEnd.Origin
) -> Action {
  .resetStreamAndFinish(GRPCStatus(code: code, message: message), .init(origin: origin))
}

private let okFromServer = finish(.ok, "", .server)
private let cancelled = reset(.cancelled, "the call was cancelled by the client", .cancelled)
private let deadlineReset = reset(.deadlineExceeded, "context deadline exceeded", .deadline)

private func run(_ script: Script) {
  var machine = GRPCCallStateMachine(
    configuration: .init(
      maxReceiveMessageLength: script.maxReceive, expectsSingleResponse: script.expectsSingleResponse),
    onStream: !script.waitsForStream
  )
  var messages: [[UInt8]] = []
  for (index, step) in script.steps.enumerated() {
    let action = machine.apply(step.input, messages: &messages)
    #expect(action == step.expected, "step \(index): \(step.input)")
  }
  #expect(messages == script.messages)
  #expect(machine.messagesReceived == script.messages.count)
  let endsFinished = script.steps.contains { $0.expected != .none }
  #expect(machine.isFinished == endsFinished)
}

// MARK: - Tests

@Suite("GRPCCallStateMachine")
struct GRPCCallStateMachineTests {
  fileprivate static let lifecycleScripts: [Script] = [
    Script(
      name: "normal unary call",
      steps: [
        step(responseHeaders, .none),
        step(.data(grpcFrame([1, 2, 3])), .none),
        step(trailers("0"), okFromServer),
        step(.streamClosed(errorCode: 0), .none),
      ],
      messages: [[1, 2, 3]]
    ),
    Script(
      name: "content-type with a subtype is accepted",
      steps: [
        step(
          .headers(
            GRPCHeaderBlock(
              httpStatus: 200,
              contentType: "application/grpc+proto",
              grpcEncoding: "identity"
            ),
            endStream: false
          ),
          .none
        ),
        step(.data(grpcFrame([9])), .none),
        step(trailers("0"), okFromServer),
      ],
      messages: [[9]]
    ),
    Script(
      name: "trailers-only error, grpc-message percent-decoded",
      steps: [
        step(
          .headers(
            GRPCHeaderBlock(
              httpStatus: 200,
              contentType: "application/grpc",
              grpcStatus: "5",
              grpcMessage: "etcdserver:%20key%20not%20found%20%E2%82%AC"
            ),
            endStream: true
          ),
          finish(.notFound, "etcdserver: key not found €", .server)
        )
      ]
    ),
    Script(
      name: "error in trailers after headers, unary, no message",
      steps: [
        step(responseHeaders, .none),
        step(
          trailers("11", message: "etcdserver: mvcc: required revision has been compacted"),
          finish(.outOfRange, "etcdserver: mvcc: required revision has been compacted", .server)
        ),
      ]
    ),
    Script(
      name: "cancel before response headers",
      steps: [step(.cancel, cancelled), step(.streamClosed(errorCode: 8), .none)]
    ),
    Script(
      name: "cancel while receiving",
      steps: [
        step(responseHeaders, .none),
        step(.data(Array(grpcFrame([1, 2, 3]).prefix(6))), .none),
        step(.cancel, cancelled),
        step(.data([2, 3]), .none),
        step(.streamClosed(errorCode: 8), .none),
      ]
    ),
    Script(
      name: "deadline",
      steps: [
        step(responseHeaders, .none),
        step(.deadlineExceeded, reset(.deadlineExceeded, "context deadline exceeded", .deadline)),
        step(.cancel, .none),
      ]
    ),
    Script(
      name: "reset by peer with 0 after headers: no trailers",
      steps: [
        step(responseHeaders, .none),
        step(.data(grpcFrame([1])), .none),
        step(
          .streamClosed(errorCode: 0),
          finish(.internal, "server closed the stream without sending trailers", .malformedResponse)
        ),
      ],
      messages: [[1]]
    ),
    Script(
      name: "GOAWAY for a stream above the last stream id",
      steps: [
        step(
          .goAway(lastStreamID: 1, streamID: 3, errorCode: 0),
          finish(
            .unavailable,
            "the connection is draining (GOAWAY NO_ERROR); request not processed",
            .connection,
            neverProcessed: true
          )
        ),
        step(responseHeaders, .none),
      ]
    ),
    Script(
      name: "GOAWAY for a stream at the last stream id: the call completes",
      steps: [
        step(responseHeaders, .none),
        step(.goAway(lastStreamID: 3, streamID: 3, errorCode: 0), .none),
        step(.data(grpcFrame([4, 2])), .none),
        step(trailers("0"), okFromServer),
      ],
      messages: [[4, 2]]
    ),
    Script(
      name: "GOAWAY for a stream below the last stream id: the call completes",
      steps: [
        step(.goAway(lastStreamID: 7, streamID: 5, errorCode: 2), .none),
        step(responseHeaders, .none),
        step(.data(grpcFrame([1])), .none),
        step(trailers("0"), okFromServer),
      ],
      messages: [[1]]
    ),
    Script(
      name: "GOAWAY with ENHANCE_YOUR_CALM names the code",
      steps: [
        step(
          .goAway(lastStreamID: 0, streamID: 1, errorCode: 0xb),
          finish(
            .unavailable,
            "the connection is draining (GOAWAY ENHANCE_YOUR_CALM); request not processed",
            .connection,
            neverProcessed: true
          )
        )
      ]
    ),
    Script(
      name: "connection closed after the request was sent",
      steps: [
        step(responseHeaders, .none),
        step(
          .connectionClosed(reason: "connection reset by peer", requestSent: true),
          finish(.unavailable, "connection reset by peer", .connection, neverProcessed: false)
        ),
      ]
    ),
    Script(
      name: "connection closed before the request was sent",
      steps: [
        step(
          .connectionClosed(reason: "connection refused", requestSent: false),
          finish(.unavailable, "connection refused", .connection, neverProcessed: true)
        )
      ]
    ),
    Script(
      name: "non-OK status with a message already delivered",
      steps: [
        step(responseHeaders, .none),
        step(.data(grpcFrame([1])), .none),
        step(
          trailers("14", message: "etcdserver: no leader"),
          finish(.unavailable, "etcdserver: no leader", .server)
        ),
      ],
      messages: [[1]]
    ),
  ]

  fileprivate static let preStreamScripts: [Script] = [
    Script(
      name: "cancel before the stream: no reset, never processed; the stream is not opened after",
      waitsForStream: true,
      steps: [
        step(
          .cancel,
          finish(.cancelled, "the call was cancelled by the client", .cancelled, neverProcessed: true)
        ),
        step(.streamOpened(opens: false), .none),
        step(.deadlineExceeded, .none),
      ]
    ),
    Script(
      name: "deadline before the stream: no reset, never processed",
      waitsForStream: true,
      steps: [
        step(
          .deadlineExceeded,
          finish(.deadlineExceeded, "context deadline exceeded", .deadline, neverProcessed: true)
        ),
        step(.cancel, .none),
        step(.streamOpened(opens: false), .none),
      ]
    ),
    Script(
      name: "no stream could be opened: the transport's status, never processed",
      waitsForStream: true,
      steps: [
        step(
          .streamUnavailable(GRPCStatus(code: .unavailable, message: "cannot connect to a:1: refused")),
          finish(.unavailable, "cannot connect to a:1: refused", .connection, neverProcessed: true)
        ),
        step(.cancel, .none),
        step(.streamUnavailable(GRPCStatus(code: .unavailable, message: "again")), .none),
      ]
    ),
    Script(
      name: "connection closed before the stream: never processed whatever requestSent says",
      waitsForStream: true,
      steps: [
        step(
          .connectionClosed(reason: "connection to a:1 closed", requestSent: true),
          finish(.unavailable, "connection to a:1 closed", .connection, neverProcessed: true)
        )
      ]
    ),
    Script(
      name: "stream events before the stream are ignored; then a normal call",
      waitsForStream: true,
      steps: [
        step(responseHeaders, .none),
        step(.data(grpcFrame([7])), .none),
        step(.streamClosed(errorCode: 7), .none),
        step(.goAway(lastStreamID: 0, streamID: 1, errorCode: 0), .none),
        step(.streamOpened(opens: true), .none),
        step(.streamOpened(opens: false), .none),
        step(responseHeaders, .none),
        step(.data(grpcFrame([1])), .none),
        step(trailers("0"), okFromServer),
      ],
      messages: [[1]]
    ),
    Script(
      name: "once on a stream, cancel resets it and the stream is no longer unavailable",
      waitsForStream: true,
      steps: [
        step(.streamOpened(opens: true), .none),
        step(.streamUnavailable(GRPCStatus(code: .unavailable, message: "late")), .none),
        step(.cancel, cancelled),
      ]
    ),
    Script(
      name: "a call created on a stream cannot be opened again",
      steps: [step(.streamOpened(opens: false), .none), step(.deadlineExceeded, deadlineReset)]
    ),
  ]

  @Test("before the stream", arguments: preStreamScripts)
  fileprivate func preStream(_ script: Script) {
    run(script)
  }

  @Test("lifecycle", arguments: lifecycleScripts)
  fileprivate func lifecycle(_ script: Script) {
    run(script)
  }

  fileprivate static let malformedScripts: [Script] = [
    Script(
      name: "compression flag 2",
      steps: [
        step(responseHeaders, .none),
        step(
          .data([2, 0, 0, 0, 1, 9]),
          reset(.internal, "invalid compression flag 2 in message prefix", .malformedResponse)
        ),
        step(trailers("0"), .none),
      ]
    ),
    Script(
      name: "compressed flag 1 without an encoding",
      steps: [
        step(responseHeaders, .none),
        step(
          .data(grpcFrame([1, 2], flag: 1)),
          reset(
            .internal,
            "compressed flag set with identity or empty encoding",
            .malformedResponse
          )
        ),
      ]
    ),
    Script(
      name: "truncated message: trailers arrive mid-body",
      steps: [
        step(responseHeaders, .none),
        step(.data(Array(grpcFrame(countingBytes(10)).prefix(8))), .none),
        step(
          trailers("0"),
          finish(
            .internal,
            "response ended inside a message (truncated message)",
            .malformedResponse
          )
        ),
      ]
    ),
    Script(
      name: "truncated message: trailers arrive mid-prefix",
      steps: [
        step(responseHeaders, .none),
        step(.data([0, 0, 0]), .none),
        step(
          trailers("13", message: "boom"),
          finish(
            .internal,
            "response ended inside a message (truncated message)",
            .malformedResponse
          )
        ),
      ]
    ),
    Script(
      name: "over-limit length prefix, detected from the 5 prefix bytes alone",
      maxReceive: 16,
      steps: [
        step(responseHeaders, .none),
        step(
          .data([0, 0, 0, 0, 17]),
          reset(
            .resourceExhausted,
            "received message larger than max (17 vs. 16)",
            .responseTooLarge
          )
        ),
      ]
    ),
    Script(
      name: "4 GiB length prefix",
      maxReceive: Int(Int32.max),
      steps: [
        step(responseHeaders, .none),
        step(
          .data([0, 0xff, 0xff, 0xff, 0xff]),
          reset(
            .resourceExhausted,
            "received message larger than max (4294967295 vs. 2147483647)",
            .responseTooLarge
          )
        ),
      ]
    ),
    Script(
      name: "message exactly at the receive limit",
      maxReceive: 16,
      steps: [
        step(responseHeaders, .none),
        step(.data(grpcFrame(countingBytes(16))), .none),
        step(trailers("0"), okFromServer),
      ],
      messages: [countingBytes(16)]
    ),
    Script(
      name: "missing grpc-status in trailers",
      steps: [
        step(responseHeaders, .none),
        step(.data(grpcFrame([1])), .none),
        step(
          trailers(nil),
          finish(.internal, "malformed response: missing grpc-status", .malformedResponse)
        ),
      ],
      messages: [[1]]
    ),
    Script(
      name: "missing grpc-status in a trailers-only response",
      steps: [
        step(
          .headers(
            GRPCHeaderBlock(httpStatus: 200, contentType: "application/grpc"),
            endStream: true
          ),
          finish(.internal, "malformed response: missing grpc-status", .malformedResponse)
        )
      ]
    ),
    Script(
      name: "unparseable grpc-status in trailers",
      steps: [
        step(responseHeaders, .none),
        step(.data(grpcFrame([1])), .none),
        step(trailers("99"), finish(.unknown, "invalid grpc-status 99", .server)),
      ],
      messages: [[1]]
    ),
    Script(
      name: "non-200 with grpc-status present uses grpc-status",
      steps: [
        step(
          .headers(
            GRPCHeaderBlock(httpStatus: 503, grpcStatus: "8", grpcMessage: "slow%20down"),
            endStream: true
          ),
          finish(.resourceExhausted, "slow down", .server)
        )
      ]
    ),
    // Found by FuzzGRPCCall: grpc-status 0 on a non-200 response made the call OK, a unary one
    // with no message, even while the stream was being reset.
    Script(
      name: "non-200 with grpc-status 0 is not a success",
      steps: [
        step(
          .headers(GRPCHeaderBlock(httpStatus: 503, grpcStatus: "0"), endStream: false),
          reset(.unavailable, "unexpected HTTP status code 503 received from server", .server)
        )
      ]
    ),
    Script(
      name: "non-200 with grpc-status 0 and END_STREAM on a stream is not a success",
      expectsSingleResponse: false,
      steps: [
        step(
          .headers(GRPCHeaderBlock(httpStatus: 404, grpcStatus: "0"), endStream: true),
          finish(.unimplemented, "unexpected HTTP status code 404 received from server", .server)
        )
      ]
    ),
    Script(
      name: "missing :status",
      steps: [
        step(
          .headers(GRPCHeaderBlock(contentType: "application/grpc"), endStream: false),
          reset(.internal, "malformed response: missing HTTP :status", .malformedResponse)
        )
      ]
    ),
    Script(
      name: "missing :status with END_STREAM",
      steps: [
        step(
          .headers(GRPCHeaderBlock(grpcStatus: "0"), endStream: true),
          finish(.internal, "malformed response: missing HTTP :status", .malformedResponse)
        )
      ]
    ),
    Script(
      name: "wrong content-type",
      steps: [
        step(
          .headers(GRPCHeaderBlock(httpStatus: 200, contentType: "text/html"), endStream: false),
          reset(.internal, "unexpected content-type \"text/html\" in response", .malformedResponse)
        )
      ]
    ),
    Script(
      name: "missing content-type",
      steps: [
        step(
          .headers(GRPCHeaderBlock(httpStatus: 200), endStream: false),
          reset(.internal, "unexpected content-type \"\" in response", .malformedResponse)
        )
      ]
    ),
    Script(
      name: "unsupported grpc-encoding",
      steps: [
        step(
          .headers(
            GRPCHeaderBlock(httpStatus: 200, contentType: "application/grpc", grpcEncoding: "gzip"),
            endStream: false
          ),
          reset(.internal, "unsupported response encoding \"gzip\"", .malformedResponse)
        )
      ]
    ),
    Script(
      name: "DATA before HEADERS",
      steps: [
        step(
          .data(grpcFrame([1])),
          reset(.internal, "malformed response: DATA before HEADERS", .malformedResponse)
        ),
        step(responseHeaders, .none),
      ]
    ),
    Script(
      name: "second HEADERS without END_STREAM",
      steps: [
        step(responseHeaders, .none),
        step(
          responseHeaders,
          reset(
            .internal,
            "malformed response: headers after headers without END_STREAM",
            .malformedResponse
          )
        ),
      ]
    ),
    Script(
      name: "two messages in one chunk on a unary call",
      steps: [
        step(responseHeaders, .none),
        step(
          .data(grpcFrame([1]) + grpcFrame([2])),
          reset(.internal, "server sent more than one response message", .malformedResponse)
        ),
      ],
      messages: [[1]]
    ),
    // Found by FuzzGRPCCall: the status depended on how DATA frames cut the body. The machine read
    // on past the second message and reported the oversized prefix after it; cut after the
    // second message, the same body gave "more than one response message".
    Script(
      name: "two messages then an oversized prefix in one chunk on a unary call",
      maxReceive: 16,
      steps: [
        step(responseHeaders, .none),
        step(
          .data(grpcFrame([1]) + grpcFrame([2]) + [0, 0, 0, 1, 0]),
          reset(.internal, "server sent more than one response message", .malformedResponse)
        ),
      ],
      messages: [[1]]
    ),
    Script(
      name: "two messages in two chunks on a unary call",
      steps: [
        step(responseHeaders, .none),
        step(.data(grpcFrame([1])), .none),
        step(
          .data(grpcFrame([2])),
          reset(.internal, "server sent more than one response message", .malformedResponse)
        ),
        step(trailers("0"), .none),
      ],
      messages: [[1]]
    ),
    Script(
      name: "OK with zero messages on a unary call",
      steps: [
        step(responseHeaders, .none),
        step(
          trailers("0"),
          finish(.internal, "server returned OK but no response message", .malformedResponse)
        ),
      ]
    ),
    Script(
      name: "a zero-length message counts as the one response",
      steps: [
        step(responseHeaders, .none),
        step(.data(grpcFrame([])), .none),
        step(trailers("0"), okFromServer),
      ],
      messages: [[]]
    ),
  ]

  @Test("malformed responses", arguments: malformedScripts)
  fileprivate func malformed(_ script: Script) {
    run(script)
  }

  @Test(
    "RST_STREAM error codes map to gRPC codes",
    arguments: [
      (UInt32(0x7), GRPCStatusCode.unavailable, "REFUSED_STREAM", true),
      (0x8, .cancelled, "CANCEL", false),
      (0x2, .internal, "INTERNAL_ERROR", false),
      (0x1, .internal, "PROTOCOL_ERROR", false),
      (0xb, .resourceExhausted, "ENHANCE_YOUR_CALM", false),
      (0xc, .permissionDenied, "INADEQUATE_SECURITY", false),
      (0xd, .internal, "HTTP_1_1_REQUIRED", false),
      (0x42, .internal, "0x42", false),
    ]
  )
  func resetByPeer(errorCode: UInt32, code: GRPCStatusCode, name: String, neverProcessed: Bool) {
    for headersFirst in [false, true] {
      var machine = GRPCCallStateMachine.unary()
      var messages: [[UInt8]] = []
      if headersFirst {
        #expect(machine.apply(responseHeaders, messages: &messages) == .none)
      }
      let action = machine.streamClosed(errorCode: errorCode)
      #expect(
        action
          == finish(
            code,
            "stream terminated by RST_STREAM with error code: \(name)",
            .connection,
            neverProcessed: neverProcessed
          )
      )
      #expect(machine.isFinished)
      #expect(machine.streamClosed(errorCode: errorCode) == .none)
    }
  }

  @Test(
    "a non-200 HTTP status maps to a gRPC code",
    arguments: [
      (400, GRPCStatusCode.internal),
      (401, .unauthenticated),
      (403, .permissionDenied),
      (404, .unimplemented),
      (429, .unavailable),
      (502, .unavailable),
      (503, .unavailable),
      (504, .unavailable),
      (418, .unknown),
      (500, .unknown),
      (204, .unknown),
    ]
  )
  func nonGRPCHTTPStatus(httpStatus: Int, code: GRPCStatusCode) {
    let status = GRPCStatus(
      code: code,
      message: "unexpected HTTP status code \(httpStatus) received from server"
    )
    for endStream in [true, false] {
      var machine = GRPCCallStateMachine.unary()
      let block = GRPCHeaderBlock(httpStatus: httpStatus, contentType: "text/html")
      let action = machine.headersReceived(block, endStream: endStream)
      let expected: Action =
        endStream
        ? .finish(status, .init(origin: .server))
        : .resetStreamAndFinish(status, .init(origin: .server))
      #expect(action == expected, "endStream: \(endStream)")
      #expect(machine.isFinished)
    }
  }

  @Test("a streaming call delivers many messages, across and within chunks")
  func streamingManyMessages() {
    var machine = GRPCCallStateMachine.streaming()
    var messages: [[UInt8]] = []
    let expected = (0..<100).map { countingBytes($0 % 7) + [UInt8($0)] }
    #expect(machine.apply(responseHeaders, messages: &messages) == .none)
    // First 40 in one chunk, the rest one per chunk.
    #expect(
      machine.apply(.data(expected[..<40].flatMap { grpcFrame($0) }), messages: &messages) == .none
    )
    #expect(messages.count == 40)
    for message in expected[40...] {
      #expect(machine.apply(.data(grpcFrame(message)), messages: &messages) == .none)
    }
    #expect(machine.apply(trailers("0"), messages: &messages) == okFromServer)
    #expect(messages == expected)
    #expect(machine.messagesReceived == 100)
  }

  @Test("a streaming call may end OK with zero messages")
  func streamingZeroMessages() {
    run(
      Script(
        name: "streaming, zero messages",
        expectsSingleResponse: false,
        steps: [step(responseHeaders, .none), step(trailers("0"), okFromServer)]
      )
    )
  }

  @Test("a trailers-only OK response ends a streaming call OK")
  func streamingTrailersOnlyOK() {
    var machine = GRPCCallStateMachine.streaming()
    let block = GRPCHeaderBlock(httpStatus: 200, contentType: "application/grpc", grpcStatus: "0")
    #expect(machine.headersReceived(block, endStream: true) == okFromServer)
  }

  /// A trailers-only `grpc-status: 0` on a unary call has no response message: the same violation
  /// that the headers-then-trailers path reports as INTERNAL ("server returned OK but no response
  /// message"), so a unary call never ends OK without its message.
  @Test("a trailers-only OK response on a unary call is an error, as with headers then trailers")
  func unaryTrailersOnlyOK() {
    var machine = GRPCCallStateMachine.unary()
    let block = GRPCHeaderBlock(httpStatus: 200, contentType: "application/grpc", grpcStatus: "0")
    #expect(
      machine.headersReceived(block, endStream: true)
        == finish(.internal, "server returned OK but no response message", .malformedResponse)
    )
  }

  @Test("a message split into 1-byte chunks", arguments: [true, false])
  func byteByByte(expectsSingleResponse: Bool) {
    var machine =
      expectsSingleResponse ? GRPCCallStateMachine.unary() : GRPCCallStateMachine.streaming()
    var messages: [[UInt8]] = []
    let bodies = expectsSingleResponse ? [countingBytes(300)] : [countingBytes(300), [], [42]]
    #expect(machine.apply(responseHeaders, messages: &messages) == .none)
    for byte in bodies.flatMap({ grpcFrame($0) }) {
      #expect(machine.apply(.data([byte]), messages: &messages) == .none)
    }
    #expect(machine.apply(trailers("0"), messages: &messages) == okFromServer)
    #expect(messages == bodies)
  }

  @Test("several messages, zero-length ones included, in one chunk")
  func severalInOneChunk() {
    var machine = GRPCCallStateMachine.streaming()
    var messages: [[UInt8]] = []
    let bodies: [[UInt8]] = [[], [1], [], countingBytes(1000), [], []]
    #expect(machine.apply(responseHeaders, messages: &messages) == .none)
    #expect(machine.apply(.data(bodies.flatMap { grpcFrame($0) }), messages: &messages) == .none)
    #expect(messages == bodies)
    #expect(machine.messagesReceived == 6)
    #expect(machine.apply(trailers("0"), messages: &messages) == okFromServer)
  }

  @Test("an empty DATA chunk changes nothing")
  func emptyChunk() {
    run(
      Script(
        name: "empty chunk",
        steps: [
          step(responseHeaders, .none),
          step(.data([]), .none),
          step(.data(grpcFrame([5])), .none),
          step(.data([]), .none),
          step(trailers("0"), okFromServer),
        ],
        messages: [[5]]
      )
    )
  }

  fileprivate static let lateInputs: [Input] = [
    responseHeaders,
    trailers("0"),
    .headers(GRPCHeaderBlock(httpStatus: 500), endStream: true),
    .data(grpcFrame([1])),
    .data([2, 0, 0, 0, 0]),
    .streamClosed(errorCode: 0),
    .streamClosed(errorCode: 7),
    .goAway(lastStreamID: 0, streamID: 1, errorCode: 0),
    .connectionClosed(reason: "gone", requestSent: false),
    .cancel,
    .deadlineExceeded,
  ]

  @Test("inputs after the call finished are ignored", arguments: lateInputs)
  fileprivate func inputsAfterFinish(_ input: Input) {
    // Finish once normally and once by cancellation.
    var normal = GRPCCallStateMachine.unary()
    var messages: [[UInt8]] = []
    #expect(normal.apply(responseHeaders, messages: &messages) == .none)
    #expect(normal.apply(.data(grpcFrame([1])), messages: &messages) == .none)
    #expect(normal.apply(trailers("0"), messages: &messages) == okFromServer)
    #expect(normal.apply(input, messages: &messages) == .none)
    #expect(messages == [[1]])
    #expect(normal.messagesReceived == 1)

    var cancelledMachine = GRPCCallStateMachine.unary()
    #expect(cancelledMachine.cancel() == cancelled)
    #expect(cancelledMachine.apply(input, messages: &messages) == .none)
    #expect(messages == [[1]])
    #expect(cancelledMachine.messagesReceived == 0)
  }
}
