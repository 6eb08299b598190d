import FuzzSupport
import GRPCProtocol

/// Fuzzes `GRPCMessageDeframer` (and `GRPCFramedMessage`) with arbitrary bodies cut anywhere.
///
/// Input: a receive-limit choice, a byte string of chunk sizes, then the body. The body is fed
/// whole, cut at the chosen sizes, and byte by byte; every run must give what
/// ``GRPCFramingModel`` (the spec, parsed at once) gives: the same messages, the same error, the
/// same boundary state. The messages re-framed, by the model and by `GRPCFramedMessage`, must be
/// exactly the bytes consumed.
@main
enum FuzzGRPCDeframer: FuzzTarget {
  static let limits = [0, 1, 5, 16, 300, 4 << 20]

  static func run(_ data: UnsafeRawBufferPointer) {
    var input = FuzzInput(data)
    let limit = input.choose(limits)
    let cuts = input.byteString().map(Int.init)
    let body = input.rest()

    let expected = GRPCFramingModel.parse(body, limit: limit)
    let outcomes = [
      deframe(body, limit: limit, chunkSizes: [body.count]),
      deframe(body, limit: limit, chunkSizes: cuts),
      deframe(body, limit: limit, chunkSizes: [1]),
    ]
    for outcome in outcomes {
      fuzzCheck(outcome.messages == expected.messages, "messages differ from the spec's")
      fuzzCheck(outcome.failure == expected.failure, "\(outcome.failure as Any) != \(expected)")
      fuzzCheck(
        outcome.atBoundary == (expected.failure == nil && !expected.partial),
        "boundary state \(outcome.atBoundary), spec \(expected)")
    }
    let consumed = Array(body[..<expected.consumed])
    fuzzCheck(GRPCFramingModel.frame(expected.messages) == consumed, "re-framed != consumed")
    let framed = expected.messages.flatMap { GRPCFramedMessage($0).framed }
    fuzzCheck(framed == consumed, "GRPCFramedMessage's framing != consumed")
  }

  struct Outcome {
    var messages: [[UInt8]] = []
    var failure: GRPCFramingModel.Failure?
    var atBoundary = false
  }

  /// Feeds `body` in chunks of `chunkSizes` (cycled; 0 is an empty chunk) until it ends or fails.
  static func deframe(_ body: [UInt8], limit: Int, chunkSizes: [Int]) -> Outcome {
    var deframer = GRPCMessageDeframer(maxMessageLength: limit)
    var outcome = Outcome()
    var offset = 0
    var chunkIndex = 0
    // Each step either consumes a byte or is an empty chunk, and an empty chunk is followed by at
    // least one byte (a cycle of sizes that are all 0 falls back to 1), so this ends.
    var emptyInARow = 0
    while offset < body.count {
      var size = chunkSizes.isEmpty ? body.count : chunkSizes[chunkIndex % chunkSizes.count]
      chunkIndex += 1
      if size == 0 {
        emptyInARow += 1
        if emptyInARow > chunkSizes.count { size = 1 }
      }
      if size > 0 { emptyInARow = 0 }
      let end = min(body.count, offset + size)
      do {
        try body[offset..<end].withUnsafeBytes { chunk in
          try deframer.process(chunk) { outcome.messages.append($0) }
        }
      } catch let error as GRPCMessageDeframer.DeframingError {
        outcome.failure = failure(error, limit: limit)
        return outcome
      } catch {
        fuzzCheck(false, "process threw \(error), not a DeframingError")
      }
      offset = end
    }
    outcome.atBoundary = deframer.isAtMessageBoundary
    return outcome
  }

  /// The model's name for a deframing error, after checking what the error says of itself.
  static func failure(_ error: GRPCMessageDeframer.DeframingError, limit: Int)
    -> GRPCFramingModel.Failure
  {
    switch error {
    case .messageTooLarge(let length, let errorLimit):
      fuzzCheck(errorLimit == limit && length > limit, "\(error) with limit \(limit)")
      fuzzCheck(error.status.code == .resourceExhausted, "\(error.status)")
      return .messageTooLarge(length: length)
    case .compressedMessageWithoutEncoding:
      fuzzCheck(error.status.code == .internal, "\(error.status)")
      return .compressedFlag
    case .invalidCompressionFlag(let flag):
      fuzzCheck(flag > 1 && error.status.code == .internal, "\(error) \(error.status)")
      return .invalidFlag(flag)
    }
  }

  static var seeds: [(name: String, bytes: [UInt8])] {
    func seed(_ name: String, limit: Int, cuts: [UInt8], _ body: [UInt8]) -> (String, [UInt8]) {
      var writer = FuzzInputWriter()
      writer.choice(limits.firstIndex(of: limit)!)
      writer.byteString(cuts)
      writer.rest(body)
      return (name, writer.bytes)
    }
    let small = GRPCFramingModel.frame([Array("etcd".utf8)])
    let three = GRPCFramingModel.frame([[], [1, 2, 3], Array(repeating: 7, count: 20)])
    return [
      seed("empty", limit: 16, cuts: [], []),
      seed("one-message", limit: 16, cuts: [], small),
      seed("three-messages-cut", limit: 300, cuts: [2, 0, 6, 1], three),
      seed("empty-message", limit: 0, cuts: [3], GRPCFramingModel.frame([[]])),
      seed("truncated-prefix", limit: 16, cuts: [1], [0, 0, 0]),
      seed("truncated-body", limit: 16, cuts: [4], Array(small.dropLast())),
      seed("too-large", limit: 5, cuts: [2], small + small),
      seed("too-large-after-one", limit: 16, cuts: [], small + [0, 0, 0, 1, 0] + small),
      seed("compressed", limit: 16, cuts: [], [1, 0, 0, 0, 1, 9]),
      seed("invalid-flag", limit: 16, cuts: [7], small + [0x80, 0, 0, 0, 0]),
      seed("big-limit", limit: 4 << 20, cuts: [200], GRPCFramingModel.frame([Array(0...255)])),
    ]
  }
}
