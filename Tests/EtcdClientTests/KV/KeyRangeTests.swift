import Testing

@testable import EtcdClient

@Suite("KeyRangeEnd")
struct KeyRangeTests {
  @Test(
    "prefixEnd increments the last byte below 0xff and drops what follows",
    arguments: [
      (Array("a".utf8), Array("b".utf8)),
      (Array("foo".utf8), Array("fop".utf8)),
      ([0x61, 0xff], [0x62]),
      ([0x61, 0xfe], [0x61, 0xff]),
      ([0x61, 0xff, 0x62], [0x61, 0xff, 0x63]),
      ([0x61, 0xff, 0xff], [0x62]),
      ([0x00], [0x01]),
      ([0xff], [0x00]),
      ([0xff, 0xff], [0x00]),
      ([], [0x00]),
    ] as [([UInt8], [UInt8])]
  )
  func prefixEnd(prefix: [UInt8], end: [UInt8]) {
    #expect(KeyRangeEnd.prefixEnd(of: prefix) == end)
  }

  @Test(
    "encode gives key and range_end as clientv3 does",
    arguments: [
      (KeyRangeEnd.single, Array("k".utf8), Array("k".utf8), [UInt8]()),
      (.single, [], [], []),
      (.end(Array("z".utf8)), Array("a".utf8), Array("a".utf8), Array("z".utf8)),
      (.prefix, Array("foo".utf8), Array("foo".utf8), Array("fop".utf8)),
      (.prefix, [0x61, 0xff], [0x61, 0xff], [0x62]),
      (.prefix, [0xff, 0xff], [0xff, 0xff], [0x00]),
      (.prefix, [], [0x00], [0x00]),
      (.fromKey, Array("k".utf8), Array("k".utf8), [0x00]),
      (.fromKey, [], [0x00], [0x00]),
    ] as [(KeyRangeEnd, [UInt8], [UInt8], [UInt8])]
  )
  func encode(rangeEnd: KeyRangeEnd, key: [UInt8], encodedKey: [UInt8], encodedEnd: [UInt8]) {
    let encoded = rangeEnd.encode(key: key)
    #expect(encoded.key == encodedKey)
    #expect(encoded.rangeEnd == encodedEnd)
  }
}
