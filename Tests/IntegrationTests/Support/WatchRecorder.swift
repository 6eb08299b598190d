import Foundation
import Synchronization

@testable import EtcdClient

/// What a watch delivered, recorded by a Task that iterates it, so a test can wait with a deadline for the
/// watch to reach a state (or end) without blocking on `next()`.
final class WatchRecorder: Sendable {
  private struct State {
    var events: [WatchEvent] = []
    var ending: EtcdError?
    var ended = false
  }

  /// The recorded state, in a box of its own so the iterating Task holds it and not the recorder.
  private final class Storage: Sendable {
    let mutex = Mutex(State())
  }

  private let storage: Storage
  private let task: Task<Void, Never>

  init(_ sequence: WatchSequence) {
    let storage = Storage()
    self.storage = storage
    task = Task {
      do {
        for try await response in sequence {
          storage.mutex.withLock { $0.events += response.events }
        }
        storage.mutex.withLock { $0.ended = true }
      } catch {
        storage.mutex.withLock {
          $0.ending = error as? EtcdError
          $0.ended = true
        }
      }
    }
  }

  /// The events delivered so far, in delivery order.
  var events: [WatchEvent] { storage.mutex.withLock { $0.events } }
  /// The error the watch ended with, once it ended with one.
  var ending: EtcdError? { storage.mutex.withLock { $0.ending } }
  /// Whether the watch's sequence ended (normally or with an error).
  var ended: Bool { storage.mutex.withLock { $0.ended } }

  /// Waits (at most `timeout`) until `condition` holds; returns whether it did.
  func wait(timeout: Duration, until condition: (WatchRecorder) -> Bool) async throws -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
      if condition(self) { return true }
      try await Task.sleep(for: .milliseconds(50))
    }
    return condition(self)
  }

  /// Stops iterating (which cancels the watcher on the server).
  func cancel() {
    task.cancel()
  }

  deinit {
    task.cancel()
  }
}
