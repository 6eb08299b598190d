import EtcdProto
import Foundation
import Synchronization
import Testing

@testable import EtcdClient

/// Readers that stop while the server has 200 MiB to send. A streaming call's reader: the server stops after
/// about one stream window, other calls on the connection go on, and the reader gets everything, in order,
/// when it resumes. A watcher: the other watchers of the client keep receiving, and the stalled one sees every
/// revision once, in order, when it reads again. Memory stays bounded in both.
@Suite("Backpressure against a real etcd", .serialized)
struct BackpressureTests {
  /// The database the server streams: 200 transactions of 64 values of 16 KiB, 200 MiB of values.
  static let transactions = 200
  static let valuesPerTransaction = 64
  static let valueBytes = 16 * 1024

  /// The most the process' resident memory may grow while the reader is stopped: one stream window (4 MiB)
  /// of queued messages, nghttp2's and NIO's buffers and the allocator's slack. About 3.5 MiB is measured;
  /// without backpressure the whole database (over 200 MiB) arrives.
  static let residentGrowthBound = 16 * 1024 * 1024

  /// The most resident memory may grow while a watcher is stalled: its buffer (8 MiB of keys and values, plus
  /// the one response that arrives when it is full), the live watcher's response in hand, a stream window of
  /// the shared stream, and the allocator's slack. About 20 MiB is measured; without the watcher's bound the
  /// stalled watcher holds all 200 MiB.
  static let watcherResidentGrowthBound = 64 * 1024 * 1024

  /// Puts `valuesPerTransaction` values of `valueBytes` under `prefix + transaction + "/"`, in one revision.
  static func writeTransaction(_ transaction: Int, prefix: String, on client: EtcdClient) async throws {
    let puts = (0..<valuesPerTransaction).map { index in
      TxnOperation.put(
        "\(prefix)\(transaction)/\(index)",
        [UInt8](repeating: UInt8(truncatingIfNeeded: transaction &+ index), count: valueBytes))
    }
    _ = try await client.txn(Txn(then: puts), timeout: .seconds(10))
  }

  @Test func aStoppedSnapshotReaderStopsTheServerAndTheConnectionGoesOn() async throws {
    try await withEtcd { etcd in
      let client = try EtcdClient(endpoints: etcd.endpoints)
      defer { Task { await client.close() } }
      for transaction in 0..<Self.transactions {
        try await Self.writeTransaction(transaction, prefix: "big/", on: client)
      }

      let before = try await ProcessResources.baseline().residentBytes
      let stream = try client.bidirectionalStream(RPCMethod.Maintenance.snapshot)
      stream.send(try client.frame(Etcdserverpb_SnapshotRequest()))
      stream.finishSending()
      var iterator = stream.responses.makeAsyncIterator()
      // The database in chunks, each with the bytes still to come after it, then its SHA-256.
      let first = try Etcdserverpb_SnapshotResponse(serializedBytes: try #require(await iterator.next()))
      let databaseSize = Int(first.remainingBytes) + first.blob.count
      #expect(databaseSize > Self.transactions * Self.valuesPerTransaction * Self.valueBytes)
      var received = first.blob
      var remaining = first.remainingBytes
      var messages = 1
      func take(_ bytes: [UInt8]) throws {
        let response = try Etcdserverpb_SnapshotResponse(serializedBytes: bytes)
        // A chunk out of order or lost breaks the count; after the last chunk comes the hash, once.
        if remaining == 0 {
          #expect(received.count == databaseSize && response.blob.count == 32)
        } else {
          #expect(response.remainingBytes + UInt64(response.blob.count) == remaining)
        }
        remaining = response.remainingBytes
        received += response.blob
        messages += 1
      }

      // The reader stops. Without backpressure the whole database would arrive now; with it, the server stops
      // after one stream window. Sample until resident memory stops growing (bounded: at most 10 s).
      var peak = try ProcessResources.read().residentBytes
      var stableSamples = 0
      let deadline = ContinuousClock.now + .seconds(10)
      while stableSamples < 8 && ContinuousClock.now < deadline {
        try await Task.sleep(for: .milliseconds(250))
        let now = try ProcessResources.read().residentBytes
        stableSamples = now > peak + 1024 * 1024 ? 0 : stableSamples + 1
        peak = max(peak, now)
      }
      let growth = peak - before
      #expect(
        growth < Self.residentGrowthBound,
        "resident memory grew by \(growth / 1_048_576) MiB with the reader stopped")

      // The stalled stream holds only its own window: a unary call on the same connection completes.
      let other = try await client.get("big/0/0", timeout: .seconds(5))
      #expect(other.kvs.first?.value.count == Self.valueBytes)
      #expect(client.connectAttempts == 1)

      // The reader resumes and gets everything, in order: the database, then its SHA-256.
      while let bytes = try await iterator.next() { try take(bytes) }
      #expect(remaining == 0)
      #expect(received.count == databaseSize + 32, "\(messages) messages")
      let hashMatches = try Self.snapshotHashMatches(received)
      #expect(hashMatches, "the snapshot's SHA-256 does not match its bytes")
    }
  }

