import Foundation
import Testing

#if canImport(Glibc)
  import Glibc
#endif

@testable import EtcdClient

/// Reads responses from a watch until `count` events arrived (bounded by `timeout`).
func collectEvents(
  _ iterator: inout WatchSequence.Iterator,
  count: Int,
  timeout: Duration = .seconds(20)
) async throws -> [WatchEvent] {
  var events: [WatchEvent] = []
  let deadline = ContinuousClock.now + timeout
  while events.count < count, ContinuousClock.now < deadline {
    guard let response = try await iterator.next() else { break }
    events += response.events
  }
  return events
}

/// Puts `value` under `key`, trying again every 100 ms while a member restarts, at most 100 times;
/// whether a put was acknowledged.
func putUntilAcknowledged(_ client: EtcdClient, _ key: String, _ value: String) async throws -> Bool {
  for _ in 0..<100 {
    do {
      try await client.put(key, value, timeout: .seconds(2))
      return true
    } catch {
      try await Task.sleep(for: .milliseconds(100))
    }
  }
  return false
}

/// Watches `key` from a first put, kills and restarts the cluster's first member, puts again, and
/// returns the value the watch then delivers: the client's watch stream is resumed on the way.
func watchAcrossARestart(_ client: EtcdClient, _ etcd: EtcdTestCluster, key: String) async throws
  -> String?
{
  let member = etcd.members[0]
  let first = try await client.put(key, "0").header.revision
  var events = client.watch(key, options: .init(startRevision: first)).makeAsyncIterator()
  _ = try await collectEvents(&events, count: 1)
  member.kill()
  try await Task.sleep(for: .milliseconds(300))
  try await etcd.restart(member)
  #expect(try await putUntilAcknowledged(client, key, "1"))
  return try await collectEvents(&events, count: 1).first?.kv.valueString
}

/// The value of one of etcd's own gauges, read from its /metrics.
func etcdGauge(_ name: String, port: Int) throws -> Double? {
  let output = try run(["curl", "-s", "http://127.0.0.1:\(port)/metrics"]).output
  for line in output.split(separator: "\n") where line.hasPrefix(name + " ") {
    return Double(line.split(separator: " ").last ?? "")
  }
  return nil
}

@Suite("Watch against a real etcd", .serialized)
struct WatchTests {
  @Test func watchDeliversPutsAndDeletesInOrderWithPrevKV() async throws {
    try await withEtcd { etcd in
      let client = try EtcdClient(endpoints: etcd.endpoints)
      defer { Task { await client.close() } }
      let created = try await client.put("w/a", "1").header.revision
      var iterator = client.watch(
        "w/", options: .init(range: .prefix, startRevision: created + 1, prevKV: true)
      ).makeAsyncIterator()
      try await client.put("w/a", "2")
      try await client.delete("w/a")
      try await client.put("other", "x")
      let events = try await collectEvents(&iterator, count: 2)
      #expect(events.count == 2)
      let tail = Array(events.suffix(2))
      #expect(tail.map(\.type) == [.put, .delete])
      #expect(tail[0].kv.valueString == "2")
      #expect(tail[0].prevKV?.valueString == "1")
      #expect(tail[1].kv.keyString == "w/a")
      #expect(tail[1].prevKV?.valueString == "2")
      #expect(!events.contains { $0.kv.keyString == "other" })
    }
  }

  @Test func startRevisionReplaysHistoryAndFiltersApply() async throws {
    try await withEtcd { etcd in
      let client = try EtcdClient(endpoints: etcd.endpoints)
      defer { Task { await client.close() } }
      let first = try await client.put("h", "1").header.revision
      try await client.put("h", "2")
      try await client.delete("h")
      try await client.put("h", "3")

      var all = client.watch("h", options: .init(startRevision: first)).makeAsyncIterator()
      let history = try await collectEvents(&all, count: 4)
      #expect(history.map(\.type) == [.put, .put, .delete, .put])
      #expect(history.map(\.kv.modRevision) == Array(first...(first + 3)))

      var noDeletes = client.watch("h", options: .init(startRevision: first, filterDeletes: true))
        .makeAsyncIterator()
      let puts = try await collectEvents(&noDeletes, count: 3)
      #expect(puts.map(\.kv.valueString) == ["1", "2", "3"])

      var noPuts = client.watch("h", options: .init(startRevision: first, filterPuts: true))
        .makeAsyncIterator()
      let deletes = try await collectEvents(&noPuts, count: 1)
      #expect(deletes.map(\.type) == [.delete])
      #expect(deletes.first?.kv.modRevision == first + 2)
    }
  }

  @Test func watchBelowCompactionEndsWithCompactRevision() async throws {
    try await withEtcd { etcd in
      let client = try EtcdClient(endpoints: etcd.endpoints)
      defer { Task { await client.close() } }
      let first = try await client.put("c", "1").header.revision
      let last = try await client.put("c", "2").header.revision
      try await client.compact(revision: last, physical: true)
      var iterator = client.watch("c", options: .init(startRevision: first)).makeAsyncIterator()
      do {
        _ = try await iterator.next()
        Issue.record("a watch below the compacted revision must fail")
      } catch let error as EtcdError {
        #expect(error.code == .compacted)
        #expect(error.compactRevision == last)
      }
      // Other watchers on the shared stream are unaffected.
      var live = client.watch("c", options: .init(startRevision: last)).makeAsyncIterator()
      #expect(try await collectEvents(&live, count: 1).first?.kv.valueString == "2")
    }
  }

