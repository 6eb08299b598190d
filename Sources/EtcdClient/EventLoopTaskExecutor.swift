public import NIOCore

/// A `TaskExecutor` that runs Swift concurrency jobs on one NIO event loop.
///
/// A client's calls complete on the event loop its connections run on. A task that prefers this executor
/// (`Task(executorPreference: client.taskExecutor)`, `group.addTask(executorPreference:)` or
/// `withTaskExecutorPreference`) runs its code on that loop too: a call then starts and resumes on the same
/// thread, without the two thread hand-offs (event loop to the cooperative pool and back) that a call from the
/// pool costs, which on a small machine is much of a lone sequential caller's latency.
///
/// Code on an event loop must not block: a task that prefers this executor should only await the client and do
/// short work in between. Anything slow belongs on the default executor.
public final class EventLoopTaskExecutor: TaskExecutor {
  /// The event loop the jobs run on.
  public let eventLoop: any EventLoop

  /// Creates an executor for `eventLoop`.
  public init(_ eventLoop: any EventLoop) {
    self.eventLoop = eventLoop
  }

  /// Runs `job` on the event loop (as soon as possible, after the loop's current work).
  public func enqueue(_ job: consuming ExecutorJob) {
    let job = UnownedJob(job)
    eventLoop.execute {
      job.runSynchronously(on: self.asUnownedTaskExecutor())
    }
  }
}
