import EtcdClient

/// Why an operation whose RPC returned OK still failed: its answer is not what the probe wrote.
///
/// Each case is a `reason` label value of `etcd_probe_failures_total` (with `code="OK"`).
enum AnswerFailure: String, Sendable, CaseIterable, Error {
  /// A linearizable read after the probe's put found no key.
  case missingKey = "missing_key"
  /// A linearizable read returned the key at a revision older than the probe's put.
  case staleRead = "stale_read"
  /// The key, or the watch event of the probe's put, holds another value than the probe wrote.
  case wrongValue = "wrong_value"
  /// A linearizable read returned the key at a revision newer than the probe's put: another writer (such as
  /// a second probe with the same key prefix and process id) wrote the probe's key.
  case overwritten
  /// A serializable read returned a revision of the key that the probe never wrote.
  case unknownValue = "unknown_value"
  /// A read answered from a revision the cluster had not reached.
  case futureRevision = "future_revision"
  /// The delete of the probe's key did not report exactly one key deleted.
  case wrongDeleteCount = "wrong_delete_count"
  /// The watch delivered a later revision without the event of the probe's put.
  case missingEvent = "missing_event"
  /// The watch delivered one event twice.
  case duplicateEvent = "duplicate_event"
  /// The watch delivered an event of an older revision after a newer one.
  case outOfOrderEvent = "out_of_order_event"
}

/// The value the probe writes in its put number `sequence`: `etcd-probe <sequence> ` padded with `p` to
/// `size` bytes (cut to `size` when shorter), so that consecutive puts hold different values. Pure.
enum ProbeValue {
  /// The value of put number `sequence`, exactly `size` bytes long.
  static func make(sequence: UInt64, size: Int) -> [UInt8] {
    var value = Array("etcd-probe \(sequence) ".utf8)
    if value.count >= size { return Array(value.prefix(size)) }
    value.reserveCapacity(size)
    value.append(contentsOf: repeatElement(UInt8(ascii: "p"), count: size - value.count))
    return value
  }
}

/// A put the probe made on one target: which one (its value follows from it) and the revision it created.
struct ProbeWrite: Sendable, Equatable {
  /// The put's number on this target, counting from 1.
  var sequence: UInt64
  /// The revision in the put's response header: the key's `mod_revision`.
  var revision: Int64
  /// The value written.
  var value: [UInt8]
}

/// The probe's recent puts on one target, by revision, to tell a lagging read (an older put) from an answer
/// that never existed. Holds the last `capacity` puts. Pure.
struct ProbeWriteHistory: Sendable, Equatable {
  /// How many puts it remembers.
  let capacity: Int
  private var sequenceByRevision: [Int64: UInt64] = [:]
  private var revisions: [Int64] = []

  init(capacity: Int = 1024) {
    precondition(capacity > 0, "a history holds at least one put")
    self.capacity = capacity
  }

  /// Remembers a put, forgetting the oldest past `capacity`.
  mutating func record(_ write: ProbeWrite) {
    latest = write
    sequenceByRevision[write.revision] = write.sequence
    revisions.append(write.revision)
    if revisions.count > capacity {
      sequenceByRevision.removeValue(forKey: revisions.removeFirst())
    }
  }

  /// The oldest remembered put's revision; nil when nothing was written.
  var oldestRevision: Int64? { revisions.min() }

  /// The newest acknowledged put.
  private(set) var latest: ProbeWrite?

  /// The numbers of puts whose call failed: they may have been applied at a revision the probe never
  /// learned (a deadline can pass after the leader applied the put). The last 64.
  private(set) var uncertainSequences: [UInt64] = []

  /// Remembers a put whose outcome is unknown.
  mutating func recordUncertain(sequence: UInt64) {
    uncertainSequences.append(sequence)
    if uncertainSequences.count > 64 { uncertainSequences.removeFirst() }
  }

  /// The number of the put that created `revision`, if remembered.
  func sequence(at revision: Int64) -> UInt64? { sequenceByRevision[revision] }
}

/// What a serializable read says: how far the member lags, and whether its answer is impossible.
struct SerializableReadVerdict: Sendable, Equatable {
  /// Revisions between the probe's put and the revision the member answered from (0 when it is caught up).
  var lagRevisions: Int64
  /// Set when the answer never existed or lies ahead of the cluster; a lagging answer is no failure.
  var failure: AnswerFailure?
}

