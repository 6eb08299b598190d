/// Runs one long-lived bidirectional stream shared by many consumers: executes `SharedStreamStateMachine`'s
/// actions against a `GRPCStreamingCall` and hands the protocol's part to `P`.
///
/// All of its background work (reading the stream, backoff waits, auth token refreshes, the protocol's timer)
/// runs as child tasks of `run()`; `requestShutdown()` ends every consumer with `clientClosed`, cancels the
/// stream, and makes `run()` cancel its children and return once they have ended. Consumers hand their
/// operations in with `submit(_:)` from any task; they are applied in the order they were submitted.
actor SharedStreamDriver<P: SharedStreamProtocol> {
  private enum Input: Sendable {
    case operation(P.Operation)
    case work(Work)
    case shutdown
  }

  private enum Work: Sendable {
    case read(GRPCStreamingCall, generation: Int)
    case backoff(Duration)
    case refreshAuthToken(after: Int?)
    case timer
  }

  private var machine: SharedStreamStateMachine
  private var content: P
  private var call: GRPCStreamingCall?
  private var timerRunning = false
  /// `machine.resumptions` when the stream was last opened: an open that finds it higher resumes.
  private var resumptionsOpened = 0
  private var isShutdown = false
  private weak var client: EtcdClient?
  private let inputs: AsyncStream<Input>
  private let inputContinuation: AsyncStream<Input>.Continuation

  /// Creates a driver for `content` on `client`'s endpoints; nothing runs until `run()`.
  init(client: EtcdClient, content: P, requireLeader: Bool = false) {
    self.client = client
    self.content = content
    self.machine = SharedStreamStateMachine(requireLeader: requireLeader)
    (inputs, inputContinuation) = AsyncStream<Input>.makeStream()
  }

  /// How many times the stream was reopened after a resumable failure.
  var resumptions: Int { machine.resumptions }

  /// Hands a consumer's operation to the driver; after shutdown, its consumer ends with `clientClosed`.
  nonisolated func submit(_ operation: P.Operation) {
    if case .terminated = inputContinuation.yield(.operation(operation)) {
      P.reject(operation, with: EtcdError.clientClosed())
    }
  }

  /// Asks the driver to end every consumer with `clientClosed` and stop; `run()` returns once it has.
  nonisolated func requestShutdown() {
    inputContinuation.yield(.shutdown)
  }

  /// Applies operations and runs the background work until shutdown (or until its task is cancelled).
  func run() async {
    await withDiscardingTaskGroup { group in
      for await input in inputs {
        switch input {
        case .operation(let operation):
          apply(operation)
        case .work(let work):
          group.addTask { await self.perform(work) }
        case .shutdown:
          shutdown()
        }
      }
      group.cancelAll()
    }
    shutdown()
  }

  // MARK: - Inputs

  private func apply(_ operation: P.Operation) {
    guard !isShutdown else {
      P.reject(operation, with: EtcdError.clientClosed())
      return
    }
    carry(content.apply(operation))
  }

  private func shutdown() {
    guard !isShutdown else { return }
    isShutdown = true
    execute(machine.shutdown())
    call?.cancel()
    call = nil
    content.shutdown(EtcdError.clientClosed())
    inputContinuation.finish()
  }

  /// A message arrived on the stream of `generation`; false when that stream is not the current one.
  private func received(_ message: [UInt8], generation: Int) -> Bool {
    guard machine.isCurrent(generation) else { return false }
    let commands: [P.Command]
    do {
      commands = try content.received(message)
    } catch {
      failed(generation: generation, error)
      return false
    }
    _ = machine.messageReceived(generation: generation)
    carry(commands)
    return true
  }

  private func failed(generation: Int, _ error: EtcdError) {
    execute(machine.streamFailed(generation: generation, error: error, random: Double.random(in: 0...1)))
  }

  private func backoffElapsed() {
    execute(machine.backoffElapsed())
  }

  /// Fetches a new auth token; a failure shows up as the reopened stream's own error.
  private func refreshAuthToken(after generation: Int?) async {
    try? await client?.refreshToken(after: generation)
    execute(machine.authTokenRefreshed())
  }

  /// The stream of `generation` ended without an error.
  private func ended(generation: Int) {
    failed(
      generation: generation,
      EtcdError(
        code: .connectionClosed,
        status: GRPCStatus(code: .unavailable, message: "the server ended the \(content.method.method) stream")
      )
    )
  }

  /// How long until the timer is due; nil (and the timer stops) when the protocol needs none.
  private func timerDelay() -> Duration? {
    guard !isShutdown, let delay = content.timerDelay else {
      timerRunning = false
      return nil
    }
    return delay
  }

  private func timerFired() {
    guard !isShutdown else { return }
    carry(content.timerFired())
  }

  // MARK: - Executing actions

  private func execute(_ actions: [SharedStreamStateMachine.Action]) {
    for action in actions {
      switch action {
      case .openStream(let generation):
        openStream(generation: generation)
      case .cancelStream:
        call?.cancel()
        call = nil
      case .waitBackoff(let delay):
        start(.backoff(delay))
      case .refreshAuthToken:
        start(.refreshAuthToken(after: client?.authTokenStore?.current.generation))
      case .protocolStreamOpened:
        carry(content.streamOpened())
      case .protocolStreamFailed(let error, let resumable):
        carry(content.streamFailed(error, resumable: resumable))
      }
    }
  }

  private func carry(_ commands: [P.Command]) {
    for command in commands {
      switch command {
      case .open:
        let needsToken = client?.authTokenStore.map { $0.current.token == nil } ?? false
        execute(machine.openRequested(needsAuthToken: needsToken))
      case .close:
        execute(machine.closeRequested())
      case .send(let request):
        send(request)
      }
    }
    if !timerRunning, !isShutdown, content.needsTimer {
      timerRunning = true
      start(.timer)
    }
  }

  private func openStream(generation: Int) {
    guard !isShutdown, let client else {
      failed(generation: generation, EtcdError.clientClosed())
      return
    }
    do {
      let resumption = machine.resumptions > resumptionsOpened ? machine.resumptions : 0
      resumptionsOpened = machine.resumptions
      if resumption > 0 {
        client.configuration.logger.info(
          "stream resumed",
          metadata: ["rpc.method": "\(content.method.path)", "etcd.resumptions": "\(resumption)"])
      }
      let opened = try client.bidirectionalStream(
        content.method, metadata: content.metadata, resumption: resumption)
      call = opened
      start(.read(opened, generation: generation))
      execute(machine.streamOpened(generation: generation))
    } catch {
      failed(generation: generation, error)
    }
  }

  /// Sends a request on the open stream; a request that cannot be framed restarts the stream.
  private func send(_ request: P.Request) {
    guard let call, case .open(let generation) = machine.state, let client else { return }
    do {
      call.send(try client.frame(request))
    } catch {
      failed(generation: generation, error)
    }
  }

  private func start(_ work: Work) {
    inputContinuation.yield(.work(work))
  }

  // MARK: - Background work

  private nonisolated func perform(_ work: Work) async {
    switch work {
    case .read(let call, let generation):
      await read(call, generation: generation)
    case .backoff(let delay):
      guard (try? await Task.sleep(for: delay)) != nil else { return }
      await backoffElapsed()
    case .refreshAuthToken(let generation):
      await refreshAuthToken(after: generation)
    case .timer:
      await runTimer()
    }
  }

  private nonisolated func read(_ call: GRPCStreamingCall, generation: Int) async {
    do {
      for try await message in call.responses {
        guard await received(message, generation: generation) else { return }
      }
      await ended(generation: generation)
    } catch {
      await failed(generation: generation, error)
    }
  }

  /// Fires the protocol's timer when due, for as long as the protocol needs it and the task runs.
  private nonisolated func runTimer() async {
    while let delay = await timerDelay() {
      guard (try? await Task.sleep(for: delay)) != nil else { return }
      await timerFired()
    }
  }
}
