import EtcdProto

/// The driver of a client's shared Watch stream.
typealias WatchStreamHub = SharedStreamDriver<WatchStreamWatchers>

/// The watchers of one shared Watch stream and their consumers: executes `WatchStreamStateMachine`'s actions
/// for a `SharedStreamDriver`, which owns the stream.
struct WatchStreamWatchers: SharedStreamProtocol {
  typealias Consumer = AsyncThrowingStream<WatchResponse, any Error>.Continuation

  /// The request message the stream carries.
  typealias Request = Etcdserverpb_WatchRequest

  /// Names a consumer from the moment it asks to start.
  typealias Key = SharedStreamConsumerKey

  /// A consumer's request.
  enum Operation: Sendable {
    /// Start a watcher whose responses go to the consumer, through its bounded buffer.
    case add(Key, WatchStreamStateMachine.CreateRequest, Consumer, SharedStreamConsumerBuffer)
    /// A watcher detached for a full buffer has had its buffer drained: create it again.
    case drained(Key)
    /// The watcher's consumer went away: cancel it.
    case cancel(Key)
    /// Ask the server for a progress notification to every watcher of the stream.
    case requestProgress
  }

  private var machine = WatchStreamStateMachine()
  private var consumers = SharedStreamConsumers<WatchStreamStateMachine.WatcherID, WatchResponse>()
  private let requireLeader: Bool

  /// The most responses a watcher's consumer may have been handed and not yet taken before the watcher is
  /// detached.
  static let bufferLimit = 256
  /// The most bytes of keys and values those responses may hold (one response above it still goes through).
  static let bufferByteLimit = 8 * 1024 * 1024

  /// Creates the watchers of a stream with or without `requireLeader`.
  init(requireLeader: Bool) {
    self.requireLeader = requireLeader
  }

  var method: RPCMethod { RPCMethod.Watch.watch }

  var metadata: ClientMetadata {
    var metadata = ClientMetadata()
    if requireLeader { metadata.add("hasleader", "true") }
    return metadata
  }

  var needsTimer: Bool { false }

  var timerDelay: Duration? { nil }

  mutating func apply(_ operation: Operation) -> [Command] {
    switch operation {
    case .add(let key, let request, let consumer, let buffer):
      let (id, actions) = machine.addWatcher(request)
      consumers.add(key, id: id, continuation: consumer, buffer: buffer)
      return execute(actions)
    case .drained(let key):
      guard let id = consumers.id(of: key) else { return [] }
      return execute(machine.watcherDrained(id))
    case .cancel(let key):
      guard let id = consumers.id(of: key) else { return [] }
      return execute(machine.cancelWatcher(id))
    case .requestProgress:
      guard machine.isStreamOpen else { return [] }
      return [.send(.progress)]
    }
  }

  mutating func streamOpened() -> [Command] {
    execute(machine.streamOpened())
  }

  mutating func received(_ message: [UInt8]) throws(EtcdError) -> [Command] {
    if let response = WatchResponseWireDecoder.decode(message) {
      return execute(machine.responseReceived(response))
    }
    // What the wire decoder leaves: SwiftProtobuf reads it, or gives the error.
    let response = try decode(message, as: Etcdserverpb_WatchResponse.self)
    return execute(machine.responseReceived(.init(response)))
  }

  mutating func streamFailed(_ error: EtcdError, resumable: Bool) -> [Command] {
    execute(machine.streamFailed(error, resumable: resumable))
  }

  mutating func timerFired() -> [Command] { [] }

  mutating func shutdown(_ error: EtcdError) {
    _ = execute(machine.shutdown(error))
  }

  static func reject(_ operation: Operation, with error: EtcdError) {
    if case .add(_, _, let consumer, _) = operation { consumer.finish(throwing: error) }
  }

  private mutating func execute(_ actions: [WatchStreamStateMachine.Action]) -> [Command] {
    var commands: [Command] = []
    for action in actions {
      switch action {
      case .openStream:
        commands.append(.open)
      case .closeStream:
        commands.append(.close)
      case .sendCreate(_, let request):
        commands.append(.send(Etcdserverpb_WatchRequest(create: request)))
      case .sendCancel(let serverWatchID):
        commands.append(.send(Etcdserverpb_WatchRequest(cancel: serverWatchID)))
      case .deliver(let id, let response):
        if !consumers.deliver(response, bytes: response.bufferedBytes, to: id) {
          // The consumer does not keep up: detach its watcher rather than stall the shared stream.
          commands += execute(machine.deliveryRefused(id, response))
        }
      case .finish(let id, let error):
        consumers.finish(id, error: error)
      }
    }
    return commands
  }
}