/// The checks of the probe's answers, as pure functions of what the probe wrote and what came back.
enum AnswerChecks {
  /// A linearizable read after the probe's put must return the put's value at the put's revision.
  ///
  /// - Parameters:
  ///   - kv: The key as read (nil when the read found none).
  ///   - headerRevision: The read's response header revision.
  ///   - write: The put just acknowledged.
  static func linearizableRead(kv: KeyValue?, headerRevision: Int64, after write: ProbeWrite)
    -> AnswerFailure?
  {
    if headerRevision < write.revision { return .staleRead }
    guard let kv else { return .missingKey }
    if kv.modRevision < write.revision { return .staleRead }
    if kv.modRevision > write.revision { return .overwritten }
    return kv.value == write.value ? nil : .wrongValue
  }

  /// A serializable read may lag the cluster, but it must return a state that existed: nothing, or one of
  /// the probe's puts with that put's value, at a revision no newer than what the cluster had reached.
  ///
  /// - Parameters:
  ///   - kv: The key as read (nil when the member has not applied the put, or has applied a delete).
  ///   - headerRevision: The revision the member answered from.
  ///   - write: The put made before the read.
  ///   - history: The probe's puts on this target, `write` included.
  ///   - valueSize: The size of every value the probe writes.
  ///   - upperBound: The highest revision the cluster can have had when the read was answered (from a later
  ///     write's response), or nil when not known.
  static func serializableRead(
    kv: KeyValue?, headerRevision: Int64, after write: ProbeWrite, history: ProbeWriteHistory,
    valueSize: Int, upperBound: Int64?
  ) -> SerializableReadVerdict {
    var verdict = SerializableReadVerdict(lagRevisions: max(0, write.revision - headerRevision))
    if let upperBound, headerRevision > upperBound {
      verdict.failure = .futureRevision
      return verdict
    }
    guard let kv else { return verdict }
    if kv.modRevision > headerRevision {
      // A key newer than the answer's own revision.
      verdict.failure = .futureRevision
      return verdict
    }
    if history.uncertainSequences.contains(where: {
      kv.value == ProbeValue.make(sequence: $0, size: valueSize)
    }) {
      // A put whose call failed, applied after all.
      return verdict
    }
    if kv.modRevision > write.revision {
      verdict.failure = .overwritten
      return verdict
    }
    if let sequence = history.sequence(at: kv.modRevision) {
      if kv.value != ProbeValue.make(sequence: sequence, size: valueSize) { verdict.failure = .wrongValue }
    } else if let oldest = history.oldestRevision, kv.modRevision >= oldest {
      // Within the remembered puts, yet none of them: nobody wrote this.
      verdict.failure = .unknownValue
    }
    return verdict
  }

  /// The delete of the key the probe just put must delete exactly that key.
  static func delete(deleted: Int64) -> AnswerFailure? {
    deleted == 1 ? nil : .wrongDeleteCount
  }

  /// The watch event of the probe's put must be a put of the probe's value at the put's revision.
  static func watchEvent(_ event: WatchEvent, of write: ProbeWrite) -> AnswerFailure? {
    guard event.type == .put, event.kv.modRevision == write.revision, event.kv.value == write.value else {
      return .wrongValue
    }
    return nil
  }
}

/// Follows the events of one watch stream and notes every event that arrives twice or out of revision
/// order, for the probe's next watch result. Pure.
struct WatchEventLedger: Sendable, Equatable {
  /// The newest event revision delivered.
  private(set) var lastRevision: Int64 = 0
  /// The keys (and event types) delivered at `lastRevision`: a transaction puts several keys at one.
  private var atLastRevision: Set<EventIdentity> = []
  /// Anomalies seen since the last `takeAnomaly()`, the oldest 16 of them.
  private(set) var anomalies: [AnswerFailure] = []

  private struct EventIdentity: Hashable, Sendable {
    var key: [UInt8]
    var isPut: Bool
  }

  /// Checks the events of one watch response, in order.
  mutating func received(_ events: [WatchEvent]) {
    for event in events {
      let revision = event.kv.modRevision
      let identity = EventIdentity(key: event.kv.key, isPut: event.type == .put)
      if revision < lastRevision {
        note(.outOfOrderEvent)
      } else if revision == lastRevision {
        if !atLastRevision.insert(identity).inserted { note(.duplicateEvent) }
      } else {
        lastRevision = revision
        atLastRevision = [identity]
      }
    }
  }

  private mutating func note(_ anomaly: AnswerFailure) {
    if anomalies.count < 16 { anomalies.append(anomaly) }
  }

  /// The stream now follows another history (the server serves another cluster): orders start anew.
  mutating func historyReset() {
    lastRevision = 0
    atLastRevision = []
  }

  /// The oldest anomaly not yet reported, removed.
  mutating func takeAnomaly() -> AnswerFailure? {
    anomalies.isEmpty ? nil : anomalies.removeFirst()
  }
}
