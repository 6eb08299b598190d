import FuzzSupport
import GRPCProtocol

/// Fuzzes `GRPCCallStateMachine` with arbitrary sequences of stream events in any order: HEADERS
/// blocks with arbitrary names, values and flags, DATA chunks cut anywhere (arbitrary bytes or
/// well-framed messages), stream closes with any error code, GOAWAY, connection loss,
/// cancellation and deadlines.
///
/// Each event's action is checked against what the gRPC rules allow in the state the events so
/// far imply: at most one terminal action, nothing (not even a message) after it; a message only
/// between valid response headers and the end, equal to what the spec's deframing of the DATA so
/// far gives; an OK status only from the server, and for a unary call only after exactly one
/// message; no RST_STREAM on a stream the peer closed; each local end with its own code and origin.
/// The same events with every DATA chunk cut into single bytes must end the same way.
@main
enum FuzzGRPCCall: FuzzTarget {
  static let limits = [0, 4, 64, 4 << 20]

  /// Header names the machine reads, then others; the last choice is an arbitrary name.
  static let headerNames = [
    ":status", "content-type", "grpc-status", "grpc-message", "grpc-encoding", "grpc-other",
    "custom",
  ]
  /// Values that matter to the machine; the last choice is an arbitrary value.
  static let headerValues = [
    "200", "application/grpc", "0", "identity", "gzip", "application/grpc+proto", "5", "13",
    "404", "503", "text/html", "etcdserver: key not found", "bad%2", "%E2%9C%93%20ok", "", "-1",
    "17", "99999999999999999999999", "application/grpd", "application/grpc ",
  ]

  enum Event {
    case headers(fields: [(name: [UInt8], value: [UInt8])], endStream: Bool)
    case data([UInt8])
    case streamClosed(errorCode: UInt32)
    case goAway(lastStreamID: Int32, streamID: Int32, errorCode: UInt32)
    case connectionClosed(reason: String, requestSent: Bool)
    case cancel
    case deadline
  }

  static func run(_ data: UnsafeRawBufferPointer) {
    var input = FuzzInput(data)
    let configuration = GRPCCallStateMachine.Configuration(
      maxReceiveMessageLength: input.choose(limits), expectsSingleResponse: input.byte() & 1 == 1)
    var events: [Event] = []
    while !input.isAtEnd && events.count < 64 { events.append(decodeEvent(&input)) }

    let asSent = play(events, configuration: configuration, splitData: false)
    let byteWise = play(events, configuration: configuration, splitData: true)
    fuzzCheck(asSent.messages == byteWise.messages, "messages depend on how DATA is cut")
    fuzzCheck(
      asSent.end?.event == byteWise.end?.event && asSent.end?.action == byteWise.end?.action,
      "the end depends on how DATA is cut: \(asSent.end as Any) vs \(byteWise.end as Any)")
  }

  static func decodeEvent(_ input: inout FuzzInput) -> Event {
    switch input.byte() % 8 {
    case 0:
      let endStream = input.byte() & 1 == 1
      let count = Int(input.byte() % 8)
      let fields = (0..<count).map { _ in
        let nameIndex = Int(input.byte()) % (headerNames.count + 1)
        let name =
          nameIndex < headerNames.count ? Array(headerNames[nameIndex].utf8) : input.byteString()
        let valueIndex = Int(input.byte()) % (headerValues.count + 1)
        let value =
          valueIndex < headerValues.count
          ? Array(headerValues[valueIndex].utf8) : input.byteString()
        return (name: name, value: value)
      }
      return .headers(fields: fields, endStream: endStream)
    case 1:
      return .data(input.byteString())
    case 2:
      // Well-framed messages, so that the fuzzer reaches message counts without finding prefixes.
      let count = Int(input.byte() % 4)
      let length = Int(input.byte())
      let filler = input.byte()
      return .data(
        GRPCFramingModel.frame(
          Array(repeating: Array(repeating: filler, count: length), count: count)))
    case 3:
      let code = input.byte()
      return .streamClosed(errorCode: code < 0xF0 ? UInt32(code % 16) : input.uint32())
    case 4:
      return .goAway(
        lastStreamID: Int32(bitPattern: input.uint32()),
        streamID: Int32(bitPattern: input.uint32()),
        errorCode: UInt32(input.byte()))
    case 5:
      return .connectionClosed(reason: input.string(), requestSent: input.byte() & 1 == 1)
    case 6:
      return .cancel
    default:
      return .deadline
    }
  }