  @Test func leavingTheLoopCancelsOnlyThatWatcherOnTheServer() async throws {
    try await withEtcd { etcd in
      let client = try EtcdClient(endpoints: etcd.endpoints)
      defer { Task { await client.close() } }
      let port = etcd.members[0].clientPort
      let start = try await client.put("x", "0").header.revision

      var keeper = client.watch("x", options: .init(startRevision: start)).makeAsyncIterator()
      _ = try await collectEvents(&keeper, count: 1)
      let task = Task {
        var count = 0
        for try await response in client.watch("x", options: .init(startRevision: start)) {
          count += response.events.count
          if count >= 1 { break }
        }
        return count
      }
      #expect(try await task.value == 1)
      // etcd counts its watchers: back to one once the second is cancelled (poll, bounded).
      var watchers: Double? = nil
      for _ in 0..<50 {
        watchers = try etcdGauge("etcd_debugging_mvcc_watcher_total", port: port)
        if watchers == 1 { break }
        try await Task.sleep(for: .milliseconds(100))
      }
      #expect(watchers == 1)
      try await client.put("x", "1")
      #expect(try await collectEvents(&keeper, count: 1).first?.kv.valueString == "1")
    }
  }

  @Test func requestProgressReachesWatchers() async throws {
    try await withEtcd { etcd in
      let client = try EtcdClient(endpoints: etcd.endpoints)
      defer { Task { await client.close() } }
      let revision = try await client.put("p", "1").header.revision
      var iterator = client.watch("p", options: .init(startRevision: revision)).makeAsyncIterator()
      _ = try await collectEvents(&iterator, count: 1)
      try await client.put("unrelated", "v")
      try await client.requestWatchProgress()
      let progress = try #require(try await iterator.next())
      #expect(progress.isProgressNotify)
      #expect(progress.header.revision >= revision + 1)
    }
  }

  @Test func watcherResumesAcrossAServerRestartWithoutGapOrDuplicate() async throws {
    try await withEtcd { etcd in
      let client = try EtcdClient(endpoints: etcd.endpoints)
      defer { Task { await client.close() } }
      let member = etcd.members[0]
      let first = try await client.put("r", "start").header.revision

      let watcher = Task {
        var seen: [(Int64, String)] = []
        for try await response in client.watch("r", options: .init(startRevision: first)) {
          seen += response.events.map { ($0.kv.modRevision, $0.kv.valueString) }
          if seen.last?.1 == "end" { break }
        }
        return seen
      }

      // 200 writes; etcd is killed after the 60th and restarted; writes retry until acknowledged.
      for index in 0..<200 {
        if index == 60 {
          member.kill()
          try await Task.sleep(for: .milliseconds(300))
          try await etcd.restart(member)
        }
        let written = try await putUntilAcknowledged(client, "r", "v\(index)")
        #expect(written, "write \(index) never succeeded")
      }
      let last = try await client.put("r", "end").header.revision

      let seen = try await withThrowingTaskGroup(of: [(Int64, String)].self) { group in
        group.addTask { try await watcher.value }
        group.addTask {
          try await Task.sleep(for: .seconds(30))
          watcher.cancel()
          throw FixtureError("the watcher did not see the last write within 30 s")
        }
        let result = try await group.next() ?? []
        group.cancelAll()
        return result
      }
      // The history, read back afterwards by a fresh watch from the same start.
      var replay = client.watch("r", options: .init(startRevision: first)).makeAsyncIterator()
      let history = try await collectEvents(&replay, count: Int(last - first + 1))
        .map { ($0.kv.modRevision, $0.kv.valueString) }

      #expect(seen.map(\.0) == history.map(\.0), "revisions differ")
      #expect(seen.map(\.1) == history.map(\.1), "values differ")
      #expect(Set(seen.map(\.0)).count == seen.count, "a revision was delivered twice")
      #expect(seen.map(\.0) == seen.map(\.0).sorted(), "revisions out of order")
      #expect(seen.last?.0 == last)
      if let hub = client.existingWatchHubs().first {
        #expect(await hub.resumptions >= 1)
      }
    }
  }

  @Test func requireLeaderEndsTheWatchWhenTheMemberLosesItsLeader() async throws {
    try await withEtcd(size: 3) { etcd in
      let survivor = etcd.members[0]
      let client = try EtcdClient(endpoints: [survivor.endpoint])
      defer { Task { await client.close() } }
      let revision = try await client.put("l", "1").header.revision
      var iterator = client.watch("l", options: .init(startRevision: revision, requireLeader: true))
        .makeAsyncIterator()
      _ = try await collectEvents(&iterator, count: 1)
      etcd.members[1].kill()
      etcd.members[2].kill()
      let started = ContinuousClock.now
      do {
        while let _ = try await iterator.next() {
          if ContinuousClock.now - started > .seconds(30) { break }
        }
        Issue.record("a requireLeader watch must fail when its member has no leader")
      } catch let error as EtcdError {
        #expect(error.code == .noLeader, "\(error)")
      }
    }
  }
}
