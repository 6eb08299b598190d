import EtcdHistoryChecks
import Synchronization

@testable import EtcdClient

/// A watch whose every response is recorded, in the checker's terms (`WatcherRecord`), by a Task that iterates
/// it; ``stop()`` cancels it and returns the record.
final class RecordedWatcher: Sendable {
  private final class Storage: Sendable {
    let record: Mutex<WatcherRecord>
    init(_ record: WatcherRecord) { self.record = Mutex(record) }
  }

  private let storage: Storage
  private let task: Task<Void, Never>

  /// Starts watching `[key, rangeEnd)` from `startRevision` with `client`, with progress notifications on.
  init(client: EtcdClient, key: String, rangeEnd: String, startRevision: Int64) {
    let storage = Storage(
      WatcherRecord(key: key, rangeEnd: rangeEnd, startRevision: startRevision, responses: [], ending: .open))
    self.storage = storage
    let options = WatchOptions(
      range: .end(Array(rangeEnd.utf8)), startRevision: startRevision, progressNotify: true)
    let sequence = client.watch(key, options: options)
    task = Task {
      do throws(EtcdError) {
        for try await response in sequence {
          let record = WatchResponseRecord(
            headerRevision: response.header.revision,
            events: response.events.map(WatchEventRecord.init),
            isProgressNotification: response.isProgressNotify,
            compactRevision: nil)
          storage.record.withLock { $0.responses.append(record) }
        }
      } catch {
        storage.record.withLock { record in
          if error.code == .compacted, let revision = error.compactRevision {
            record.ending = .compacted(revision: revision)
          } else if error.code != .cancelled {
            record.ending = .failed("\(error)")
          }
        }
      }
    }
  }

  /// The newest revision of an event delivered so far (0 before the first).
  var lastEventRevision: Int64 {
    storage.record.withLock { $0.responses.last { !$0.events.isEmpty }?.events.last?.kv.modRevision ?? 0 }
  }

  /// What was delivered so far.
  var record: WatcherRecord { storage.record.withLock { $0 } }

  /// Waits, at most `timeout`, until an event of `revision` or later was delivered or the watch ended.
  ///
  /// - Returns: Whether it got there.
  func waitForEvents(through revision: Int64, timeout: Duration) async -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
      if lastEventRevision >= revision || record.ending != .open { return lastEventRevision >= revision }
      try? await Task.sleep(for: .milliseconds(50))
    }
    return lastEventRevision >= revision
  }

  /// Stops watching and returns everything delivered.
  func stop() async -> WatcherRecord {
    task.cancel()
    await task.value
    return record
  }
}

extension WatchEventRecord {
  /// The record of an event the client delivered.
  init(_ event: WatchEvent) {
    self.init(kind: event.type == .put ? .put : .delete, kv: KeyValueRecord(event.kv))
  }
}
