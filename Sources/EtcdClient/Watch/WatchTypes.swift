/// Options of a watch (`etcdserverpb.WatchCreateRequest`).
public struct WatchOptions: Sendable, Hashable {
  /// Which keys to watch.
  public var range: KeyRangeEnd = .single
  /// The revision to start from (inclusive); nil for "from now on".
  public var startRevision: Int64?
  /// Include each key's previous value in its events.
  public var prevKV: Bool = false
  /// Ask the server for periodic progress notifications (empty responses carrying the current revision) when
  /// there are no events.
  public var progressNotify: Bool = false
  /// Leave out PUT events.
  public var filterPuts: Bool = false
  /// Leave out DELETE events.
  public var filterDeletes: Bool = false
  /// Let the server split very large revisions into several messages; the client joins them again.
  public var fragment: Bool = false
  /// Fail the watch when the member it is served by has no leader (the `hasleader` metadata), instead of
  /// waiting on a member cut off from the cluster.
  public var requireLeader: Bool = false

  /// Creates options; the defaults watch one key from now on.
  public init(
    range: KeyRangeEnd = .single,
    startRevision: Int64? = nil,
    prevKV: Bool = false,
    progressNotify: Bool = false,
    filterPuts: Bool = false,
    filterDeletes: Bool = false,
    fragment: Bool = false,
    requireLeader: Bool = false
  ) {
    self.range = range
    self.startRevision = startRevision
    self.prevKV = prevKV
    self.progressNotify = progressNotify
    self.filterPuts = filterPuts
    self.filterDeletes = filterDeletes
    self.fragment = fragment
    self.requireLeader = requireLeader
  }

  /// Watches every key with the given key as prefix.
  public static var prefix: WatchOptions { WatchOptions(range: .prefix) }
}

/// One change to a key (`mvccpb.Event`).
public struct WatchEvent: Sendable, Hashable {
  /// What happened.
  public enum EventType: Sendable, Hashable {
    /// The key was created or updated.
    case put
    /// The key was deleted; `kv` holds the key and the deletion's revision.
    case delete
  }

  /// What happened.
  public var type: EventType
  /// The key-value pair after the event.
  public var kv: KeyValue
  /// The pair before the event, when the watch asked for `prevKV`.
  public var prevKV: KeyValue?

  /// Creates an event (public for tests and doubles).
  public init(type: EventType, kv: KeyValue, prevKV: KeyValue?) {
    self.type = type
    self.kv = kv
    self.prevKV = prevKV
  }
}

/// One response of a watch: a batch of events of one or more revisions, or a progress notification.
public struct WatchResponse: Sendable, Hashable {
  /// The response header; its revision is the store's revision when the response was sent.
  public var header: ResponseHeader
  /// The events, in revision order; empty for a progress notification.
  public var events: [WatchEvent]

  /// Whether this is a progress notification: no events, the watcher has seen everything up to
  /// `header.revision`.
  public var isProgressNotify: Bool { events.isEmpty }

  /// Creates a response (public for tests and doubles).
  public init(header: ResponseHeader, events: [WatchEvent]) {
    self.header = header
    self.events = events
  }
}

extension WatchResponse {
  /// What the response holds in keys and values (previous values included), for the bound on a watcher's
  /// buffer.
  var bufferedBytes: Int {
    events.reduce(0) { total, event in
      total + event.kv.key.count + event.kv.value.count
        + (event.prevKV.map { $0.key.count + $0.value.count } ?? 0)
    }
  }
}