  struct Trace {
    var messages: [[UInt8]] = []
    /// The terminal action and the index of the event that caused it.
    var end: (event: Int, action: GRPCCallStateMachine.Action)?
  }

  /// The phase the events so far put the stream in, by the gRPC rules (the harness' own model).
  enum Phase { case awaitingHeaders, receivingMessages, ended }

  /// Plays `events`, checking each action; with `splitData`, every DATA chunk is fed byte by byte.
  static func play(
    _ events: [Event], configuration: GRPCCallStateMachine.Configuration, splitData: Bool
  ) -> Trace {
    var machine = GRPCCallStateMachine(configuration: configuration)
    var trace = Trace()
    var phase = Phase.awaitingHeaders
    var body: [UInt8] = []
    for (index, event) in events.enumerated() {
      fuzzCheck(machine.isFinished == (phase == .ended), "isFinished disagrees with the events")
      var delivered: [[UInt8]] = []
      var action = GRPCCallStateMachine.Action.none
      switch event {
      case .headers(let fields, let endStream):
        var block = GRPCHeaderBlock()
        for field in fields {
          // As the connection handler does, from the bytes nghttp2 hands over.
          field.name.withUnsafeBytes { name in
            field.value.withUnsafeBytes { block.record(nameBytes: name, valueBytes: $0) }
          }
        }
        action = machine.headersReceived(block, endStream: endStream)
        if phase != .ended {
          checkHeaders(
            action, fields: fields, endStream: endStream, phase: phase,
            configuration: configuration,
            messagesBefore: trace.messages.count)
          if phase == .awaitingHeaders && action == .none { phase = .receivingMessages }
        }
      case .data(let chunk):
        let pieces = splitData && !chunk.isEmpty ? chunk.map { [$0] } : [chunk]
        // Fed until the call ends; the body is what the machine was given.
        for piece in pieces where action == .none {
          var pieceMessages: [[UInt8]] = []
          action = piece.withUnsafeBytes { machine.dataReceived($0) { pieceMessages.append($0) } }
          delivered += pieceMessages
          if phase == .receivingMessages { body += piece }
        }
        if phase == .receivingMessages {
          checkData(
            action, body: body, delivered: trace.messages + delivered, configuration: configuration)
        }
        if phase == .awaitingHeaders {
          fuzzCheck(delivered.isEmpty, "a message before response headers")
          fuzzCheck(isReset(action), "DATA before HEADERS must reset the stream: \(action)")
        }
      case .streamClosed(let errorCode):
        action = machine.streamClosed(errorCode: errorCode)
        if phase != .ended, case .finish(let status, let end) = action {
          fuzzCheck(
            errorCode == 0
              ? end.origin == .malformedResponse && status.code == .internal
              : end.origin == .connection && end.neverProcessed == (errorCode == 7),
            "stream close \(errorCode) gave \(action)")
        } else if phase != .ended {
          fuzzCheck(false, "a closed stream must finish without a reset: \(action)")
        }
      case .goAway(let lastStreamID, let streamID, let errorCode):
        action = machine.goAwayReceived(
          lastStreamID: lastStreamID, streamID: streamID, errorCode: errorCode)
        if phase != .ended {
          if streamID > lastStreamID {
            guard case .finish(let status, let end) = action else {
              fuzzCheck(false, "GOAWAY below the stream must finish it: \(action)")
              return trace
            }
            fuzzCheck(status.code == .unavailable && end.neverProcessed, "GOAWAY gave \(action)")
          } else {
            fuzzCheck(action == .none, "GOAWAY above the stream must not end it: \(action)")
          }
        }
      case .connectionClosed(let reason, let requestSent):
        action = machine.connectionClosed(reason: reason, requestSent: requestSent)
        if phase != .ended {
          fuzzCheck(
            action
              == .finish(
                GRPCStatus(code: .unavailable, message: reason),
                .init(origin: .connection, neverProcessed: !requestSent)),
            "connection loss gave \(action)")
        }
      case .cancel:
        action = machine.cancel()
        if phase != .ended {
          fuzzCheck(
            isReset(action, code: .cancelled, origin: .cancelled), "cancel gave \(action)")
        }
      case .deadline:
        action = machine.deadlineExceeded()
        if phase != .ended {
          fuzzCheck(
            isReset(action, code: .deadlineExceeded, origin: .deadline), "deadline gave \(action)")
        }
      }

      if phase == .ended {
        fuzzCheck(action == .none, "an action after the call ended: \(action)")
        fuzzCheck(delivered.isEmpty, "a message after the call ended")
        continue
      }
      trace.messages += delivered
      fuzzCheck(machine.messagesReceived == trace.messages.count, "messagesReceived is off")
      fuzzCheck(
        !configuration.expectsSingleResponse || trace.messages.count <= 1,
        "a unary call delivered \(trace.messages.count) messages")
      if action != .none {
        checkEnd(action, event: event, configuration: configuration, messages: trace.messages.count)
        trace.end = (index, action)
        phase = .ended
        fuzzCheck(machine.isFinished, "a terminal action left the machine running")
      }
    }
    return trace
  }

