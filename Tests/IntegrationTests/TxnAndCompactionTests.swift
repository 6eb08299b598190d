import Testing

@testable import EtcdClient

@Suite("Txn and compaction against a real etcd", .serialized)
struct TxnAndCompactionTests {
  @Test func txnComparesEveryTargetAndRunsThenOrElse() async throws {
    try await withEtcd { etcd in
      let client = try EtcdClient(endpoints: etcd.endpoints)
      defer { Task { await client.close() } }
      let created = try await client.put("t", "one").header.revision

      let success = try await client.txn(
        Txn(
          if: [
            .value("t", .equal, "one"),
            .version("t", .equal, 1),
            .createRevision("t", .equal, created),
            .modRevision("t", .less, created + 1),
            .lease("t", .equal, nil),
            .version("absent", .equal, 0),
          ],
          then: [.put("t", "two", options: .init(prevKV: true)), .get("t"), .delete("gone")],
          else: [.get("t")]
        ))
      #expect(success.succeeded)
      #expect(success.responses.count == 3)
      if case .put(let put) = success.responses[0] {
        #expect(put.prevKV?.valueString == "one")
      } else {
        Issue.record("first response must be a put: \(success.responses[0])")
      }
      if case .get(let get) = success.responses[1] {
        #expect(get.kvs.first?.valueString == "two")
      } else {
        Issue.record("second response must be a get")
      }
      if case .delete(let delete) = success.responses[2] {
        #expect(delete.deleted == 0)
      } else {
        Issue.record("third response must be a delete")
      }

      let failure = try await client.txn(
        Txn(
          if: [.value("t", .notEqual, "two")],
          then: [.put("t", "never")],
          else: [.get("t"), .txn(Txn(if: [.version("t", .greater, 1)], then: [.put("nested", "yes")]))]
        ))
      #expect(!failure.succeeded)
      #expect(failure.responses.count == 2)
      if case .txn(let nested) = failure.responses[1] {
        #expect(nested.succeeded)
      } else {
        Issue.record("second response must be a nested txn")
      }
      #expect(try await client.get("nested").kvs.first?.valueString == "yes")
      #expect(try await client.get("t").kvs.first?.valueString == "two")

      // A range comparison: every key under the prefix must satisfy it.
      try await client.put("p/1", "a")
      try await client.put("p/2", "b")
      let rangeCompare = try await client.txn(
        Txn(if: [Compare(key: "p/", range: .prefix, .greater, .version(0))]))
      #expect(rangeCompare.succeeded)
    }
  }

  @Test func txnErrorsAreTyped() async throws {
    try await withEtcd { etcd in
      let client = try EtcdClient(endpoints: etcd.endpoints)
      defer { Task { await client.close() } }
      await expectEtcdError(.duplicateKey, grpcCode: .invalidArgument) {
        _ = try await client.txn(Txn(then: [.put("dup", "1"), .put("dup", "2")]))
      }
      // etcd's default --max-txn-ops is 128.
      await expectEtcdError(.tooManyOps, grpcCode: .invalidArgument) {
        let operations = (0..<200).map { TxnOperation.put("k\($0)", "v") }
        _ = try await client.txn(Txn(then: operations))
      }
    }
  }

  @Test func compactionMakesOldRevisionsUnreadable() async throws {
    try await withEtcd { etcd in
      let client = try EtcdClient(endpoints: etcd.endpoints)
      defer { Task { await client.close() } }
      let first = try await client.put("c", "1").header.revision
      try await client.put("c", "2")
      let third = try await client.put("c", "3").header.revision

      #expect(try await client.get("c", options: .init(revision: first)).kvs.first?.valueString == "1")
      let compacted = try await client.compact(revision: third, physical: true)
      #expect(compacted.header.revision >= third)

      await expectEtcdError(.compacted, grpcCode: .outOfRange) {
        _ = try await client.get("c", options: .init(revision: first))
      }
      await expectEtcdError(.compacted) { try await client.compact(revision: first) }
      await expectEtcdError(.futureRevision) { try await client.compact(revision: third + 1000) }
      #expect(try await client.get("c", options: .init(revision: third)).kvs.first?.valueString == "3")
    }
  }
}
