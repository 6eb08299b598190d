import Testing

import GRPCProtocol

/// What feeding a list of chunks to a fresh deframer produced.
private struct Outcome: Equatable {
  var messages: [[UInt8]]
  var error: GRPCMessageDeframer.DeframingError?
  var atBoundary: Bool
}

private func deframe(_ chunks: [[UInt8]], maxMessageLength: Int = 1 << 20) -> Outcome {
  var deframer = GRPCMessageDeframer(maxMessageLength: maxMessageLength)
  var messages: [[UInt8]] = []
  for chunk in chunks {
    do {
      try chunk.withUnsafeBytes { buffer in
        try deframer.process(buffer) { messages.append($0) }
      }
    } catch let error as GRPCMessageDeframer.DeframingError {
      return Outcome(messages: messages, error: error, atBoundary: deframer.isAtMessageBoundary)
    } catch {
      Issue.record("unexpected error \(error)")
    }
  }
  return Outcome(messages: messages, error: nil, atBoundary: deframer.isAtMessageBoundary)
}

private struct FramingCase: Sendable, CustomTestStringConvertible {
  var name: String
  var maxMessageLength = 1 << 20
  var chunks: [[UInt8]]
  var messages: [[UInt8]]
  var error: GRPCMessageDeframer.DeframingError? = nil
  var atBoundary = true

  var testDescription: String { name }
}

@Suite("GRPCMessageDeframer")
struct GRPCMessageDeframerTests {
  fileprivate static let cases: [FramingCase] = [
    FramingCase(
      name: "one message in one chunk",
      chunks: [grpcFrame([1, 2, 3])],
      messages: [[1, 2, 3]]
    ),
    FramingCase(
      name: "several messages in one chunk",
      chunks: [grpcFrame([1]) + grpcFrame([2, 3]) + grpcFrame([4, 5, 6])],
      messages: [[1], [2, 3], [4, 5, 6]]
    ),
    FramingCase(name: "a zero-length message", chunks: [grpcFrame([])], messages: [[]]),
    FramingCase(
      name: "zero-length messages around others",
      chunks: [grpcFrame([]) + grpcFrame([7]) + grpcFrame([]) + grpcFrame([])],
      messages: [[], [7], [], []]
    ),
    FramingCase(
      name: "prefix split from its body",
      chunks: [[0, 0, 0, 0, 3], [1, 2, 3]],
      messages: [[1, 2, 3]]
    ),
    FramingCase(
      name: "prefix split, then body and the next message in one chunk",
      chunks: [[0, 0], [0, 0, 2, 8, 9, 0, 0], [0, 0, 1, 6]],
      messages: [[8, 9], [6]]
    ),
    FramingCase(
      name: "a large message in 16 KiB chunks",
      chunks: chunked(grpcFrame(countingBytes(70_000)), size: 16_384),
      messages: [countingBytes(70_000)]
    ),
    FramingCase(name: "no chunks", chunks: [], messages: []),
    FramingCase(name: "an empty chunk", chunks: [[]], messages: []),
    FramingCase(
      name: "truncated inside the prefix",
      chunks: [[0, 0, 0]],
      messages: [],
      atBoundary: false
    ),
    FramingCase(
      name: "truncated inside the body",
      chunks: [grpcFrame([1]) + Array(grpcFrame(countingBytes(10)).prefix(8))],
      messages: [[1]],
      atBoundary: false
    ),
    FramingCase(
      name: "compression flag 2",
      chunks: [grpcFrame([1]) + [2, 0, 0, 0, 1, 9]],
      messages: [[1]],
      error: .invalidCompressionFlag(2),
      atBoundary: false
    ),
    FramingCase(
      name: "compression flag 0xff",
      chunks: [[0xff, 0, 0, 0, 0]],
      messages: [],
      error: .invalidCompressionFlag(0xff),
      atBoundary: false
    ),
    FramingCase(
      name: "compressed flag 1",
      chunks: [grpcFrame([1, 2], flag: 1)],
      messages: [],
      error: .compressedMessageWithoutEncoding,
      atBoundary: false
    ),
    FramingCase(
      name: "flag checked once the prefix is complete, across chunks",
      chunks: [[1, 0], [0], [0, 0]],
      messages: [],
      error: .compressedMessageWithoutEncoding,
      atBoundary: false
    ),
    FramingCase(
      name: "over the limit from the prefix alone",
      maxMessageLength: 16,
      chunks: [[0, 0, 0, 0, 17]],
      messages: [],
      error: .messageTooLarge(length: 17, limit: 16),
      atBoundary: false
    ),
    FramingCase(
      name: "over the limit with a prefix split across chunks",
      maxMessageLength: 1000,
      chunks: [grpcFrame([3]) + [0, 0x01], [0x00, 0x00, 0x00]],
      messages: [[3]],
      error: .messageTooLarge(length: 16_777_216, limit: 1000),
      atBoundary: false
    ),
    FramingCase(
      name: "4 GiB - 1 length",
      maxMessageLength: Int(Int32.max),
      chunks: [[0, 0xff, 0xff, 0xff, 0xff]],
      messages: [],
      error: .messageTooLarge(length: 4_294_967_295, limit: 2_147_483_647),
      atBoundary: false
    ),
    FramingCase(
      name: "exactly at the limit",
      maxMessageLength: 16,
      chunks: [grpcFrame(countingBytes(16))],
      messages: [countingBytes(16)]
    ),
    FramingCase(
      name: "zero-length message with a limit of 0",
      maxMessageLength: 0,
      chunks: [grpcFrame([]) + grpcFrame([])],
      messages: [[], []]
    ),
  ]

