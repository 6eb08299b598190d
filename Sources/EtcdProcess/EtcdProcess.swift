import Synchronization

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

extension EtcdMemberConfiguration {
  /// Starts the member with `posix_spawn`: `executable` (found on `PATH` when it is a bare name) with
  /// ``arguments``, behind ``launchPrefix`` when it has one (``commandLine(executablePath:)``), stdin
  /// from `/dev/null`, stdout and stderr appended to `outputFile`.
  ///
  /// It returns as soon as the process exists: wait for it to serve with
  /// ``EtcdProcess/waitUntilHealthy(_:timeout:interval:)``.
  ///
  /// - Returns: The running process; it stops its child when it is released.
  /// - Throws: `EtcdProcessError` `.executableNotFound` or `.spawnFailed`.
  package func start() throws(EtcdProcessError) -> EtcdProcess {
    guard let path = ChildProcess.findExecutable(executable) else {
      let place = executable.contains("/") ? "" : " on PATH"
      throw EtcdProcessError(.executableNotFound, "no executable `\(executable)`\(place)")
    }
    let pid = try ChildProcess.spawn(commandLine(executablePath: path), outputFile: outputFile)
    return EtcdProcess(configuration: self, pid: pid)
  }
}

/// An etcd member process started by ``EtcdMemberConfiguration/start()``: wait until it serves, send it
/// signals, stop it.
///
/// It sends signals to its own PID only, and reaps that PID exactly once (no process groups, no names),
/// so a PID that the system reuses after the reap is never signalled. Safe to use from any task or thread;
/// releasing a process that still runs stops it.
package final class EtcdProcess: Sendable {
  /// What the process was started with.
  package let configuration: EtcdMemberConfiguration
  /// The child's PID.
  package let pid: Int32
  private let state = Mutex(State.running)

  private enum State {
    /// Not reaped: running, stopped by SIGSTOP, or exited and not waited for yet.
    case running
    /// `stop()` or `kill()` signals it and waits: no other signal goes out.
    case stopping
    /// Reaped: the PID is no longer this process's.
    case exited
  }

  init(configuration: EtcdMemberConfiguration, pid: Int32) {
    self.configuration = configuration
    self.pid = pid
  }

  deinit {
    stop()
  }

  /// Whether the process has not ended: false once it exited by itself (it is reaped then), or
  /// `stop()` or `kill()` began.
  package var isRunning: Bool {
    state.withLock { state in
      if state == .running && reap(pid, blocking: false) { state = .exited }
      return state == .running
    }
  }

  /// Polls `check` every `interval` until it passes, at most `timeout`.
  ///
  /// - Parameters:
  ///   - check: One attempt; the wait ends at the first that returns true.
  ///   - timeout: The bound of the whole wait.
  ///   - interval: The pause between attempts.
  /// - Throws: `EtcdProcessError` `.exited` when the process ends (or is stopped) first, `.notHealthy`
  ///   after `timeout`; `CancellationError` when the task is cancelled.
  package func waitUntilHealthy(
    _ check: EtcdHealthCheck,
    timeout: Duration,
    interval: Duration = .milliseconds(50)
  ) async throws {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
      guard isRunning else {
        throw EtcdProcessError(
          .exited, "etcd member \(configuration.name) ended before it became healthy (log: \(logPath))")
      }
      if await check.isHealthy() { return }
      try await Task.sleep(for: interval)
    }
    throw EtcdProcessError(
      .notHealthy,
      "etcd member \(configuration.name) did not become healthy within \(timeout) (log: \(logPath))")
  }

  /// Sends `signal` to the process while it runs; does nothing once `stop()` or `kill()` began.
  ///
  /// For `SIGSTOP` it returns once the process is stopped (at most 2 s later, on Linux): the kernel stops a
  /// process asynchronously, and a request sent in between would be served.
  ///
  /// - Parameter signal: e.g. `SIGSTOP`, `SIGCONT`, `SIGHUP`.
  package func signal(_ signal: Int32) {
    let sent = state.withLock { state in
      // Under the lock: the PID cannot be reaped (and reused) between the check and the signal.
      state == .running && send(signal, to: pid)
    }
    guard sent, signal == SIGSTOP else { return }
    #if os(Linux)
      for _ in 0..<2000 {
        if ChildProcess.state(of: pid) == "T" { return }
        usleep(1000)
      }
    #endif
  }

  /// Stops the process and returns once it is reaped: SIGCONT (a stopped process would not act on what
  /// follows), SIGTERM, then SIGKILL when it has not exited within `gracePeriod`.
  ///
  /// Does nothing when the process was reaped already; a caller that comes while another stops it
  /// returns at once.
  ///
  /// - Parameter gracePeriod: How long etcd may take to shut down cleanly.
  package func stop(gracePeriod: Duration = .seconds(10)) {
    guard beginStopping() else { return }
    _ = send(SIGCONT, to: pid)
    _ = send(SIGTERM, to: pid)
    let deadline = ContinuousClock.now + gracePeriod
    var exited = reap(pid, blocking: false)
    while !exited && ContinuousClock.now < deadline {
      usleep(50_000)
      exited = reap(pid, blocking: false)
    }
    if !exited {
      _ = send(SIGKILL, to: pid)
      _ = reap(pid, blocking: true)
    }
    state.withLock { $0 = .exited }
  }

  /// Kills the process (SIGKILL) and returns once it is reaped. Does nothing when it was reaped already;
  /// a caller that comes while another stops it returns at once.
  package func kill() {
    guard beginStopping() else { return }
    _ = send(SIGKILL, to: pid)
    _ = reap(pid, blocking: true)
    state.withLock { $0 = .exited }
  }

  /// Moves a running process to `stopping`; false when it was not running.
  private func beginStopping() -> Bool {
    state.withLock { state in
      if state == .running && reap(pid, blocking: false) { state = .exited }
      guard state == .running else { return false }
      state = .stopping
      return true
    }
  }

  private var logPath: String { configuration.logFile ?? configuration.outputFile }
}

/// Sends `signal` to `pid`; true when it was sent.
private func send(_ signal: Int32, to pid: Int32) -> Bool {
  kill(pid, signal) == 0
}

/// Reaps the child `pid` when it has exited, or (`blocking`) waits until it does; true once it is gone.
private func reap(_ pid: Int32, blocking: Bool) -> Bool {
  var status: Int32 = 0
  while true {
    let result = waitpid(pid, &status, blocking ? 0 : WNOHANG)
    if result == pid { return true }
    if result == 0 { return false }
    if errno == EINTR { continue }
    // ECHILD: not a child to wait for (reaped already, or SIGCHLD is ignored and the system reaped it).
    return errno == ECHILD
  }
}
