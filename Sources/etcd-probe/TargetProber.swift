import EtcdClient
import Foundation
import Logging

/// Probes one target (a member's endpoint, or the whole cluster through a client over every endpoint): each
/// round it puts a key attached to a lease, waits for the put's event on a watch held open on the same
/// target, reads the key linearizably and serializably, deletes it, and (for a member) reads its status.
///
/// Every answer is checked, not only that the call returned (`AnswerChecks`): the linearizable read must
/// return this round's value at the put's revision, the serializable read a state that existed, the watch
/// this put's event in order, and the delete one key. A learner serves no writes or linearizable reads, so
/// it is probed with a serializable read of the key and its status.
actor TargetProber {
  /// The `endpoint` label: the member's `host:port`, or `cluster`.
  let name: String
  let client: EtcdClient
  private let isMember: Bool
  /// Whether the member is a learner (from the member list): then only what a learner serves is probed.
  private(set) var isLearner: Bool
  private let metrics: ProbeMetrics
  private let logger: Logger
  private let key: String
  private let watchPrefix: String
  private let valueSize: Int
  private let timeout: Duration
  /// The operations this prober runs.
  private let operations: ProbeOperations

  private var leaseID: LeaseID?
  /// Set by `shutdown()`: no lease is granted after it.
  private var isShutDown = false
  private var leaseKeeper: Task<Void, Never>?
  private var watcher: Task<Void, Never>?

  /// Puts made so far; the next put's value is `ProbeValue.make(sequence: sequence + 1, ...)`.
  private var sequence: UInt64 = 0
  private var history = ProbeWriteHistory()
  private var ledger = WatchEventLedger()
  private var health = OperationHealth()

  /// The events of the probe's own key seen on the watch, by revision, waiting for the round to collect them.
  private var arrivals: [Int64: WatchArrival] = [:]
  private var arrivalWaiters: [Int64: CheckedContinuation<WatchArrival, Never>] = [:]
  private var latestWatchedRevision: Int64 = 0
  private var lastResumptions = 0

  /// The last status read from the member, for the cluster-wide checks.
  private(set) var lastStatus: StatusResponse?
  /// The label values of the member's info and leader series, to remove them when they change.
  private var infoLabels: [String]?
  private var leaderLabels: [String]?
  /// The results of the round under way, for the status page.
  private var roundResults: [ProbeMetrics.Operation: OperationResult] = [:]

  /// How the wait for the probe's put on the watch ended.
  enum WatchArrival: Sendable {
    /// The event arrived at `time`.
    case arrived(ContinuousClock.Instant, WatchEvent)
    /// The stream delivered a later revision without it.
    case missing
    /// The stream was cancelled by a compaction past it and re-created above it.
    case compacted
    /// It did not arrive within the probe's timeout.
    case timedOut
  }

  init(
    name: String,
    client: EtcdClient,
    isMember: Bool,
    isLearner: Bool = false,
    metrics: ProbeMetrics,
    logger: Logger,
    keyPrefix: String,
    valueSize: Int,
    timeout: Duration,
    operations: ProbeOperations = .all
  ) {
    self.name = name
    self.client = client
    self.isMember = isMember
    self.isLearner = isLearner
    self.metrics = metrics
    self.logger = logger
    let safeName = name.replacingOccurrences(of: "/", with: "_")
    self.watchPrefix = keyPrefix + safeName + "/"
    self.key = watchPrefix + "probe-\(ProcessInfo.processInfo.processIdentifier)"
    self.valueSize = valueSize
    self.timeout = timeout
    self.operations = operations
    // Counters that may stay at zero exist from the start, so a dashboard shows 0, not "no data".
    _ = metrics.watchResumes.labels(name)
    _ = metrics.watchCompactions.labels(name)
    _ = metrics.watchClusterChanges.labels(name)
  }

  /// Marks the member a learner or a voter (after a promotion), as the member list says.
  func setLearner(_ learner: Bool) {
    guard learner != isLearner else { return }
    isLearner = learner
    // What a learner does not serve is no longer probed: its series go, rather than stay at their last value.
    for op in [ProbeMetrics.Operation.put, .get, .delete, .watch] where learner {
      metrics.removeOperation(endpoint: name, op: op)
    }
    if let lastStatus { record(lastStatus) }
  }

  // MARK: - A round

  /// Runs one round of operations; every operation is bounded by the probe's timeout.
  ///
  /// - Returns: Each operation's result in this round.
  func runRound() async -> [ProbeMetrics.Operation: OperationResult] {
    roundResults = [:]
    defer { roundResults = [:] }
    if isLearner {
      await runLearnerRound()
    } else {
      await runVoterRound()
    }
    let resumptions = await client.watchResumptions
    if resumptions > lastResumptions {
      metrics.watchResumes.labels(name).increment(by: UInt64(resumptions - lastResumptions))
      lastResumptions = resumptions
    }
    return roundResults
  }

  private func runVoterRound() async {
    var write: ProbeWrite?
    if operations.contains(.put) { write = await putAndWatch() }

    if operations.contains(.get) {
      await measure(.get) {
        let response = try await self.client.get(self.key, timeout: self.timeout)
        guard let write else { return nil }  // no put this round: the call alone is measured
        return AnswerChecks.linearizableRead(
          kv: response.kvs.first, headerRevision: response.header.revision, after: write
        ).map { OperationFailure($0, self.describe($0, response.kvs.first, response.header.revision, write)) }
      }
    }

    // The serializable read is judged after the delete, whose revision bounds what it may have seen.
    var serializable: (response: GetResponse, duration: Duration)?
    if operations.contains(.getSerializable) {
      let serializableStarted = ContinuousClock.now
      do {
        let response = try await client.get(key, options: .init(serializable: true), timeout: timeout)
        serializable = (response, ContinuousClock.now - serializableStarted)
      } catch {
        record(
          .getSerializable, duration: ContinuousClock.now - serializableStarted, failure: OperationFailure(error))
      }
    }

    var upperBound: Int64?
    if operations.contains(.delete) {
      await measure(.delete) {
        let response = try await self.client.delete(self.key, timeout: self.timeout)
        upperBound = response.deleted > 0 ? response.header.revision - 1 : response.header.revision
        guard write != nil else { return nil }
        return AnswerChecks.delete(deleted: response.deleted).map {
          OperationFailure($0, "deleted \(response.deleted) keys, not the one the probe put")
        }
      }
    }

    if let serializable {
      checkSerializable(serializable.response, duration: serializable.duration, upperBound: upperBound)
    }

    if isMember && operations.contains(.status) { await measureStatus() }
  }

  /// The put (on the probe's lease) and, when the watch is probed, the put→watch delay.
  ///
  /// - Returns: The write, or nil when the put failed.
  private func putAndWatch() async -> ProbeWrite? {
    await ensureLease()
    if operations.contains(.watch) { await ensureWatch() }
    sequence += 1
    let value = ProbeValue.make(sequence: sequence, size: valueSize)
    var write: ProbeWrite?
    await measure(.put) {
      let response = try await self.client.put(
        self.key, value, options: .init(lease: self.leaseID), timeout: self.timeout)
      write = ProbeWrite(sequence: self.sequence, revision: response.header.revision, value: value)
      return nil
    }
    if let write {
      history.record(write)
      if operations.contains(.watch) {
        await checkWatch(of: write, acknowledged: ContinuousClock.now)
        metrics.watchProgressLag.labels(name).set(Double(max(0, write.revision - latestWatchedRevision)))
      }
    } else {
      history.recordUncertain(sequence: sequence)
    }
    return write
  }

  /// A learner: a serializable read of the probe's key (it serves no writes or linearizable reads) and its
  /// status.
  private func runLearnerRound() async {
    if operations.contains(.getSerializable) || operations.contains(.get) { await learnerRead() }
    if operations.contains(.status) { await measureStatus() }
  }

  private func learnerRead() async {
    await measure(.getSerializable) {
      let response = try await self.client.get(
        self.key, options: .init(serializable: true), timeout: self.timeout)
      // Nothing is written through a learner; what it holds under the probe's key must not lie ahead of it.
      if let kv = response.kvs.first, kv.modRevision > response.header.revision {
        return OperationFailure(.futureRevision, "key at revision \(kv.modRevision) in an answer from \(response.header.revision)")
      }
      return nil
    }
    await measureStatus()
  }

  private func measureStatus() async {
    await measure(.status) {
      let status = try await self.client.status(timeout: self.timeout)
      self.record(status)
      return nil
    }
  }

  private func checkSerializable(_ response: GetResponse, duration: Duration, upperBound: Int64?) {
    guard let write = history.latest else {
      record(.getSerializable, duration: duration, failure: nil)
      return
    }
    let verdict = AnswerChecks.serializableRead(
      kv: response.kvs.first, headerRevision: response.header.revision, after: write, history: history,
      valueSize: valueSize, upperBound: upperBound)
    metrics.serializableLag.labels(name).set(Double(verdict.lagRevisions))
    let failure = verdict.failure.map {
      OperationFailure($0, describe($0, response.kvs.first, response.header.revision, write))
    }
    record(.getSerializable, duration: duration, failure: failure)
  }

  private func checkWatch(of write: ProbeWrite, acknowledged: ContinuousClock.Instant) async {
    let arrival = await self.arrival(of: write.revision, within: timeout)
    if let anomaly = ledger.takeAnomaly() {
      record(.watch, duration: .zero, failure: OperationFailure(anomaly, "on the watch of \(watchPrefix)"))
      return
    }
    switch arrival {
    case .arrived(let time, let event):
      let delay = max(.zero, time - acknowledged)
      if let failure = AnswerChecks.watchEvent(event, of: write) {
        record(
          .watch, duration: delay,
          failure: OperationFailure(
            failure,
            "event \(event.type) at revision \(event.kv.modRevision) with \(event.kv.value.count) bytes, "
              + "for the put at revision \(write.revision)"))
      } else {
        metrics.watchDelay.labels(name).observe(delay)
        record(.watch, duration: delay, failure: nil)
      }
    case .missing:
      record(
        .watch, duration: max(.zero, ContinuousClock.now - acknowledged),
        failure: OperationFailure(
          .missingEvent, "the watch went past revision \(write.revision) without the probe's put"))
    case .compacted:
      record(
        .watch, duration: max(.zero, ContinuousClock.now - acknowledged),
        failure: OperationFailure(
          code: "OutOfRange", reason: EtcdError.Code.compacted.name,
          message: "the watch was compacted past revision \(write.revision) before delivering it"))
    case .timedOut:
      record(
        .watch, duration: timeout,
        failure: OperationFailure(
          code: GRPCStatusCode.deadlineExceeded.goName, reason: EtcdError.Code.deadlineExceeded.name,
          message: "the watch event of revision \(write.revision) did not arrive in time"))
    }
  }

  private func describe(_ failure: AnswerFailure, _ kv: KeyValue?, _ headerRevision: Int64, _ write: ProbeWrite)
    -> String
  {
    let found =
      kv.map { "key at revision \($0.modRevision) with \($0.value == write.value ? "the put's" : "another") value" }
      ?? "no key"
    return "\(found) in an answer from revision \(headerRevision), after the put at revision \(write.revision)"
  }

  /// Times one operation whose body returns the failure of its answer check (nil when the answer is right),
  /// and records it.
  private func measure(_ op: ProbeMetrics.Operation, _ body: () async throws -> OperationFailure?) async {
    let started = ContinuousClock.now
    let failure: OperationFailure?
    do {
      failure = try await body()
    } catch {
      failure = OperationFailure(error)
    }
    record(op, duration: ContinuousClock.now - started, failure: failure)
  }

  /// Records an outcome in the metrics and the status page, and logs when the operation starts or stops
  /// failing.
  private func record(_ op: ProbeMetrics.Operation, duration: Duration, failure: OperationFailure?) {
    metrics.record(endpoint: name, op: op, duration: duration, failure: failure)
    roundResults[op] = OperationResult(at: Date(), duration: duration, failure: failure)
    // Every operation's exact duration, for latencies finer than the histogram's buckets
    // (Benchmarks/probe-latency-vs-go.sh reads them).
    logger.debug(
      "probe operation",
      metadata: [
        "endpoint": "\(name)", "op": "\(op.rawValue)", "duration_us": "\(Int(duration / .microseconds(1)))",
        "ok": "\(failure == nil)",
      ])
    let transition = health.record(op, failure: failure)
    switch transition {
    case nil:
      break
    case .startedFailing(let failure), .failingDifferently(let failure):
      let started = if case .startedFailing = transition { true } else { false }
      logger.warning(
        started ? "probe failing" : "probe still failing, for another reason",
        metadata: [
          "endpoint": "\(name)", "op": "\(op.rawValue)", "code": "\(failure.code)", "reason": "\(failure.reason)",
          "error": "\(failure.message)",
        ])
    case .recovered(let failures):
      logger.info(
        "probe succeeding again",
        metadata: ["endpoint": "\(name)", "op": "\(op.rawValue)", "failed_attempts": "\(failures)"])
    }
  }

  private func record(_ status: StatusResponse) {
    lastStatus = status
    metrics.isLeader.labels(name).set(status.leader == status.header.memberID ? 1 : 0)
    metrics.raftTerm.labels(name).set(Double(status.raftTerm))
    metrics.raftIndex.labels(name).set(Double(status.raftIndex))
    metrics.raftAppliedIndex.labels(name).set(Double(status.raftAppliedIndex))
    metrics.dbSize.labels(name).set(Double(status.dbSize))
    metrics.dbSizeInUse.labels(name).set(Double(status.dbSizeInUse))
    let info = [
      name, status.version, String(status.header.memberID, radix: 16), isLearner || status.isLearner ? "true" : "false",
    ]
    if info != infoLabels {
      if let infoLabels { metrics.info.remove(infoLabels) }
      metrics.info.labels(info).set(1)
      infoLabels = info
    }
    // No leader (0) is a state of its own: the series is removed, not labelled "0".
    let leader = status.leader == 0 ? nil : [name, String(status.leader, radix: 16)]
    if leader != leaderLabels {
      if let leaderLabels { metrics.leaderInfo.remove(leaderLabels) }
      if let leader { metrics.leaderInfo.labels(leader).set(1) }
      leaderLabels = leader
    }
  }

  // MARK: - Lease

  /// Grants the probe's lease (keys expire with it even if the probe dies) and keeps it alive.
  private func ensureLease() async {
    guard leaseID == nil, !isShutDown else { return }
    let ttl = max(Duration.seconds(10), .seconds((timeout.components.seconds + 1) * 10))
    guard let lease = try? await client.grantLease(ttl: ttl, timeout: timeout) else { return }
    guard !isShutDown else {
      // Shut down while the grant was in flight: this lease is nobody's, so it goes now.
      _ = try? await client.revokeLease(lease.id, timeout: timeout)
      return
    }
    leaseID = lease.id
    let client = self.client
    leaseKeeper = Task(executorPreference: client.taskExecutor) { [weak self] in
      do {
        for try await _ in client.keepAlive(lease.id) {}
      } catch {}
      // The lease is gone (expired while the target was unreachable): grant a new one next round.
      await self?.leaseLost(lease.id)
    }
  }

  private func leaseLost(_ id: LeaseID) {
    if leaseID == id { leaseID = nil }
  }

  // MARK: - Watch

  /// Keeps a watch open on the target's key prefix, recording when each revision arrives. It starts at the
  /// revision after the current one, so the next put's event is delivered even if the watch is created
  /// after the put reached the server.
  private func ensureWatch() async {
    guard watcher == nil else { return }
    guard
      let current = try? await client.get(watchPrefix, options: .init(countOnly: true), timeout: timeout)
        .header.revision
    else { return }
    let client = self.client
    let prefix = watchPrefix
    // On the client's event loop, as the rounds are: an event is timed when the loop delivers it, and
    // handing it to the prober needs no thread hand-off.
    watcher = Task(executorPreference: client.taskExecutor) { [weak self] in
      var start: Int64 = current + 1
      while !Task.isCancelled {
        do {
          for try await response in client.watch(prefix, options: .init(range: .prefix, startRevision: start)) {
            let now = ContinuousClock.now
            await self?.watched(response, at: now)
            if let last = response.events.last { start = last.kv.modRevision + 1 }
          }
          return
        } catch let error as EtcdError where error.code == .compacted {
          start = error.compactRevision ?? 0
          await self?.compacted(restartingAt: start)
        } catch let error as EtcdError where error.code == .clusterChanged {
          // The target now serves another cluster: its history starts anew, so the watch starts from now.
          await self?.clusterChanged()
          start = 0
        } catch {
          try? await Task.sleep(for: .milliseconds(500))
        }
      }
    }
  }

  private func compacted(restartingAt revision: Int64) {
    metrics.watchCompactions.labels(name).increment()
    // Events below the compaction are lost to this watch: their waiters learn it now.
    for (waited, waiter) in arrivalWaiters where waited < revision {
      arrivalWaiters[waited] = nil
      waiter.resume(returning: .compacted)
    }
  }

  private func clusterChanged() {
    metrics.watchClusterChanges.labels(name).increment()
    latestWatchedRevision = 0
    ledger.historyReset()
    arrivals.removeAll()
  }

  private func watched(_ response: WatchResponse, at time: ContinuousClock.Instant) {
    latestWatchedRevision = max(latestWatchedRevision, response.header.revision)
    ledger.received(response.events)
    let ownKey = Array(key.utf8)
    for event in response.events where event.kv.key == ownKey && event.type == .put {
      let revision = event.kv.modRevision
      if let waiter = arrivalWaiters.removeValue(forKey: revision) {
        waiter.resume(returning: .arrived(time, event))
      } else {
        arrivals[revision] = .arrived(time, event)
      }
    }
    // A stream delivers revisions in order: one past a waited revision means that revision will not come.
    for (waited, waiter) in arrivalWaiters where waited < ledger.lastRevision {
      arrivalWaiters[waited] = nil
      waiter.resume(returning: .missing)
    }
    // Old arrivals nobody waits for any more are dropped.
    if arrivals.count > 64 {
      let newest = arrivals.keys.sorted().suffix(16)
      arrivals = arrivals.filter { newest.contains($0.key) }
    }
  }

  /// How the wait for the event of `revision` ends, waiting at most `limit`.
  private func arrival(of revision: Int64, within limit: Duration) async -> WatchArrival {
    if let arrival = arrivals.removeValue(forKey: revision) { return arrival }
    if ledger.lastRevision > revision { return .missing }
    let timer = Task { [weak self] in
      try? await Task.sleep(for: limit)
      await self?.giveUp(on: revision)
    }
    defer { timer.cancel() }
    return await withCheckedContinuation { continuation in
      arrivalWaiters[revision] = continuation
    }
  }

  private func giveUp(on revision: Int64) {
    arrivalWaiters.removeValue(forKey: revision)?.resume(returning: .timedOut)
  }

  // MARK: - Shutdown

  /// Stops the watch and the keep-alive, deletes the probe's key and revokes its lease.
  ///
  /// The lease is taken before the keep-alive is cancelled: the keeper's exit path clears `leaseID` (so that
  /// a lost lease is granted anew), and it runs while the delete below is awaited.
  ///
  /// - Parameter cleanupClient: The client to delete and revoke through, when the target itself may no
  ///   longer answer (a member removed from the cluster); the target's own client when nil.
  func shutdown(using cleanupClient: EtcdClient? = nil) async {
    let client = cleanupClient ?? self.client
    isShutDown = true
    let lease = leaseID
    leaseID = nil
    watcher?.cancel()
    leaseKeeper?.cancel()
    for (_, waiter) in arrivalWaiters { waiter.resume(returning: .timedOut) }
    arrivalWaiters.removeAll()
    if !isLearner && operations.contains(.put) {
      do {
        _ = try await client.delete(key, timeout: .seconds(2))
      } catch {
        logger.warning(
          "could not delete the probe's key", metadata: ["endpoint": "\(name)", "error": "\(error)"])
      }
    }
    if let lease {
      do {
        try await client.revokeLease(lease, timeout: .seconds(2))
      } catch where error.code == .leaseNotFound {
        // Expired already: nothing is left behind.
      } catch {
        logger.warning(
          "could not revoke the probe's lease; it expires by itself",
          metadata: [
            "endpoint": "\(name)", "lease": "\(lease)", "error": "\(error)",
          ])
      }
    }
    await self.client.close()
  }
}

/// One operation's latest result, for the status page.
struct OperationResult: Sendable, Equatable {
  /// When it ended (wall clock).
  var at: Date
  /// How long it took.
  var duration: Duration
  /// Why it failed; nil when it succeeded.
  var failure: OperationFailure?
}
