import EtcdClient
import Foundation
import Logging

/// Probes one target (a member's endpoint, or the whole cluster through a client over every endpoint): each
/// round it puts a key attached to a lease, measures when the put's event arrives on a watch held open on the
/// same target, reads the key linearizably and serializably, deletes it, and (for a member) reads its status.
actor TargetProber {
  /// The `endpoint` label: the member's endpoint, or `cluster`.
  let name: String
  let client: EtcdClient
  private let isMember: Bool
  private let metrics: ProbeMetrics
  private let logger: Logger
  private let key: String
  private let watchPrefix: String
  private let value: [UInt8]
  private let timeout: Duration

  private var leaseID: Int64?
  /// Set by `shutdown()`: no lease is granted after it.
  private var isShutDown = false
  private var leaseKeeper: Task<Void, Never>?
  private var watcher: Task<Void, Never>?
  /// Monotonic arrival times of revisions seen on the watch, waiting for the prober to collect them.
  private var arrivals: [Int64: ContinuousClock.Instant] = [:]
  private var arrivalWaiters: [Int64: CheckedContinuation<ContinuousClock.Instant?, Never>] = [:]
  private var latestWatchedRevision: Int64 = 0
  private var lastResumptions = 0

  /// The last status read from the member, for the cluster-wide checks.
  private(set) var lastStatus: StatusResponse?

  init(
    name: String,
    client: EtcdClient,
    isMember: Bool,
    metrics: ProbeMetrics,
    logger: Logger,
    keyPrefix: String,
    valueSize: Int,
    timeout: Duration
  ) {
    self.name = name
    self.client = client
    self.isMember = isMember
    self.metrics = metrics
    self.logger = logger
    let safeName = name.replacingOccurrences(of: "/", with: "_")
    self.watchPrefix = keyPrefix + safeName + "/"
    self.key = watchPrefix + "probe-\(ProcessInfo.processInfo.processIdentifier)"
    self.value = [UInt8](repeating: UInt8(ascii: "p"), count: valueSize)
    self.timeout = timeout
    // Counters that may stay at zero exist from the start, so a dashboard shows 0, not "no data".
    _ = metrics.watchResumes.labels(name)
    _ = metrics.watchCompactions.labels(name)
    _ = metrics.watchClusterChanges.labels(name)
  }

  // MARK: - A round

  /// Runs one round of operations; every operation is bounded by the probe's timeout.
  func runRound() async {
    await ensureLease()
    await ensureWatch()

    // put, and the put→watch delay.
    var putRevision: Int64?
    await measure(.put) {
      putRevision = try await self.client.put(
        self.key, self.value, options: .init(lease: self.leaseID ?? 0), timeout: self.timeout
      ).header.revision
    }
    if let putRevision {
      let acknowledged = ContinuousClock.now
      if let arrived = await arrival(of: putRevision, within: timeout) {
        let delay = max(.zero, arrived - acknowledged)
        metrics.watchDelay.labels(name).observe(delay)
        metrics.record(endpoint: name, op: .watch, duration: delay, error: nil)
      } else {
        metrics.record(
          endpoint: name, op: .watch, duration: timeout,
          error: EtcdError(
            code: .deadlineExceeded,
            status: GRPCStatus(code: .deadlineExceeded, message: "watch event did not arrive in time")))
      }
      metrics.watchProgressLag.labels(name).set(Double(max(0, putRevision - latestWatchedRevision)))
    }

    await measure(.get) { _ = try await self.client.get(self.key, timeout: self.timeout) }
    await measure(.getSerializable) {
      _ = try await self.client.get(self.key, options: .init(serializable: true), timeout: self.timeout)
    }
    await measure(.delete) { try await self.client.delete(self.key, timeout: self.timeout) }

    if isMember {
      await measure(.status) {
        let status = try await self.client.status(timeout: self.timeout)
        self.record(status)
      }
    }

    let resumptions = await client.watchResumptions
    if resumptions > lastResumptions {
      metrics.watchResumes.labels(name).increment(by: UInt64(resumptions - lastResumptions))
      lastResumptions = resumptions
    }
  }

  /// Times one operation and records it.
  private func measure(_ op: ProbeMetrics.Operation, _ body: () async throws -> Void) async {
    let started = ContinuousClock.now
    do {
      try await body()
      metrics.record(endpoint: name, op: op, duration: ContinuousClock.now - started, error: nil)
    } catch {
      let failure =
        (error as? EtcdError)
        ?? EtcdError(code: .rpcFailed, status: GRPCStatus(code: .unknown, message: "\(error)"))
      metrics.record(endpoint: name, op: op, duration: ContinuousClock.now - started, error: failure)
      logger.debug(
        "probe failed",
        metadata: ["endpoint": "\(name)", "op": "\(op.rawValue)", "error": "\(failure)"])
    }
  }

  private func record(_ status: StatusResponse) {
    lastStatus = status
    metrics.isLeader.labels(name).set(status.leader == status.header.memberID ? 1 : 0)
    metrics.leaderID.labels(name).set(Double(status.leader))
    metrics.raftTerm.labels(name).set(Double(status.raftTerm))
    metrics.raftIndex.labels(name).set(Double(status.raftIndex))
    metrics.raftAppliedIndex.labels(name).set(Double(status.raftAppliedIndex))
    metrics.dbSize.labels(name).set(Double(status.dbSize))
    metrics.dbSizeInUse.labels(name).set(Double(status.dbSizeInUse))
    metrics.info.labels(name, status.version, String(status.header.memberID, radix: 16)).set(1)
  }

  // MARK: - Lease

  /// Grants the probe's lease (keys expire with it even if the probe dies) and keeps it alive.
  private func ensureLease() async {
    guard leaseID == nil, !isShutDown else { return }
    let ttl = max(Int64(10), Int64((timeout.components.seconds + 1) * 10))
    guard let lease = try? await client.grantLease(ttl: ttl, timeout: timeout) else { return }
    guard !isShutDown else {
      // Shut down while the grant was in flight: this lease is nobody's, so it goes now.
      _ = try? await client.revokeLease(lease.id, timeout: timeout)
      return
    }
    leaseID = lease.id
    let client = self.client
    leaseKeeper = Task { [weak self] in
      do {
        for try await _ in client.keepAlive(lease.id) {}
      } catch {}
      // The lease is gone (expired while the target was unreachable): grant a new one next round.
      await self?.leaseLost(lease.id)
    }
  }

  private func leaseLost(_ id: Int64) {
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
    watcher = Task { [weak self] in
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
          await self?.compacted()
          start = error.compactRevision ?? 0
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

  private func compacted() {
    metrics.watchCompactions.labels(name).increment()
  }

  private func clusterChanged() {
    metrics.watchClusterChanges.labels(name).increment()
    latestWatchedRevision = 0
    arrivals.removeAll()
  }

  private func watched(_ response: WatchResponse, at time: ContinuousClock.Instant) {
    latestWatchedRevision = max(latestWatchedRevision, response.header.revision)
    for event in response.events where event.type == .put {
      let revision = event.kv.modRevision
      if let waiter = arrivalWaiters.removeValue(forKey: revision) {
        waiter.resume(returning: time)
      } else {
        arrivals[revision] = time
      }
    }
    // Old arrivals nobody waits for any more are dropped.
    if arrivals.count > 64 {
      let newest = arrivals.keys.sorted().suffix(16)
      arrivals = arrivals.filter { newest.contains($0.key) }
    }
  }

  /// When the event of `revision` arrived, waiting at most `limit`.
  private func arrival(of revision: Int64, within limit: Duration) async -> ContinuousClock.Instant? {
    if let time = arrivals.removeValue(forKey: revision) { return time }
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
    arrivalWaiters.removeValue(forKey: revision)?.resume(returning: nil)
  }

  // MARK: - Shutdown

  /// Stops the watch and the keep-alive, deletes the probe's key and revokes its lease.
  ///
  /// The lease is taken before the keep-alive is cancelled: the keeper's exit path clears `leaseID` (so that
  /// a lost lease is granted anew), and it runs while the delete below is awaited.
  func shutdown() async {
    isShutDown = true
    let lease = leaseID
    leaseID = nil
    watcher?.cancel()
    leaseKeeper?.cancel()
    for (_, waiter) in arrivalWaiters { waiter.resume(returning: nil) }
    arrivalWaiters.removeAll()
    do {
      _ = try await client.delete(key, timeout: .seconds(2))
    } catch {
      logger.warning(
        "could not delete the probe's key", metadata: ["endpoint": "\(name)", "error": "\(error)"])
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
            "endpoint": "\(name)", "lease": "\(String(lease, radix: 16))", "error": "\(error)",
          ])
      }
    }
    await client.close()
  }
}
