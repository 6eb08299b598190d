import Foundation
import Synchronization
import Testing

@testable import EtcdClient

/// etcd-probe's HashKV consistency check against a real 3-member etcd: frequent compactions while keys are
/// rewritten never make it report a mismatch, and a member whose stored data really differs is reported as
/// the one that disagrees.
@Suite("etcd-probe's consistency check against a real 3-node etcd", .serialized)
struct ProbeHashTests {
  /// With 200,000 keys stored, a hot set rewritten continuously and a compaction to the current revision
  /// every 1.25 s for a minute, a member can answer HashKV at another compact revision than the others; the
  /// probe compares only members at the same one, so it never reports a mismatch, and its checks agree.
  @Test func noFalseMismatchUnderFrequentCompactions() async throws {
    try await withEtcd(size: 3) { etcd in
      let client = try EtcdClient(endpoints: etcd.endpoints)
      defer { Task { await client.close() } }

      let loadStart = ContinuousClock.now
      let loaded = try await load(keys: 200_000, into: client)
      print("ProbeHashTests: loaded \(loaded) keys in \(ContinuousClock.now - loadStart)")
      #expect(loaded == 200_000)

      let probe = try EtcdProbeProcess(arguments: [
        "--endpoints", etcd.endpoints.joined(separator: ","), "--interval", "300ms", "--timeout", "2s",
        "--hash-interval", "500ms",
      ])
      _ = try await probe.waitForScrape { sum($0, "etcd_probe_hash_checks_total") >= 1 }

      let deadline = ContinuousClock.now + .seconds(60)
      let tally = Tally()
      var scrapes = 0
      try await withThrowingTaskGroup(of: Void.self) { group in
        // Two writers rewriting 20 hot keys, one put at a time.
        for writer in 0..<2 {
          group.addTask {
            for round in 0..<1_000_000 {
              if ContinuousClock.now >= deadline { break }
              do {
                let key = "hot/\((round * 2 + writer) % 20)"
                try await client.put(key, "value-\(round)", timeout: .seconds(5))
                tally.writes.add(1, ordering: .relaxed)
              } catch {
                tally.writeErrors.add(1, ordering: .relaxed)
                try await Task.sleep(for: .milliseconds(100))
              }
            }
          }
        }
        // A compaction to the current revision every 1.25 s.
        group.addTask {
          for _ in 0..<100 {
            if ContinuousClock.now >= deadline { break }
            try await Task.sleep(for: .milliseconds(1250))
            do {
              let revision = try await client.get("hot/", options: .init(countOnly: true)).header.revision
              try await client.compact(revision: revision, physical: false)
              tally.compactions.add(1, ordering: .relaxed)
            } catch {
              tally.compactionErrors.add(1, ordering: .relaxed)
            }
          }
        }
        // A scrape every second: no member is ever reported as mismatching.
        for _ in 0..<90 {
          if ContinuousClock.now >= deadline { break }
          try await Task.sleep(for: .seconds(1))
          guard let text = probe.scrape() else { continue }
          let samples = parseExposition(text)
          scrapes += 1
          let flagged = samples.filter { $0.key.hasPrefix("etcd_probe_hash_mismatch{") && $0.value != 0 }
          let mismatches = sum(
            samples, "etcd_probe_hash_check_outcomes_total", containing: ["outcome=\"mismatch\""])
          #expect(
            flagged.isEmpty && mismatches == 0, "\(flagged), mismatch outcomes \(mismatches)\n\(probe.log)")
          if !flagged.isEmpty || mismatches != 0 { break }
        }
        try await group.waitForAll()
      }

      let end = try #require(probe.scrape().map(parseExposition))
      let outcome = { (name: String) in
        sum(end, "etcd_probe_hash_check_outcomes_total", containing: ["outcome=\"\(name)\""])
      }
      let writes = tally.writes.load(ordering: .relaxed)
      let compactions = tally.compactions.load(ordering: .relaxed)
      print(
        "ProbeHashTests: \(writes) writes (\(tally.writeErrors.load(ordering: .relaxed)) failed), "
          + "\(compactions) compactions (\(tally.compactionErrors.load(ordering: .relaxed)) failed), "
          + "\(scrapes) scrapes; hash checks \(sum(end, "etcd_probe_hash_checks_total")): "
          + "agreed \(outcome("agreed")), mismatch \(outcome("mismatch")), "
          + "not_comparable \(outcome("not_comparable")), error \(outcome("error")); "
          + "retries \(sum(end, "etcd_probe_hash_check_retries_total"))")
      #expect(scrapes >= 30)
      #expect(writes >= 100)
      #expect(compactions >= 20)
      #expect(outcome("mismatch") == 0)
      #expect(sum(end, "etcd_probe_hash_mismatch{") == 0)
      #expect(outcome("agreed") >= 3)
      #expect(sum(end, "etcd_probe_hash_check_outcomes_total") >= 10)
      // Under the same load every answer the probe checked was right: no call returned OK with a wrong answer.
      #expect(sum(end, "etcd_probe_failures_total", containing: ["code=\"OK\""]) == 0)
      for member in etcd.members {
        #expect(end["etcd_probe_hash_mismatch{cluster=\"default\",endpoint=\"\(member.endpoint)\"}"] == 0, "\(member.endpoint)")
        let compacted = end["etcd_probe_endpoint_compact_revision{cluster=\"default\",endpoint=\"\(member.endpoint)\"}"] ?? 0
        #expect(compacted > 0, "\(member.endpoint)")
      }
      #expect(probe.stop() == 0)
    }
  }

  /// A member whose stored value of one key differs from the others' (edited in its bbolt file while it is
  /// stopped, so it keeps its identity and revision) is reported as mismatching, and only that member.
  @Test func aRealDivergenceIsCaught() async throws {
    try await withEtcd(size: 3) { etcd in
      let client = try EtcdClient(endpoints: etcd.endpoints)
      defer { Task { await client.close() } }
      let original = "marker-" + String(repeating: "A", count: 24)
      let edited = "marker-" + String(repeating: "B", count: 24)
      try await client.put("divergence-marker", original)
      // The backend commits every 100 ms; SIGTERM commits it too.
      try await Task.sleep(for: .milliseconds(1500))

      let member = etcd.members[1]
      member.stop()
      let file = member.dataDirectory + "/data/member/snap/db"
      var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: file)))
      let replaced = replaceEvery(Array(original.utf8), with: Array(edited.utf8), in: &bytes)
      try #require(replaced > 0, "the marker's value is not in \(file)")
      print("ProbeHashTests: replaced the marker's value \(replaced) times in \(bytes.count) bytes")
      try Data(bytes).write(to: URL(fileURLWithPath: file))
      try await etcd.restart(member)

      let memberClient = try EtcdClient(endpoints: [member.endpoint])
      defer { Task { await memberClient.close() } }
      let stored = try await memberClient.get("divergence-marker", options: .init(serializable: true))
      #expect(stored.kvs.first?.valueString == edited, "\(replaced) occurrences replaced")

      let probe = try EtcdProbeProcess(arguments: [
        "--endpoints", etcd.endpoints.joined(separator: ","), "--interval", "300ms", "--hash-interval", "1s",
      ])
      let others = etcd.members.filter { $0 !== member }
      let samples = try await probe.waitForScrape { samples in
        samples["etcd_probe_hash_mismatch{cluster=\"default\",endpoint=\"\(member.endpoint)\"}"] == 1
          && others.allSatisfy { samples["etcd_probe_hash_mismatch{cluster=\"default\",endpoint=\"\($0.endpoint)\"}"] == 0 }
          && sum(samples, "etcd_probe_hash_check_outcomes_total", containing: ["outcome=\"mismatch\""]) >= 1
      }
      #expect(samples["etcd_probe_hash_mismatch{cluster=\"default\",endpoint=\"\(member.endpoint)\"}"] == 1)
      for other in others {
        #expect(samples["etcd_probe_hash_mismatch{cluster=\"default\",endpoint=\"\(other.endpoint)\"}"] == 0, "\(other.endpoint)")
      }
      #expect(probe.log.contains("hash mismatch"), "\(probe.log.suffix(1500))")
      #expect(probe.stop() == 0)
    }
  }
}

