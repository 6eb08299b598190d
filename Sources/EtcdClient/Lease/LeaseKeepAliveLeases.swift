import EtcdProto
import Logging

/// The driver of a client's shared LeaseKeepAlive stream.
typealias LeaseKeepAliveHub = SharedStreamDriver<LeaseKeepAliveLeases>

/// The leases kept alive over one shared LeaseKeepAlive stream and their consumers: executes
/// `LeaseKeepAliveStateMachine`'s actions for a `SharedStreamDriver`, which owns the stream and wakes this up
/// when a renewal or an expiry is due.
struct LeaseKeepAliveLeases: SharedStreamProtocol {
  typealias Consumer = AsyncThrowingStream<LeaseKeepAliveResponse, any Error>.Continuation

  /// The request message the stream carries.
  typealias Request = Etcdserverpb_LeaseKeepAliveRequest

  /// Names a consumer from the moment it asks to start.
  typealias Key = SharedStreamConsumerKey

  /// A consumer's request.
  enum Operation: Sendable {
    /// Start renewing a lease for the consumer.
    case keep(Key, leaseID: Int64, Consumer)
    /// The consumer went away.
    case stop(Key)
  }

  /// Where a lost lease is logged.
  let logger: Logger
  private var machine = LeaseKeepAliveStateMachine()
  private var consumers =
    SharedStreamConsumers<LeaseKeepAliveStateMachine.ConsumerID, LeaseKeepAliveResponse>()

  /// Keeps no lease yet; a lost lease will be logged to `logger`.
  init(logger: Logger) {
    self.logger = logger
  }

  private var now: Int64 { MonotonicClock.now() }

  var method: RPCMethod { RPCMethod.Lease.keepAlive }

  var metadata: ClientMetadata { ClientMetadata() }

  var needsTimer: Bool { machine.leaseCount > 0 }

  /// Until the next renewal or expiry, between 10 and 500 ms; nil when no lease is kept.
  var timerDelay: Duration? {
    guard machine.leaseCount > 0 else { return nil }
    guard let wakeup = machine.nextWakeup else { return .milliseconds(500) }
    return .nanoseconds(max(10_000_000, min(500_000_000, wakeup - now)))
  }

  mutating func apply(_ operation: Operation) -> [Command] {
    switch operation {
    case .keep(let key, let leaseID, let consumer):
      let (id, actions) = machine.keep(leaseID, now: now)
      consumers.add(key, id: id, continuation: consumer)
      return execute(actions)
    case .stop(let key):
      guard let id = consumers.id(of: key) else { return [] }
      return execute(machine.stop(id))
    }
  }

  mutating func streamOpened() -> [Command] {
    execute(machine.streamOpened(now: now))
  }

  mutating func received(_ message: [UInt8]) throws(EtcdError) -> [Command] {
    let response = try decode(message, as: Etcdserverpb_LeaseKeepAliveResponse.self)
    return execute(machine.responseReceived(LeaseKeepAliveResponse(response), now: now))
  }

  mutating func streamFailed(_ error: EtcdError, resumable: Bool) -> [Command] {
    execute(machine.streamFailed(error, resumable: resumable))
  }

  mutating func timerFired() -> [Command] {
    execute(machine.tick(now: now))
  }

  mutating func shutdown(_ error: EtcdError) {
    _ = execute(machine.shutdown(error))
  }

  static func reject(_ operation: Operation, with error: EtcdError) {
    if case .keep(_, _, let consumer) = operation { consumer.finish(throwing: error) }
  }

  private mutating func execute(_ actions: [LeaseKeepAliveStateMachine.Action]) -> [Command] {
    var commands: [Command] = []
    for action in actions {
      switch action {
      case .openStream:
        commands.append(.open)
      case .closeStream:
        commands.append(.close)
      case .send(let leaseID):
        var request = Etcdserverpb_LeaseKeepAliveRequest()
        request.id = leaseID
        commands.append(.send(request))
      case .deliver(let id, let response):
        consumers.deliver(response, to: id)
      case .finish(let id, let error):
        if let error, error.code == .leaseNotFound {
          logger.warning("lease lost", metadata: ["error": "\(error.status.message)"])
        }
        consumers.finish(id, error: error)
      }
    }
    return commands
  }
}
