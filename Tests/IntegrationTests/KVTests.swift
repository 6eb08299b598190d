import Foundation
import EtcdProto
import Testing

@testable import EtcdClient

@Suite("KV against a real etcd", .serialized)
struct KVTests {
  @Test func putThenGetReturnsValueAndHeader() async throws {
    try await withEtcd { etcd in
      let client = try EtcdClient(endpoints: etcd.endpoints)
      let put = try await client.put("greeting", "hello")
      #expect(put.header.revision > 1)
      #expect(put.header.clusterID != 0)
      #expect(put.header.memberID != 0)
      #expect(put.header.raftTerm >= 1)
      #expect(put.prevKV == nil)

      let get = try await client.get("greeting", timeout: .seconds(2))
      #expect(get.count == 1)
      #expect(get.kvs.first?.valueString == "hello")
      #expect(get.kvs.first?.modRevision == put.header.revision)
      #expect(get.kvs.first?.createRevision == put.header.revision)
      #expect(get.kvs.first?.version == 1)
      #expect(get.header.revision == put.header.revision)

      let missing = try await client.get("absent")
      #expect(missing.kvs.isEmpty)
      #expect(missing.count == 0)
      await client.close()
    }
  }
}

extension KVTests {
  @Test func putOptionsPrevKVLeaseIgnoreValueIgnoreLease() async throws {
    try await withEtcd { etcd in
      let client = try EtcdClient(endpoints: etcd.endpoints)
      defer { Task { await client.close() } }
      try await client.put("k", "v1")
      let second = try await client.put("k", "v2", options: .init(prevKV: true))
      #expect(second.prevKV?.valueString == "v1")
      #expect(second.prevKV?.version == 1)

      var grant = Etcdserverpb_LeaseGrantRequest()
      grant.ttl = 60
      let lease: Etcdserverpb_LeaseGrantResponse = try await client.unary(
        RPCMethod.Lease.grant, grant, timeout: nil)
      #expect(lease.id != 0)

      try await client.put("k", "v3", options: .init(lease: LeaseID(lease.id)))
      #expect(try await client.get("k").kvs.first?.lease == LeaseID(lease.id))

      // ignoreValue keeps the value, sets the lease (here: detaches it).
      try await client.put("k", "", options: .init(ignoreValue: true))
      let afterIgnoreValue = try await client.get("k").kvs.first
      #expect(afterIgnoreValue?.valueString == "v3")
      #expect(afterIgnoreValue?.lease == nil)

      try await client.put("k", "v4", options: .init(lease: LeaseID(lease.id)))
      try await client.put("k", "v5", options: .init(ignoreLease: true))
      let afterIgnoreLease = try await client.get("k").kvs.first
      #expect(afterIgnoreLease?.valueString == "v5")
      #expect(afterIgnoreLease?.lease == LeaseID(lease.id))

      // ignoreValue on a missing key is refused by the server with its own typed error.
      await expectEtcdError(.keyNotFound, grpcCode: .invalidArgument) {
        try await client.put("missing", "", options: .init(ignoreValue: true))
      }
    }
  }

  @Test func getRangesPrefixFromKeyLimitAndSort() async throws {
    try await withEtcd { etcd in
      let client = try EtcdClient(endpoints: etcd.endpoints)
      defer { Task { await client.close() } }
      for (key, value) in [("a/1", "z"), ("a/2", "y"), ("a/3", "x"), ("b/1", "w"), ("c", "v")] {
        try await client.put(key, value)
      }
      let prefix = try await client.get("a/", options: .prefix)
      #expect(prefix.kvs.map(\.keyString) == ["a/1", "a/2", "a/3"])
      #expect(prefix.count == 3)

      let range = try await client.get("a/2", options: .init(range: .end(Array("b/2".utf8))))
      #expect(range.kvs.map(\.keyString) == ["a/2", "a/3", "b/1"])

      let fromKey = try await client.get("b", options: .init(range: .fromKey))
      #expect(fromKey.kvs.map(\.keyString) == ["b/1", "c"])

      let everything = try await client.get("", options: .prefix)
      #expect(everything.count == 5)

      let limited = try await client.get("a/", options: .init(range: .prefix, limit: 2))
      #expect(limited.kvs.count == 2)
      #expect(limited.more)
      #expect(limited.count == 3)

      let byValue = try await client.get(
        "a/", options: .init(range: .prefix, sortOrder: .ascend, sortTarget: .value))
      #expect(byValue.kvs.map(\.valueString) == ["x", "y", "z"])

      let descending = try await client.get(
        "a/", options: .init(range: .prefix, sortOrder: .descend, sortTarget: .key))
      #expect(descending.kvs.map(\.keyString) == ["a/3", "a/2", "a/1"])

      let byModRevision = try await client.get(
        "", options: .init(range: .prefix, sortOrder: .descend, sortTarget: .modRevision))
      #expect(byModRevision.kvs.first?.keyString == "c")

      let keysOnly = try await client.get("a/", options: .init(range: .prefix, keysOnly: true))
      #expect(keysOnly.kvs.count == 3)
      #expect(keysOnly.kvs.allSatisfy { $0.value.isEmpty })

      let countOnly = try await client.get("a/", options: .init(range: .prefix, countOnly: true))
      #expect(countOnly.kvs.isEmpty)
      #expect(countOnly.count == 3)

      let serializable = try await client.get("c", options: .init(serializable: true))
      #expect(serializable.kvs.first?.valueString == "v")
    }
  }