  @Test func aStalledWatcherDoesNotStallOthersNorGrowMemoryAndResumesInOrder() async throws {
    try await withEtcd { etcd in
      let client = try EtcdClient(endpoints: etcd.endpoints)
      defer { Task { await client.close() } }
      let start = try await client.put("bp/start", "0").header.revision + 1

      // The stalled watcher takes its first response, then stops reading.
      var stalled = client.watch("bp/", options: .init(range: .prefix, startRevision: start)).makeAsyncIterator()
      // The live watcher counts the revisions it sees, in order.
      let last = start + Int64(Self.transactions) - 1
      let live = Mutex(RevisionTracker(start: start, eventsPerRevision: Self.valuesPerTransaction))
      let liveTask = Task {
        for try await response in client.watch("bp/", options: .init(range: .prefix, startRevision: start)) {
          let done = live.withLock { tracker in
            for event in response.events { tracker.see(event) }
            return tracker.isComplete(through: last)
          }
          if done { return }
        }
      }
      var stalledTracker = RevisionTracker(start: start, eventsPerRevision: Self.valuesPerTransaction)

      let before = try await ProcessResources.baseline().residentBytes
      var peak = before
      for revision in 0..<Self.transactions {
        try await Self.writeTransaction(revision, prefix: "bp/", on: client)
        if revision == 0 {
          let first = try #require(await stalled.next())
          for event in first.events { stalledTracker.see(event) }
        }
        if revision % 10 == 0 { peak = max(peak, try ProcessResources.read().residentBytes) }
      }

      // The live watcher gets every revision while the other one is stalled (bounded: 60 s).
      let deadline = ContinuousClock.now + .seconds(60)
      while !live.withLock({ $0.isComplete(through: last) }) && ContinuousClock.now < deadline {
        try await Task.sleep(for: .milliseconds(50))
        peak = max(peak, try ProcessResources.read().residentBytes)
      }
      liveTask.cancel()
      let seen = live.withLock { $0 }
      #expect(seen.isComplete(through: last))
      #expect(seen.problems.isEmpty, "live watcher: \(seen.problems.prefix(3))")
      let growth = peak - before
      #expect(
        growth < Self.watcherResidentGrowthBound,
        "resident memory grew by \(growth / 1_048_576) MiB with one watcher stalled")

      // The stalled watcher reads again: every revision once, in order, each whole (bounded: 60 s).
      let resumeDeadline = ContinuousClock.now + .seconds(60)
      while !stalledTracker.isComplete(through: last) && ContinuousClock.now < resumeDeadline {
        let response = try #require(await stalled.next())
        for event in response.events { stalledTracker.see(event) }
      }
      #expect(stalledTracker.isComplete(through: last))
      #expect(stalledTracker.problems.isEmpty, "stalled watcher: \(stalledTracker.problems.prefix(3))")
    }
  }

  /// Whether the last 32 bytes of a snapshot stream are the SHA-256 of the bytes before them, checked with
  /// `sha256sum`.
  static func snapshotHashMatches(_ snapshot: Data) throws -> Bool {
    let path = NSTemporaryDirectory() + "etcd-backpressure-\(UUID().uuidString).db"
    defer { try? FileManager.default.removeItem(atPath: path) }
    try Data(snapshot.dropLast(32)).write(to: URL(fileURLWithPath: path))
    let (status, output) = try run(["sha256sum", path])
    guard status == 0, let digest = output.split(separator: " ").first else { return false }
    let expected = snapshot.suffix(32).map { String(format: "%02x", $0) }.joined()
    return digest == expected
  }
}

/// Checks a watcher's events: revisions from `start` up, each once, in order, each with all its events and
/// whole values.
struct RevisionTracker: Sendable {
  let eventsPerRevision: Int
  /// The revision whose events are arriving, and how many of them came.
  private(set) var current: Int64
  private(set) var eventsInCurrent = 0
  /// What broke the order, if anything.
  private(set) var problems: [String] = []

  init(start: Int64, eventsPerRevision: Int) {
    self.eventsPerRevision = eventsPerRevision
    self.current = start
  }

  mutating func see(_ event: WatchEvent) {
    let revision = event.kv.modRevision
    if revision == current {
      eventsInCurrent += 1
    } else if revision == current + 1 && eventsInCurrent == eventsPerRevision {
      current = revision
      eventsInCurrent = 1
    } else {
      problems.append("revision \(revision) after \(eventsInCurrent) events of \(current)")
    }
  }

  /// Whether every event up to `last` arrived.
  func isComplete(through last: Int64) -> Bool {
    current == last && eventsInCurrent == eventsPerRevision
  }
}
