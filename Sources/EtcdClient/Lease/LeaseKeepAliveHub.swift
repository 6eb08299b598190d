import EtcdProto

/// Runs the shared LeaseKeepAlive stream: executes `LeaseKeepAliveStateMachine`'s actions, reads responses,
/// wakes up when a renewal is due, and reopens the stream after a backoff when it breaks.
actor LeaseKeepAliveHub {
  typealias Consumer = AsyncThrowingStream<LeaseKeepAliveResponse, any Error>.Continuation

  private var machine = LeaseKeepAliveStateMachine()
  private var consumers: [LeaseKeepAliveStateMachine.ConsumerID: Consumer] = [:]
  private var stream: GRPCStreamingCall?
  private var generation = 0
  private var consecutiveFailures = 0
  private var isShutdown = false
  private var timer: Task<Void, Never>?
  private weak var client: EtcdClient?
  private let clock = ContinuousClock()

  init(client: EtcdClient) {
    self.client = client
  }

  private var now: Int64 { MonotonicClock.now() }

  /// Starts renewing `leaseID` for a new consumer.
  func keep(_ leaseID: Int64, consumer: Consumer) -> LeaseKeepAliveStateMachine.ConsumerID? {
    guard !isShutdown else {
      consumer.finish(throwing: EtcdError.clientClosed())
      return nil
    }
    let (id, actions) = machine.keep(leaseID, now: now)
    consumers[id] = consumer
    execute(actions)
    scheduleTimer()
    return id
  }

  /// A consumer went away.
  func stop(_ id: LeaseKeepAliveStateMachine.ConsumerID) {
    execute(machine.stop(id))
  }

  /// Ends every consumer with `clientClosed`.
  func shutdown() {
    isShutdown = true
    timer?.cancel()
    execute(machine.shutdown(EtcdError.clientClosed()))
  }

  private func execute(_ actions: [LeaseKeepAliveStateMachine.Action]) {
    for action in actions {
      switch action {
      case .openStream:
        openStream()
      case .closeStream:
        generation += 1
        stream?.cancel()
        stream = nil
        timer?.cancel()
        timer = nil
      case .send(let leaseID):
        guard let stream, let client else { continue }
        var request = Etcdserverpb_LeaseKeepAliveRequest()
        request.id = leaseID
        if let framed = try? client.frame(request) { stream.send(framed) }
      case .deliver(let id, let response):
        consumers[id]?.yield(response)
      case .finish(let id, let error):
        let consumer = consumers.removeValue(forKey: id)
        if let error { consumer?.finish(throwing: error) } else { consumer?.finish() }
      }
    }
  }

  /// Wakes up when the next renewal or expiry is due (at least every 500 ms while leases are kept).
  private func scheduleTimer() {
    guard timer == nil, machine.leaseCount > 0 else { return }
    timer = Task { [weak self] in
      while !Task.isCancelled {
        guard let self else { return }
        let delay = await self.delayUntilNextWakeup()
        try? await Task.sleep(for: delay)
        if Task.isCancelled { return }
        await self.tick()
      }
    }
  }

  private func delayUntilNextWakeup() -> Duration {
    guard let wakeup = machine.nextWakeup else { return .milliseconds(500) }
    let nanoseconds = max(10_000_000, min(500_000_000, wakeup - now))
    return .nanoseconds(nanoseconds)
  }

  private func tick() {
    execute(machine.tick(now: now))
    if machine.leaseCount == 0 {
      timer?.cancel()
      timer = nil
    }
  }

  private func openStream() {
    guard !isShutdown, let client else { return }
    generation += 1
    let current = generation
    let opened: GRPCStreamingCall
    do {
      opened = try client.bidirectionalStream(RPCMethod.Lease.keepAlive)
    } catch {
      execute(machine.shutdown(error))
      return
    }
    stream = opened
    Task { await self.read(opened, generation: current) }
    execute(machine.streamOpened(now: now))
  }

  private func read(_ stream: GRPCStreamingCall, generation current: Int) async {
    do {
      for try await bytes in stream.responses {
        guard current == generation else { return }
        guard let response = try? Etcdserverpb_LeaseKeepAliveResponse(serializedBytes: bytes) else {
          stream.cancel()
          break
        }
        consecutiveFailures = 0
        execute(machine.responseReceived(LeaseKeepAliveResponse(response), now: now))
      }
    } catch {}
    await streamEnded(generation: current)
  }

  private func streamEnded(generation current: Int) async {
    guard current == generation, !isShutdown else { return }
    stream = nil
    consecutiveFailures += 1
    generation += 1
    let waiting = generation
    try? await Task.sleep(for: WatchStreamHub.backoff(failures: consecutiveFailures))
    guard waiting == generation, !isShutdown else { return }
    execute(machine.streamFailed())
  }
}