  static func isReset(
    _ action: GRPCCallStateMachine.Action, code: GRPCStatusCode? = nil,
    origin: GRPCCallStateMachine.CallEnd.Origin? = nil
  ) -> Bool {
    guard case .resetStreamAndFinish(let status, let end) = action else { return false }
    return (code == nil || status.code == code) && (origin == nil || end.origin == origin)
  }

  /// A HEADERS block's action, from the raw fields (the last value of a name wins).
  static func checkHeaders(
    _ action: GRPCCallStateMachine.Action, fields: [(name: [UInt8], value: [UInt8])],
    endStream: Bool, phase: Phase, configuration: GRPCCallStateMachine.Configuration,
    messagesBefore: Int
  ) {
    func last(_ name: String) -> String? {
      fields.last { $0.name == Array(name.utf8) }.map { String(decoding: $0.value, as: UTF8.self) }
    }
    if endStream {
      // The peer ended the stream: the call ends with it, and there is no stream left to reset.
      guard case .finish = action else {
        fuzzCheck(false, "END_STREAM headers gave \(action)")
        return
      }
      return
    }
    switch phase {
    case .awaitingHeaders:
      let valid =
        last(":status") == "200"
        && last("content-type")?.hasPrefix("application/grpc") == true
        && (last("grpc-encoding") == nil || last("grpc-encoding") == "identity")
      if valid {
        fuzzCheck(action == .none, "valid response headers gave \(action)")
      } else {
        fuzzCheck(isReset(action), "invalid response headers gave \(action)")
      }
    case .receivingMessages:
      fuzzCheck(isReset(action), "headers after headers without END_STREAM gave \(action)")
    case .ended:
      break
    }
  }

  /// A DATA chunk's action, from the spec's parse of all DATA so far.
  static func checkData(
    _ action: GRPCCallStateMachine.Action, body: [UInt8], delivered: [[UInt8]],
    configuration: GRPCCallStateMachine.Configuration
  ) {
    let parse = GRPCFramingModel.parse(body, limit: configuration.maxReceiveMessageLength)
    if configuration.expectsSingleResponse {
      fuzzCheck(
        delivered == Array(parse.messages.prefix(1)), "unary messages differ from the spec's")
      if parse.messages.count > 1 {
        fuzzCheck(
          isReset(action, code: .internal, origin: .malformedResponse),
          "a second message gave \(action)")
        return
      }
    } else {
      fuzzCheck(delivered == parse.messages, "stream messages differ from the spec's")
    }
    switch parse.failure {
    case nil:
      fuzzCheck(action == .none, "valid DATA gave \(action)")
    case .messageTooLarge:
      fuzzCheck(
        isReset(action, code: .resourceExhausted, origin: .responseTooLarge),
        "a message over the limit gave \(action)")
    case .compressedFlag, .invalidFlag:
      fuzzCheck(
        isReset(action, code: .internal, origin: .malformedResponse), "bad flag gave \(action)")
    }
  }

