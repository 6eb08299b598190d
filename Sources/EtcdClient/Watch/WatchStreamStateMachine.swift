/// The watchers that share one Watch stream, as a pure state machine.
///
/// etcd answers creations in the order they were sent and names a watcher only in its `created` response, so
/// the machine keeps one creation in flight at a time (as clientv3 does) and routes everything else by the
/// server's watch id. It remembers, per watcher, the next revision it has not yet delivered: when the stream
/// breaks, every live watcher is created again from there, so a consumer sees each revision once, in order.
/// A watcher whose consumer does not keep up (its buffer refuses a response) is detached the same way: it is
/// cancelled on the server and created again from its next revision once its consumer has drained its
/// buffer, so it never stalls the stream the other watchers share.
///
/// No I/O, no clocks, no NIO or protobuf types: inputs in, actions out.
struct WatchStreamStateMachine: Sendable {
  /// A watcher's identity on the client side, stable across stream restarts.
  struct WatcherID: Hashable, Comparable, Sendable {
    let raw: Int
    static func < (lhs: Self, rhs: Self) -> Bool { lhs.raw < rhs.raw }
  }

  /// What a watcher asks the server for; `startRevision` is rewritten on resumption.
  struct CreateRequest: Sendable, Hashable {
    var key: [UInt8]
    var rangeEnd: [UInt8]
    var startRevision: Int64
    var prevKV: Bool
    var progressNotify: Bool
    var filterPuts: Bool
    var filterDeletes: Bool
    var fragment: Bool
  }

  /// A response from the server, reduced to what routing needs.
  struct ServerResponse: Sendable, Hashable {
    var header: ResponseHeader
    var watchID: Int64
    var created: Bool = false
    var canceled: Bool = false
    var compactRevision: Int64 = 0
    var cancelReason: String = ""
    var fragment: Bool = false
    var events: [WatchEvent] = []
  }

  /// What the stream's owner must do.
  enum Action: Sendable {
    /// Open the shared stream (it is not open).
    case openStream
    /// Close the shared stream: no watcher is left.
    case closeStream
    /// Send a create request for a watcher.
    case sendCreate(WatcherID, CreateRequest)
    /// Send a cancel request for a server watch id.
    case sendCancel(serverWatchID: Int64)
    /// Hand a response to a watcher's consumer.
    case deliver(WatcherID, WatchResponse)
    /// End a watcher's sequence: normally (nil) or with an error.
    case finish(WatcherID, EtcdError?)
  }

  private enum WatcherState: Sendable, Hashable {
    /// Waiting for its create request to be sent.
    case queued
    /// Its create request is in flight.
    case creating
    /// Created, with this server id.
    case active(Int64)
    /// Cancelled on the server because its consumer's buffer was full; created again once it is drained.
    case detached
  }

  private struct Watcher: Sendable {
    var request: CreateRequest
    var state: WatcherState = .queued
    /// Events of a fragmented revision received so far.
    var fragments: [WatchEvent] = []
  }

  private var watchers: [WatcherID: Watcher] = [:]
  private var serverIDs: [Int64: WatcherID] = [:]
  /// Server ids of watchers cancelled by the client whose cancel confirmation has not arrived.
  private var cancelling: Set<Int64> = []
  private var nextID = 0
  private var streamState: StreamState = .closed
  /// The cluster the watchers' revisions belong to: the first non-zero cluster id a response carried.
  private var clusterID: UInt64 = 0

  private enum StreamState: Sendable, Hashable {
    case closed, opening, open
  }

  /// The number of live watchers.
  var watcherCount: Int { watchers.count }

  /// Whether the stream is open.
  var isStreamOpen: Bool { streamState == .open }

  // MARK: - Inputs

  /// A consumer asks for a new watcher.
  mutating func addWatcher(_ request: CreateRequest) -> (WatcherID, [Action]) {
    let id = WatcherID(raw: nextID)
    nextID += 1
    watchers[id] = Watcher(request: request)
    switch streamState {
    case .closed:
      streamState = .opening
      return (id, [.openStream])
    case .opening:
      return (id, [])
    case .open:
      return (id, sendNextCreate())
    }
  }

