import Synchronization

/// An event that happens once, and that any number of tasks can wait for.
///
/// `fire()` wakes every waiter, and every later `wait()` returns at once. A waiter whose Task is cancelled
/// returns early with `false`.
final class OneTimeSignal: Sendable {
  private struct State {
    var fired = false
    var nextWaiterID = 0
    var waiters: [Int: CheckedContinuation<Bool, Never>] = [:]
  }

  private let state = Mutex(State())

  /// Whether the signal has fired.
  var hasFired: Bool { state.withLock { $0.fired } }

  /// Fires the signal; returns false when it had fired already.
  @discardableResult
  func fire() -> Bool {
    let waiters: [CheckedContinuation<Bool, Never>]? = state.withLock { state in
      guard !state.fired else { return nil }
      state.fired = true
      defer { state.waiters = [:] }
      return Array(state.waiters.values)
    }
    guard let waiters else { return false }
    for waiter in waiters { waiter.resume(returning: true) }
    return true
  }

  /// Waits until the signal fires: true then; false when the waiting Task is cancelled first.
  func wait() async -> Bool {
    let id = state.withLock { state in
      defer { state.nextWaiterID += 1 }
      return state.nextWaiterID
    }
    return await withTaskCancellationHandler {
      await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
        // Cancellation is flagged before its handler runs: checked under the lock, no wake-up is lost.
        let immediate: Bool? = state.withLock { state in
          if state.fired { return true }
          if Task.isCancelled { return false }
          state.waiters[id] = continuation
          return nil
        }
        if let immediate { continuation.resume(returning: immediate) }
      }
    } onCancel: {
      state.withLock { $0.waiters.removeValue(forKey: id) }?.resume(returning: false)
    }
  }
}
