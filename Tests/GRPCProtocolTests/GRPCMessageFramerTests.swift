import EtcdProto
import Foundation
import Testing

import GRPCProtocol

@Suite("GRPCMessageFramer")
struct GRPCMessageFramerTests {
  @Test(
    "the 5-byte prefix is flag 0 and the big-endian length",
    arguments: [
      (0, [0, 0, 0, 0, 0] as [UInt8]),
      (1, [0, 0, 0, 0, 1]),
      (255, [0, 0, 0, 0, 0xff]),
      (256, [0, 0, 0, 1, 0]),
      (65_535, [0, 0, 0, 0xff, 0xff]),
      (65_536, [0, 0, 1, 0, 0]),
      (16_777_217, [0, 1, 0, 0, 1]),
    ]
  )
  func prefix(size: Int, prefix: [UInt8]) {
    let message = GRPCFramedMessage(repeating: 0xab, count: size)
    #expect(Array(message.framed.prefix(5)) == prefix)
    #expect(message.framed.count == size + 5)
    #expect(message.count == size)
    #expect(message.framed.dropFirst(5).allSatisfy { $0 == 0xab })
  }

  @Test("framing a byte sequence and an empty message")
  func fromBytes() {
    #expect(GRPCFramedMessage([7, 8, 9]).framed == [0, 0, 0, 0, 3, 7, 8, 9])
    #expect(GRPCFramedMessage([7, 8, 9]).count == 3)
    #expect(GRPCFramedMessage().framed == [0, 0, 0, 0, 0])
    #expect(GRPCFramedMessage().count == 0)
  }

  @Test("the unsafe-bytes views show the message without its prefix")
  func bytesViews() {
    var message = GRPCFramedMessage([1, 2, 3])
    #expect(message.withUnsafeBytes { Array($0) } == [1, 2, 3])
    message.withUnsafeMutableBytes { $0[0] = 0x10 }
    #expect(message.framed == [0, 0, 0, 0, 3, 0x10, 2, 3])
  }

  static func sampleRequest() -> Etcdserverpb_PutRequest {
    var request = Etcdserverpb_PutRequest()
    request.key = Data("sample_key".utf8)
    request.value = Data((0..<300).map { UInt8(truncatingIfNeeded: $0) })
    request.lease = 7_587_869_173_412_345
    request.prevKv = true
    return request
  }

  @Test("a PutRequest round-trips through the framer and the deframer")
  func protobufRoundTrip() throws {
    let request = Self.sampleRequest()
    let serialized: [UInt8] = try request.serializedBytes()
    let framed = try GRPCMessageFramer(maxMessageLength: 4096).frame(request)

    #expect(framed.count == serialized.count)
    #expect(framed.framed == grpcFrame(serialized))

    var deframer = GRPCMessageDeframer(maxMessageLength: 4096)
    var messages: [[UInt8]] = []
    try framed.framed.withUnsafeBytes { try deframer.process($0) { messages.append($0) } }
    #expect(messages.count == 1)
    let decoded = try Etcdserverpb_PutRequest(serializedBytes: try #require(messages.first))
    #expect(decoded == request)
    #expect(deframer.isAtMessageBoundary)
  }

  @Test("an empty PutRequest frames as an empty message")
  func emptyRequest() throws {
    let framed = try GRPCMessageFramer(maxMessageLength: 0).frame(Etcdserverpb_PutRequest())
    #expect(framed.framed == [0, 0, 0, 0, 0])
  }

  @Test("a message exactly at the send limit passes")
  func atLimit() throws {
    let request = Self.sampleRequest()
    let size = try (request.serializedBytes() as [UInt8]).count
    let framed = try GRPCMessageFramer(maxMessageLength: size).frame(request)
    #expect(framed.count == size)
  }

  @Test("a message over the send limit throws messageTooLarge with RESOURCE_EXHAUSTED")
  func overLimit() throws {
    let request = Self.sampleRequest()
    let size = try (request.serializedBytes() as [UInt8]).count
    let error = #expect(throws: GRPCMessageFramer.FramingError.self) {
      try GRPCMessageFramer(maxMessageLength: size - 1).frame(request)
    }
    guard case .messageTooLarge(let length, let limit) = error else {
      Issue.record("expected messageTooLarge, got \(String(describing: error))")
      return
    }
    #expect(length == size && limit == size - 1)
    #expect(error?.status.code == .resourceExhausted)
    #expect(
      error?.status.message == "trying to send message larger than max (\(size) vs. \(size - 1))"
    )
  }

  @Test("a message that cannot be serialized throws serializationFailed with INTERNAL")
  func serializationFailure() {
    // Binary serialization of etcd's proto3 messages never fails, so the error is made directly.
    struct Unserializable: Error {}
    let error = GRPCMessageFramer.FramingError.serializationFailed(Unserializable())
    #expect(error.status.code == .internal)
    #expect(error.status.message == "grpc: error while marshaling: Unserializable()")
  }
}