/// What the writers and the compactor did.
private final class Tally: Sendable {
  let writes = Atomic<Int>(0)
  let writeErrors = Atomic<Int>(0)
  let compactions = Atomic<Int>(0)
  let compactionErrors = Atomic<Int>(0)
}

/// Puts `keys` small keys (`load/000000`, ...) in transactions of 128 puts, four at a time; returns how many
/// were put.
private func load(keys: Int, into client: EtcdClient) async throws -> Int {
  let batch = 128
  let batches = (keys + batch - 1) / batch
  let tasks = 4
  return try await withThrowingTaskGroup(of: Int.self) { group in
    for task in 0..<tasks {
      group.addTask {
        var put = 0
        for index in stride(from: task, to: batches, by: tasks) {
          let range = (index * batch)..<min(keys, (index + 1) * batch)
          let operations = range.map { TxnOperation.put("load/" + String(format: "%06d", $0), "v") }
          _ = try await client.txn(Txn(then: operations), timeout: .seconds(10))
          put += operations.count
        }
        return put
      }
    }
    return try await group.reduce(0, +)
  }
}

/// Replaces every occurrence of `pattern` in `bytes` by `replacement` (of the same length); returns how many.
private func replaceEvery(_ pattern: [UInt8], with replacement: [UInt8], in bytes: inout [UInt8]) -> Int {
  precondition(pattern.count == replacement.count && !pattern.isEmpty)
  var count = 0
  bytes.withUnsafeMutableBufferPointer { buffer in
    var index = 0
    while index + pattern.count <= buffer.count {
      if buffer[index] == pattern[0], memcmp(buffer.baseAddress! + index, pattern, pattern.count) == 0 {
        for offset in 0..<replacement.count { buffer[index + offset] = replacement[offset] }
        count += 1
        index += pattern.count
      } else {
        index += 1
      }
    }
  }
  return count
}