  @Test("framing", arguments: cases)
  fileprivate func framing(_ testCase: FramingCase) {
    let outcome = deframe(testCase.chunks, maxMessageLength: testCase.maxMessageLength)
    #expect(outcome.messages == testCase.messages)
    #expect(outcome.error == testCase.error)
    #expect(outcome.atBoundary == testCase.atBoundary)
  }

  @Test("every way of cutting a body in two gives the same messages")
  func everyCut() {
    let bodies: [[UInt8]] = [countingBytes(3), [], countingBytes(9), [0xaa]]
    let bytes = bodies.flatMap { grpcFrame($0) }
    for cut in 0...bytes.count {
      let outcome = deframe([Array(bytes[..<cut]), Array(bytes[cut...])])
      #expect(outcome == Outcome(messages: bodies, error: nil, atBoundary: true), "cut at \(cut)")
    }
  }

  @Test("1-byte chunks")
  func byteByByte() {
    let bodies: [[UInt8]] = [countingBytes(300), [], [42], countingBytes(5)]
    let outcome = deframe(bodies.flatMap { grpcFrame($0) }.map { [$0] })
    #expect(outcome == Outcome(messages: bodies, error: nil, atBoundary: true))
  }

  @Test("isAtMessageBoundary after each byte of a message")
  func boundaryByteByByte() throws {
    var deframer = GRPCMessageDeframer(maxMessageLength: 100)
    #expect(deframer.isAtMessageBoundary)
    let bytes = grpcFrame([1, 2, 3])
    var delivered: [[UInt8]] = []
    var boundaries: [Bool] = []
    for byte in bytes {
      try [byte].withUnsafeBytes { try deframer.process($0) { delivered.append($0) } }
      boundaries.append(deframer.isAtMessageBoundary)
    }
    // 5 prefix bytes, 3 body bytes: only the last byte completes the message.
    #expect(boundaries == [false, false, false, false, false, false, false, true])
    #expect(delivered == [[1, 2, 3]])
  }

  @Test("a complete zero-length prefix leaves the deframer at a boundary")
  func boundaryAfterEmptyMessage() throws {
    var deframer = GRPCMessageDeframer(maxMessageLength: 100)
    var count = 0
    try ([0, 0, 0, 0] as [UInt8]).withUnsafeBytes { try deframer.process($0) { _ in count += 1 } }
    #expect(!deframer.isAtMessageBoundary)
    #expect(count == 0)
    try ([0] as [UInt8]).withUnsafeBytes { try deframer.process($0) { _ in count += 1 } }
    #expect(deframer.isAtMessageBoundary)
    #expect(count == 1)
  }

  @Test("an error thrown by the message callback propagates and stops delivery")
  func callbackErrorPropagates() {
    struct Stop: Error, Equatable {}
    var deframer = GRPCMessageDeframer(maxMessageLength: 100)
    var delivered: [[UInt8]] = []
    let bytes = grpcFrame([1]) + grpcFrame([2]) + grpcFrame([3])
    #expect(throws: Stop()) {
      try bytes.withUnsafeBytes { buffer in
        try deframer.process(buffer) { message in
          delivered.append(message)
          if message == [2] { throw Stop() }
        }
      }
    }
    #expect(delivered == [[1], [2]])
  }

  @Test(
    "deframing errors map to gRPC statuses",
    arguments: [
      (
        GRPCMessageDeframer.DeframingError.messageTooLarge(length: 17, limit: 16),
        GRPCStatus(
          code: .resourceExhausted,
          message: "received message larger than max (17 vs. 16)"
        )
      ),
      (
        .compressedMessageWithoutEncoding,
        GRPCStatus(code: .internal, message: "compressed flag set with identity or empty encoding")
      ),
      (
        .invalidCompressionFlag(2),
        GRPCStatus(code: .internal, message: "invalid compression flag 2 in message prefix")
      ),
    ]
  )
  func errorStatus(error: GRPCMessageDeframer.DeframingError, status: GRPCStatus) {
    #expect(error.status == status)
  }
}

/// Splits bytes into chunks of at most `size` bytes.
private func chunked(_ bytes: [UInt8], size: Int) -> [[UInt8]] {
  stride(from: 0, to: bytes.count, by: size).map { Array(bytes[$0..<min($0 + size, bytes.count)]) }
}
