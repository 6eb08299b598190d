import EtcdProto
import Foundation
import SwiftProtobuf
import Testing

@testable import EtcdClient

/// The wire decoder reads every Watch response the way the SwiftProtobuf path does, or leaves it to that path.
@Suite struct WatchResponseWireDecoderTests {
  private static func keyValue(_ key: String, _ value: [UInt8], revision: Int64, lease: Int64 = 0) -> Mvccpb_KeyValue {
    var kv = Mvccpb_KeyValue()
    kv.key = Data(key.utf8)
    kv.value = Data(value)
    kv.createRevision = revision - 1
    kv.modRevision = revision
    kv.version = 2
    kv.lease = lease
    return kv
  }

  /// Responses covering every field the decoder reads, negative and large numbers, and empty messages.
  private static var responses: [Etcdserverpb_WatchResponse] {
    var created = Etcdserverpb_WatchResponse()
    created.header.clusterID = 0xdead_beef_cafe_f00d
    created.header.memberID = 7
    created.header.revision = 42
    created.header.raftTerm = 3
    created.watchID = 5
    created.created = true

    var events = Etcdserverpb_WatchResponse()
    events.header.revision = 1 << 40
    events.watchID = 5
    var put = Mvccpb_Event()
    put.kv = keyValue("fanout/1", Array(repeating: 0xff, count: 300), revision: 1 << 40, lease: 0x1234)
    var delete = Mvccpb_Event()
    delete.type = .delete
    delete.kv = keyValue("fanout/2", [], revision: 1 << 40)
    delete.prevKv = keyValue("fanout/2", [1, 2, 3], revision: 9)
    var bare = Mvccpb_Event()
    bare.type = .put
    events.events = [put, delete, bare]

    var canceled = Etcdserverpb_WatchResponse()
    canceled.watchID = -1
    canceled.canceled = true
    canceled.compactRevision = 17
    canceled.cancelReason = "etcdserver: mvcc: required revision has been compacted ✓"

    var fragment = Etcdserverpb_WatchResponse()
    fragment.watchID = 9
    fragment.fragment = true
    fragment.events = [put]

    return [created, events, canceled, fragment, Etcdserverpb_WatchResponse()]
  }

  @Test func readsWhatSwiftProtobufReads() throws {
    for proto in Self.responses {
      let message: [UInt8] = try proto.serializedBytes()
      let decoded = try #require(WatchResponseWireDecoder.decode(message))
      #expect(decoded == WatchStreamStateMachine.ServerResponse(proto))
    }
  }

  @Test func skipsUnknownFields() throws {
    for proto in Self.responses {
      let message: [UInt8] = try proto.serializedBytes()
      // Field 15 as a varint, field 16 length-delimited, field 17 fixed64, field 18 fixed32.
      let unknown: [UInt8] = [15 << 3, 0x96, 0x01, 0x82, 0x01, 2, 0xaa, 0xbb, 0x89, 0x01]
        + [UInt8](repeating: 1, count: 8) + [0x95, 0x01] + [UInt8](repeating: 2, count: 4)
      let decoded = try #require(WatchResponseWireDecoder.decode(unknown + message + unknown))
      #expect(decoded == WatchStreamStateMachine.ServerResponse(proto))
    }
  }

  @Test func leavesMalformedMessagesToSwiftProtobuf() throws {
    let message: [UInt8] = try Self.responses[1].serializedBytes()
    // Every truncation that SwiftProtobuf refuses, the decoder leaves too.
    for count in 0..<message.count {
      let truncated = Array(message.prefix(count))
      let protobuf = try? Etcdserverpb_WatchResponse(serializedBytes: truncated)
      let decoded = WatchResponseWireDecoder.decode(truncated)
      if protobuf == nil { #expect(decoded == nil, "prefix of \(count) bytes") }
      if let decoded, let protobuf { #expect(decoded == WatchStreamStateMachine.ServerResponse(protobuf)) }
    }
    // A known field with another wire type; field number 0; a group.
    #expect(WatchResponseWireDecoder.decode([2 << 3 | 2, 0]) == nil)
    #expect(WatchResponseWireDecoder.decode([0, 0]) == nil)
    #expect(WatchResponseWireDecoder.decode([10 << 3 | 3, 10 << 3 | 4]) == nil)
  }
}