  /// What any end must satisfy, whatever caused it.
  static func checkEnd(
    _ action: GRPCCallStateMachine.Action, event: Event,
    configuration: GRPCCallStateMachine.Configuration, messages: Int
  ) {
    let status: GRPCStatus
    let end: GRPCCallStateMachine.CallEnd
    switch action {
    case .none: return
    case .finish(let s, let e), .resetStreamAndFinish(let s, let e): (status, end) = (s, e)
    }
    if status.code == .ok {
      guard case .headers(_, true) = event else {
        fuzzCheck(false, "OK without the server's END_STREAM headers: \(action)")
        return
      }
      fuzzCheck(end.origin == .server, "OK not from the server: \(action)")
      fuzzCheck(
        !configuration.expectsSingleResponse || messages == 1,
        "a unary call OK with \(messages) messages")
    }
    if end.origin == .server {
      guard case .headers = event else {
        fuzzCheck(false, "a server status from a non-HEADERS event: \(action)")
        return
      }
    }
    fuzzCheck(!end.neverProcessed || end.origin == .connection, "neverProcessed off the connection")
  }

  // MARK: - Seeds

  /// Writes the events `decodeEvent` reads.
  struct Seed {
    var writer = FuzzInputWriter()
    init(limit: Int, unary: Bool) {
      writer.choice(FuzzGRPCCall.limits.firstIndex(of: limit)!)
      writer.byte(unary ? 1 : 0)
    }
    func headers(_ fields: [(String, String)], endStream: Bool) -> Self {
      var seed = self
      seed.writer.byte(0)
      seed.writer.byte(endStream ? 1 : 0)
      seed.writer.byte(UInt8(fields.count))
      for (name, value) in fields {
        if let index = FuzzGRPCCall.headerNames.firstIndex(of: name) {
          seed.writer.choice(index)
        } else {
          seed.writer.choice(FuzzGRPCCall.headerNames.count)
          seed.writer.string(name)
        }
        if let index = FuzzGRPCCall.headerValues.firstIndex(of: value) {
          seed.writer.choice(index)
        } else {
          seed.writer.choice(FuzzGRPCCall.headerValues.count)
          seed.writer.string(value)
        }
      }
      return seed
    }
    func data(_ bytes: [UInt8]) -> Self {
      var seed = self
      seed.writer.byte(1)
      seed.writer.byteString(bytes)
      return seed
    }
    func messages(_ count: UInt8, length: UInt8) -> Self {
      var seed = self
      seed.writer.byte(2)
      seed.writer.byte(count)
      seed.writer.byte(length)
      seed.writer.byte(0x2A)
      return seed
    }
    func streamClosed(_ code: UInt8) -> Self {
      var seed = self
      seed.writer.byte(3)
      seed.writer.byte(code)
      return seed
    }
    func goAway(last: UInt32, stream: UInt32) -> Self {
      var seed = self
      seed.writer.byte(4)
      seed.writer.uint32(last)
      seed.writer.uint32(stream)
      seed.writer.byte(0)
      return seed
    }
    func connectionClosed() -> Self {
      var seed = self
      seed.writer.byte(5)
      seed.writer.string("connection reset by peer")
      seed.writer.byte(1)
      return seed
    }
    func cancel() -> Self {
      var seed = self
      seed.writer.byte(6)
      return seed
    }
    func deadline() -> Self {
      var seed = self
      seed.writer.byte(7)
      return seed
    }
  }
  static var seeds: [(name: String, bytes: [UInt8])] {
    let ok = [(":status", "200"), ("content-type", "application/grpc")]
    let trailersOK = [("grpc-status", "0")]
    var u: Seed { Seed(limit: 64, unary: true) }
    var s: Seed { Seed(limit: 64, unary: false) }
    let hello = GRPCFramingModel.frame([Array("hello".utf8)])
    return [
      (
        "unary-ok", u.headers(ok, endStream: false).data(hello).headers(trailersOK, endStream: true)
      ),
      (
        "unary-ok-cut",
        u.headers(ok, endStream: false).data(Array(hello[..<3])).data(Array(hello[3...]))
          .headers(trailersOK, endStream: true)
      ),
      ("unary-ok-no-message", u.headers(ok, endStream: false).headers(trailersOK, endStream: true)),
      ("unary-two-messages", u.headers(ok, endStream: false).messages(2, length: 3)),
      ("unary-too-large", Seed(limit: 4, unary: true).headers(ok, endStream: false).data(hello)),
      (
        "stream-three",
        s.headers(ok, endStream: false).messages(3, length: 10)
          .headers(trailersOK, endStream: true)
      ),
      (
        "stream-truncated",
        s.headers(ok, endStream: false).data(Array(hello.dropLast()))
          .headers(trailersOK, endStream: true)
      ),
      (
        "trailers-only-error",
        u.headers(
          [
            (":status", "200"), ("grpc-status", "5"), ("grpc-message", "etcdserver: key not found"),
          ],
          endStream: true)
      ),
      (
        "trailers-only-ok-unary",
        u.headers([(":status", "200"), ("grpc-status", "0")], endStream: true)
      ),
      (
        "http-503",
        u.headers([(":status", "503"), ("content-type", "text/html")], endStream: false)
      ),
      ("http-404-end", u.headers([(":status", "404")], endStream: true)),
      ("no-status", u.headers([("content-type", "application/grpc")], endStream: false)),
      (
        "bad-content-type",
        u.headers([(":status", "200"), ("content-type", "text/html")], endStream: false)
      ),
      ("gzip-encoding", u.headers(ok + [("grpc-encoding", "gzip")], endStream: false)),
      ("headers-twice", s.headers(ok, endStream: false).headers(ok, endStream: false)),
      ("data-first", u.data(hello)),
      ("compressed-flag", s.headers(ok, endStream: false).data([1, 0, 0, 0, 0])),
      (
        "bad-grpc-status",
        s.headers(ok, endStream: false).headers([("grpc-status", "17")], endStream: true)
      ),
      (
        "percent-message",
        s.headers(ok, endStream: false)
          .headers([("grpc-status", "13"), ("grpc-message", "%E2%9C%93%20ok")], endStream: true)
      ),
      ("refused-stream", u.streamClosed(7)),
      ("closed-without-trailers", u.headers(ok, endStream: false).data(hello).streamClosed(0)),
      ("rst-cancel-after-message", s.headers(ok, endStream: false).data(hello).streamClosed(8)),
      ("goaway-above", u.goAway(last: 1, stream: 3).cancel()),
      ("goaway-below", u.goAway(last: 5, stream: 3).headers(ok, endStream: false)),
      ("connection-closed", s.headers(ok, endStream: false).connectionClosed()),
      ("cancel-then-more", u.cancel().data(hello).deadline()),
      ("deadline-mid-message", s.headers(ok, endStream: false).data(Array(hello[..<7])).deadline()),
      (
        "custom-headers",
        u.headers(
          [(":status", "200"), ("x-custom", "value"), ("content-type", "application/grpc+proto")],
          endStream: false)
      ),
      // The two bugs this target found (see GRPCCallStateMachineTests), kept as seeds.
      (
        "http-503-grpc-status-0",
        u.headers([(":status", "503"), ("grpc-status", "0")], endStream: false)
      ),
      (
        "unary-second-message-then-too-large",
        Seed(limit: 4, unary: true).headers(ok, endStream: false)
          .data(GRPCFramingModel.frame([[1], [2]]) + [0, 0, 0, 1, 0])
      ),
    ].map { ($0.0, $0.1.writer.bytes) }
  }
}
