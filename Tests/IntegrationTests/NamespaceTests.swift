import Testing

@testable import EtcdClient

@Suite("Namespaces against a real etcd", .serialized)
struct NamespaceTests {
  @Test func keysArePrefixedAndStrippedAndRangesStayInside() async throws {
    try await withEtcd { etcd in
      let client = try EtcdClient(endpoints: etcd.endpoints)
      defer { Task { await client.close() } }
      let app = client.namespace("ns/a/")
      try await client.put("ns/a", "outside-just-before")
      try await client.put("ns/b/x", "outside-after")
      try await client.put("z", "outside")

      try await app.put("one", "1")
      try await app.put("two", "2")
      let previous = try await app.put("one", "1b", options: .init(prevKV: true))
      #expect(previous.prevKV?.keyString == "one")
      #expect(try await client.get("ns/a/one").kvs.first?.valueString == "1b")

      let all = try await app.get("", options: .prefix)
      #expect(all.kvs.map(\.keyString) == ["one", "two"])
      let fromKey = try await app.get("p", options: .init(range: .fromKey))
      #expect(fromKey.kvs.map(\.keyString) == ["two"])
      let range = try await app.get("a", options: .init(range: .end(Array("p".utf8))))
      #expect(range.kvs.map(\.keyString) == ["one"])

      let txn = try await app.txn(
        Txn(if: [.value("one", .equal, "1b")], then: [.put("three", "3"), .get("", options: .prefix)]))
      #expect(txn.succeeded)
      if case .get(let get) = txn.responses.last {
        #expect(get.kvs.map(\.keyString) == ["one", "three", "two"])
      } else {
        Issue.record("the txn's last response must be a get")
      }

      let revision = try await app.put("w", "0").header.revision
      var watch = app.watch("", options: .init(range: .prefix, startRevision: revision, prevKV: true))
        .makeAsyncIterator()
      try await client.put("outside-watch", "x")
      try await app.put("w", "1")
      var keys: [String] = []
      while keys.count < 2 {
        guard let response = try await watch.next() else { break }
        keys += response.events.map(\.kv.keyString)
        #expect(response.events.allSatisfy { $0.prevKV.map { !$0.keyString.hasPrefix("ns/") } ?? true })
      }
      #expect(keys == ["w", "w"])

      let deleted = try await app.delete("", options: .init(range: .prefix, prevKV: true))
      #expect(deleted.deleted == 4)
      #expect(deleted.prevKVs.map(\.keyString).sorted() == ["one", "three", "two", "w"])
      #expect(try await client.get("", options: .prefix).kvs.map(\.keyString) == ["ns/a", "ns/b/x", "outside-watch", "z"])
    }
  }
}