  /// A consumer stopped (ended its sequence or its Task was cancelled).
  mutating func cancelWatcher(_ id: WatcherID) -> [Action] {
    guard let watcher = watchers.removeValue(forKey: id) else { return [] }
    var actions: [Action] = [.finish(id, nil)]
    switch watcher.state {
    case .queued, .detached:
      break
    case .creating:
      // Its `created` response is still to come; the server id it names gets cancelled then.
      pendingCancelOfCreating = true
    case .active(let serverID):
      serverIDs[serverID] = nil
      cancelling.insert(serverID)
      if streamState == .open { actions.append(.sendCancel(serverWatchID: serverID)) }
    }
    if watchers.isEmpty && !pendingCancelOfCreating && streamState != .closed {
      streamState = .closed
      cancelling.removeAll()
      serverIDs.removeAll()
      actions.append(.closeStream)
    }
    return actions
  }

  /// Set when the watcher whose creation is in flight was cancelled: its `created` response is dropped and
  /// the watch it made is cancelled.
  private var pendingCancelOfCreating = false

  /// The stream is open: send the first creation.
  mutating func streamOpened() -> [Action] {
    guard streamState == .opening else { return [] }
    streamState = .open
    return sendNextCreate()
  }

  /// A response arrived on the stream.
  mutating func responseReceived(_ response: ServerResponse) -> [Action] {
    guard streamState == .open else { return [] }
    let responseCluster = response.header.clusterID
    if responseCluster != 0 {
      if clusterID == 0 {
        clusterID = responseCluster
      } else if responseCluster != clusterID {
        return clusterChanged(from: clusterID, to: responseCluster)
      }
    }
    if response.created {
      return createdReceived(response)
    }
    if response.watchID == -1 && response.events.isEmpty {
      // A progress response to `requestProgress`: every watcher has seen everything up to this revision.
      var actions: [Action] = []
      for id in watchers.keys.sorted() {
        guard case .active = watchers[id]?.state else { continue }
        watchers[id]?.request.startRevision = response.header.revision + 1
        actions.append(.deliver(id, WatchResponse(header: response.header, events: [])))
      }
      return actions
    }
    guard let id = serverIDs[response.watchID], let index = watchers.index(forKey: id) else {
      if response.canceled { cancelling.remove(response.watchID) }
      return []
    }
    if response.canceled {
      serverIDs[response.watchID] = nil
      watchers.remove(at: index)
      return [.finish(id, Self.cancellationError(response))] + closeIfIdle()
    }
    // The watcher is changed in place: a copy taken out and stored back costs a retain and release of each of
    // its arrays on every response.
    if response.fragment {
      watchers.values[index].fragments += response.events
      return []
    }
    let events: [WatchEvent]
    if watchers.values[index].fragments.isEmpty {
      events = response.events
    } else {
      events = watchers.values[index].fragments + response.events
      watchers.values[index].fragments = []
    }
    if let last = events.last {
      watchers.values[index].request.startRevision = last.kv.modRevision + 1
    } else {
      // A progress notification: nothing up to this revision is outstanding.
      watchers.values[index].request.startRevision = max(
        watchers.values[index].request.startRevision, response.header.revision + 1)
    }
    return [.deliver(id, WatchResponse(header: response.header, events: events))]
  }

  /// The stream ended. With `resumable`, live watchers wait to be created again from their next revision
  /// once the owner reopens the stream (after its backoff); otherwise every watcher ends with `error`.
  mutating func streamFailed(_ error: EtcdError, resumable: Bool) -> [Action] {
    streamState = .closed
    serverIDs.removeAll()
    cancelling.removeAll()
    pendingCancelOfCreating = false
    if !resumable {
      let ids = watchers.keys.sorted()
      watchers.removeAll()
      return ids.map { .finish($0, error) }
    }
    for id in watchers.keys {
      if watchers[id]?.state != .detached { watchers[id]?.state = .queued }
      watchers[id]?.fragments = []
    }
    if watchers.isEmpty { return [] }
    streamState = .opening
    return [.openStream]
  }

  /// A watcher's consumer could not take `response` (its buffer is full): the watcher is cancelled on the
  /// server and remembers the first revision of `response` as the next one to deliver.
  mutating func deliveryRefused(_ id: WatcherID, _ response: WatchResponse) -> [Action] {
    guard var watcher = watchers[id], case .active(let serverID) = watcher.state else { return [] }
    if let first = response.events.first {
      watcher.request.startRevision = first.kv.modRevision
    }
    watcher.state = .detached
    watcher.fragments = []
    watchers[id] = watcher
    serverIDs[serverID] = nil
    cancelling.insert(serverID)
    return streamState == .open ? [.sendCancel(serverWatchID: serverID)] : []
  }

