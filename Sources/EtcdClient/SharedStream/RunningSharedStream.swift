/// A driver and the task that runs it, as the client holds them: `start` is the one place a driver's work
/// begins, `stop` ends it and waits for it.
struct RunningSharedStream<P: SharedStreamProtocol>: Sendable {
  /// The driver.
  let driver: SharedStreamDriver<P>
  private let task: Task<Void, Never>

  /// Starts running a driver.
  static func start(_ driver: SharedStreamDriver<P>) -> Self {
    RunningSharedStream(driver: driver, task: Task { await driver.run() })
  }

  /// Ends every consumer with `clientClosed`, and returns once the driver's work has ended.
  func stop() async {
    driver.requestShutdown()
    await task.value
  }
}
