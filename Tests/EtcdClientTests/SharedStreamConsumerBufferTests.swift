import Testing

@testable import EtcdClient

@Suite("SharedStreamConsumerBuffer")
struct SharedStreamConsumerBufferTests {
  /// One step: hand an element over (`reserve`) or take one (`taken`), with what it returns.
  enum Step: Sendable, CustomStringConvertible {
    case reserve(Bool)
    case taken(Bool)

    var description: String {
      switch self {
      case .reserve(let result): "reserve → \(result)"
      case .taken(let result): "taken → \(result)"
      }
    }
  }

  static let scenarios: [(String, [Step])] = [
    ("below the limit nothing is refused and nothing is drained", [
      .reserve(true), .reserve(true), .taken(false), .reserve(true), .taken(false), .taken(false),
    ]),
    ("a full buffer refuses, and taking its last element asks for reattachment once", [
      .reserve(true), .reserve(true), .reserve(true), .reserve(false), .reserve(false),
      .taken(false), .taken(false), .taken(true), .reserve(true), .taken(false),
    ]),
    ("a refusal after partial draining still waits for the buffer to be empty", [
      .reserve(true), .reserve(true), .reserve(true), .taken(false), .reserve(true), .reserve(false),
      .taken(false), .taken(false), .taken(true),
    ]),
  ]

  @Test(arguments: scenarios)
  func scenario(_ name: String, _ steps: [Step]) {
    let buffer = SharedStreamConsumerBuffer(limit: 3)
    for (index, step) in steps.enumerated() {
      switch step {
      case .reserve(let expected):
        #expect(buffer.reserve() == expected, "\(name), step \(index): \(step)")
      case .taken(let expected):
        #expect(buffer.taken() == expected, "\(name), step \(index): \(step)")
      }
    }
  }

  @Test("the byte bound refuses what would pass it, but an empty buffer takes one element of any size")
  func byteBound() {
    let buffer = SharedStreamConsumerBuffer(limit: 10, byteLimit: 100)
    #expect(buffer.reserve(bytes: 60))
    #expect(buffer.reserve(bytes: 40))
    #expect(buffer.reserve(bytes: 1) == false)  // 101 bytes: refused, and the consumer is detached
    #expect(buffer.taken(bytes: 60) == false)
    #expect(buffer.reserve(bytes: 10) == false)  // detached: nothing more until it is drained
    #expect(buffer.taken(bytes: 40))  // drained: attach again
    #expect(buffer.reserve(bytes: 500))  // empty: one element above the bound goes through
    #expect(buffer.reserve(bytes: 1) == false)
  }
}