  /// A detached watcher's consumer drained its buffer: the watcher is created again from its next revision.
  mutating func watcherDrained(_ id: WatcherID) -> [Action] {
    guard watchers[id]?.state == .detached else { return [] }
    watchers[id]?.state = .queued
    return sendNextCreate()
  }

  /// The client is closing: every watcher ends with `error`.
  mutating func shutdown(_ error: EtcdError) -> [Action] {
    let wasOpen = streamState != .closed
    let actions = streamFailed(error, resumable: false)
    return wasOpen ? actions + [.closeStream] : actions
  }

  // MARK: - Helpers

  /// The stream was resumed on a member of another cluster (a server restarted with new data behind the same
  /// address): the watchers' revisions mean nothing there, and resuming would silently skip or invent
  /// history. Every watcher ends with `.clusterChanged`; watches made afterwards belong to the new cluster.
  private mutating func clusterChanged(from old: UInt64, to new: UInt64) -> [Action] {
    let error = EtcdError(
      code: .clusterChanged,
      status: GRPCStatus(
        code: .failedPrecondition,
        message:
          "the watch stream resumed on cluster \(String(new, radix: 16)), not on cluster \(String(old, radix: 16)) "
          + "whose revisions the watch follows"
      )
    )
    clusterID = 0
    return shutdown(error)
  }

  private mutating func createdReceived(_ response: ServerResponse) -> [Action] {
    var actions: [Action] = []
    if pendingCancelOfCreating {
      pendingCancelOfCreating = false
      if !response.canceled {
        cancelling.insert(response.watchID)
        actions.append(.sendCancel(serverWatchID: response.watchID))
      }
      if watchers.isEmpty {
        streamState = .closed
        cancelling.removeAll()
        return actions + [.closeStream]
      }
      return actions + sendNextCreate()
    }
    guard let id = watchers.first(where: { $0.value.state == .creating })?.key else {
      return sendNextCreate()
    }
    if response.canceled {
      // The server refused the watch (e.g. its start revision is compacted).
      watchers[id] = nil
      actions.append(.finish(id, Self.cancellationError(response)))
      let closing = closeIfIdle()
      if !closing.isEmpty { return actions + closing }
      return actions + sendNextCreate()
    }
    watchers[id]?.state = .active(response.watchID)
    serverIDs[response.watchID] = id
    if watchers[id]?.request.startRevision == 0 {
      // "From now on" is pinned to the revision the watch was created at, so a resumption neither skips nor
      // repeats.
      watchers[id]?.request.startRevision = response.header.revision + 1
    }
    return actions + sendNextCreate()
  }

  /// Sends the next queued creation, unless one is in flight.
  private mutating func sendNextCreate() -> [Action] {
    guard streamState == .open, !pendingCancelOfCreating,
      !watchers.values.contains(where: { $0.state == .creating })
    else { return [] }
    guard let id = watchers.filter({ $0.value.state == .queued }).keys.min(),
      let request = watchers[id]?.request
    else { return [] }
    watchers[id]?.state = .creating
    return [.sendCreate(id, request)]
  }

  private mutating func closeIfIdle() -> [Action] {
    guard watchers.isEmpty, !pendingCancelOfCreating, streamState != .closed else { return [] }
    streamState = .closed
    serverIDs.removeAll()
    cancelling.removeAll()
    return [.closeStream]
  }

  /// The error a watcher ends with when the server cancels it.
  static func cancellationError(_ response: ServerResponse) -> EtcdError {
    if response.compactRevision != 0 {
      var error = EtcdError(
        code: .compacted,
        status: GRPCStatus(
          code: .outOfRange,
          message: "etcdserver: mvcc: required revision has been compacted"
        )
      )
      error.compactRevision = response.compactRevision
      return error
    }
    let reason = response.cancelReason.isEmpty ? "etcdserver: watch canceled" : response.cancelReason
    var error = EtcdError(status: GRPCStatus(code: .cancelled, message: reason), origin: .server, endpoint: nil)
    if error.code == .rpcFailed { error.code = .watchCanceled }
    return error
  }
}
