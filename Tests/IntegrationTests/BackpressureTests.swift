import EtcdProto
import Foundation
import Testing

@testable import EtcdClient

/// A streaming call whose reader stops: the server stops after about one stream window, the process does not
/// buffer what the server still has to send, other calls on the connection go on, and a reader that resumes
/// gets everything, in order.
@Suite("Streaming backpressure against a real etcd", .serialized)
struct BackpressureTests {
  /// The database the server streams: 200 transactions of 64 values of 16 KiB, 200 MiB of values.
  static let transactions = 200
  static let valuesPerTransaction = 64
  static let valueBytes = 16 * 1024

  /// The most the process' resident memory may grow while the reader is stopped: one stream window (4 MiB)
  /// of queued messages, nghttp2's and NIO's buffers and the allocator's slack. About 3.5 MiB is measured;
  /// without backpressure the whole database (over 200 MiB) arrives.
  static let residentGrowthBound = 16 * 1024 * 1024

  @Test func aStoppedSnapshotReaderStopsTheServerAndTheConnectionGoesOn() async throws {
    try await withEtcd { etcd in
      let client = try EtcdClient(endpoints: etcd.endpoints)
      defer { Task { await client.close() } }
      for transaction in 0..<Self.transactions {
        let puts = (0..<Self.valuesPerTransaction).map { index in
          TxnOperation.put(
            "big/\(transaction)/\(index)",
            [UInt8](repeating: UInt8(truncatingIfNeeded: transaction &+ index), count: Self.valueBytes))
        }
        _ = try await client.txn(Txn(then: puts), timeout: .seconds(10))
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
