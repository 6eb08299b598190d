import EtcdProto

/// Runs one shared Watch stream for many watchers: executes `WatchStreamStateMachine`'s actions, reads the
/// stream, and reopens it with a bounded, jittered exponential backoff when it breaks.
actor WatchStreamHub {
  typealias Consumer = AsyncThrowingStream<WatchResponse, any Error>.Continuation

  private var machine = WatchStreamStateMachine()
  private var consumers: [WatchStreamStateMachine.WatcherID: Consumer] = [:]
  private var stream: GRPCStreamingCall?
  /// Bumped whenever a stream is replaced, so late events of an old stream are ignored.
  private var generation = 0
  private var consecutiveFailures = 0
  private var isShutdown = false
  private let requireLeader: Bool
  private weak var client: EtcdClient?

  /// The number of times the stream was reopened after breaking (for tests and metrics).
  private(set) var resumptions = 0

  init(client: EtcdClient, requireLeader: Bool) {
    self.client = client
    self.requireLeader = requireLeader
  }

  /// Adds a watcher whose responses go to `consumer`.
  func add(_ request: WatchStreamStateMachine.CreateRequest, consumer: Consumer)
    -> WatchStreamStateMachine.WatcherID?
  {
    guard !isShutdown else {
      consumer.finish(throwing: EtcdError.clientClosed())
      return nil
    }
    let (id, actions) = machine.addWatcher(request)
    consumers[id] = consumer
    execute(actions)
    return id
  }

  /// Cancels a watcher whose consumer went away.
  func cancel(_ id: WatchStreamStateMachine.WatcherID) {
    execute(machine.cancelWatcher(id))
  }

  /// Asks the server for a progress notification to every watcher of the stream.
  func requestProgress() throws(EtcdError) {
    guard let stream, machine.isStreamOpen, let client else { return }
    stream.send(try client.frame(Etcdserverpb_WatchRequest.progress))
  }

  /// Ends every watcher with `clientClosed` and closes the stream.
  func shutdown() {
    isShutdown = true
    execute(machine.shutdown(EtcdError.clientClosed()))
  }

  // MARK: - Executing actions

  private func execute(_ actions: [WatchStreamStateMachine.Action]) {
    for action in actions {
      switch action {
      case .openStream:
        openStream()
      case .closeStream:
        generation += 1
        stream?.cancel()
        stream = nil
      case .sendCreate(_, let request):
        send(Etcdserverpb_WatchRequest(create: request))
      case .sendCancel(let serverWatchID):
        send(Etcdserverpb_WatchRequest(cancel: serverWatchID))
      case .deliver(let id, let response):
        consumers[id]?.yield(response)
      case .finish(let id, let error):
        let consumer = consumers.removeValue(forKey: id)
        if let error { consumer?.finish(throwing: error) } else { consumer?.finish() }
      }
    }
  }

  private func send(_ request: Etcdserverpb_WatchRequest) {
    guard let stream, let client else { return }
    do {
      stream.send(try client.frame(request))
    } catch {
      // A watch request is far below any send limit; if framing ever fails, the stream is restarted.
      stream.cancel()
    }
  }

  private func openStream() {
    guard !isShutdown, let client else {
      execute(machine.streamFailed(EtcdError.clientClosed(), resumable: false))
      return
    }
    generation += 1
    let current = generation
    var metadata = ClientMetadata()
    if requireLeader { metadata.add("hasleader", "true") }
    let opened: GRPCStreamingCall
    do {
      opened = try client.bidirectionalStream(RPCMethod.Watch.watch, metadata: metadata)
    } catch {
      execute(machine.streamFailed(error, resumable: false))
      return
    }
    stream = opened
    Task { await self.read(opened, generation: current) }
    execute(machine.streamOpened())
  }

  private func read(_ stream: GRPCStreamingCall, generation current: Int) async {
    var failure: EtcdError
    do {
      for try await bytes in stream.responses {
        guard current == generation else { return }
        let response: Etcdserverpb_WatchResponse
        do {
          response = try Etcdserverpb_WatchResponse(serializedBytes: bytes)
        } catch {
          stream.cancel()
          failure = EtcdError(
            code: .invalidResponse,
            status: GRPCStatus(code: .internal, message: "undecodable watch response: \(error)"),
            cause: error
          )
          await streamEnded(failure, generation: current)
          return
        }
        consecutiveFailures = 0
        execute(machine.responseReceived(.init(response)))
      }
      failure = EtcdError(
        code: .connectionClosed,
        status: GRPCStatus(code: .unavailable, message: "the server ended the watch stream")
      )
    } catch let error as EtcdError {
      failure = error
    } catch {
      failure = EtcdError(code: .rpcFailed, status: GRPCStatus(code: .unknown, message: "\(error)"))
    }
    await streamEnded(failure, generation: current)
  }

  private func streamEnded(_ error: EtcdError, generation current: Int) async {
    guard current == generation, !isShutdown else { return }
    stream = nil
    let resumable = Self.isResumable(error, requireLeader: requireLeader)
    if resumable && machine.watcherCount > 0 {
      // Wait before reopening; watchers stay queued meanwhile.
      consecutiveFailures += 1
      let delay = Self.backoff(failures: consecutiveFailures)
      generation += 1
      let waiting = generation
      try? await Task.sleep(for: delay)
      if error.code == .invalidAuthToken || error.code == .authOldRevision {
        try? await client?.refreshToken(after: client?.authTokenStore?.current.generation)
      }
      guard waiting == generation, !isShutdown else { return }
      resumptions += 1
    }
    execute(machine.streamFailed(error, resumable: resumable))
  }

  /// Whether watchers survive this stream error by being created again on a new stream.
  static func isResumable(_ error: EtcdError, requireLeader: Bool) -> Bool {
    switch error.code {
    case .clientClosed, .invalidConfiguration, .permissionDenied, .authFailed:
      return false
    case .noLeader:
      return !requireLeader
    default:
      return true
    }
  }

  /// The pause before reopening a shared stream: 50 ms doubled per consecutive failure, up to 2 s, ±20%.
  static let reopenBackoff = Backoff(
    initial: .milliseconds(50), maximum: .seconds(2), growth: .exponential(multiplier: 2), jitter: 0.2)

  /// The pause before reopening after `failures` consecutive failures.
  static func backoff(failures: Int) -> Duration {
    reopenBackoff.delay(afterFailures: failures, random: Double.random(in: 0...1))
  }
}