  @Test func getByRevisionAndRevisionFilters() async throws {
    try await withEtcd { etcd in
      let client = try EtcdClient(endpoints: etcd.endpoints)
      defer { Task { await client.close() } }
      let r1 = try await client.put("x", "1").header.revision
      let r2 = try await client.put("y", "1").header.revision
      let r3 = try await client.put("x", "2").header.revision

      let old = try await client.get("x", options: .init(revision: r1))
      #expect(old.kvs.first?.valueString == "1")
      let latest = try await client.get("x")
      #expect(latest.kvs.first?.valueString == "2")
      #expect(latest.kvs.first?.version == 2)

      let modifiedSince = try await client.get(
        "", options: .init(range: .prefix, minModRevision: r2))
      #expect(modifiedSince.kvs.map(\.keyString) == ["x", "y"])
      let modifiedBefore = try await client.get(
        "", options: .init(range: .prefix, maxModRevision: r2))
      #expect(modifiedBefore.kvs.map(\.keyString) == ["y"])
      let createdAfter = try await client.get(
        "", options: .init(range: .prefix, minCreateRevision: r2))
      #expect(createdAfter.kvs.map(\.keyString) == ["y"])
      let createdBefore = try await client.get(
        "", options: .init(range: .prefix, maxCreateRevision: r1))
      #expect(createdBefore.kvs.map(\.keyString) == ["x"])

      await expectEtcdError(.futureRevision, grpcCode: .outOfRange) {
        _ = try await client.get("x", options: .init(revision: r3 + 100))
      }
    }
  }

  @Test func deleteKeyRangeAndPrefixWithPrevKV() async throws {
    try await withEtcd { etcd in
      let client = try EtcdClient(endpoints: etcd.endpoints)
      defer { Task { await client.close() } }
      for key in ["d/1", "d/2", "d/3", "e/1", "f"] { try await client.put(key, "v-\(key)") }

      let one = try await client.delete("f", options: .init(prevKV: true))
      #expect(one.deleted == 1)
      #expect(one.prevKVs.map(\.valueString) == ["v-f"])

      let none = try await client.delete("f")
      #expect(none.deleted == 0)

      let range = try await client.delete("d/2", options: .init(range: .end(Array("e/2".utf8))))
      #expect(range.deleted == 3)
      #expect(range.prevKVs.isEmpty)

      let prefix = try await client.delete("d/", options: .init(range: .prefix, prevKV: true))
      #expect(prefix.prevKVs.map(\.keyString) == ["d/1"])
      #expect(try await client.get("", options: .prefix).count == 0)
    }
  }

  @Test func emptyKeyIsATypedServerError() async throws {
    try await withEtcd { etcd in
      let client = try EtcdClient(endpoints: etcd.endpoints)
      defer { Task { await client.close() } }
      let error = await expectEtcdError(.emptyKey, grpcCode: .invalidArgument) {
        try await client.put("", "v")
      }
      #expect(error?.message == "etcdserver: key is not provided")
      await expectEtcdError(.emptyKey) { _ = try await client.get("") }
      await expectEtcdError(.emptyKey) { try await client.delete("") }
      // The connection carries on.
      #expect(try await client.put("ok", "v").header.revision > 0)
    }
  }

  @Test func binaryKeysAndValuesRoundTrip() async throws {
    try await withEtcd { etcd in
      let client = try EtcdClient(endpoints: etcd.endpoints)
      defer { Task { await client.close() } }
      let key: [UInt8] = [0x00, 0xff, 0x10, 0x80]
      let value: [UInt8] = (0...255).map { UInt8($0) }
      try await client.put(key, value)
      let read = try await client.get(key)
      #expect(read.kvs.first?.key == key)
      #expect(read.kvs.first?.value == value)
      // The String views of bytes that are not UTF-8 replace them with U+FFFD; the bytes stay exact.
      #expect(read.kvs.first?.keyString == "\u{0}\u{FFFD}\u{10}\u{FFFD}")
      // A prefix of all 0xff bytes has no upper bound: it reads every key from it on.
      try await client.put([0xff, 0xff, 0x01], "x")
      #expect(try await client.get([0xff, 0xff] as [UInt8], options: .prefix).count == 1)
    }
  }
}
