import EtcdClient
import Foundation
import Logging
import Tracing
import Synchronization

/// One cluster's probing: its clients, member and cluster probers, cluster-wide checks, status board and round
/// loop, all made from its ``ClusterSettings``.
struct ClusterProbe: Sendable {
  /// What every cluster of one process shares.
  struct Shared: Sendable {
    /// The probe's metric families.
    var families: ProbeMetricFamilies
    /// The interceptors of every client (the RPC metrics).
    var interceptors: [any ClientInterceptor]
    /// The tracer of every client (`--otlp-endpoint`); nil for none.
    var tracer: (any Tracer)? = nil
    var logger: Logger
  }

  let settings: ClusterSettings
  let targets: ProbeTargets
  let checks: ClusterChecks
  let metrics: ProbeMetrics
  let board: ProbeStatusBoard
  let logger: Logger
  /// The TLS reload failures already counted.
  private let reportedReloadFailures = AtomicCounterBox()

  /// Makes the cluster's clients and probers; nothing is sent until ``run(rounds:offset:)``.
  ///
  /// - Throws: `ClusterProbeError` when a client cannot be made (an unreadable TLS file, a bad endpoint) or the
  ///   password file cannot be read.
  ///
  /// - Parameter added: Whether a reload adds the cluster to a running probe: then the probe stays ready while
  ///   the cluster's first round is due.
  init(settings: ClusterSettings, shared: Shared, added: Bool = false) throws(ClusterProbeError) {
    self.settings = settings
    var logger = shared.logger
    logger[metadataKey: "cluster"] = "\(settings.name)"
    self.logger = logger
    let clusterLogger = logger
    let metrics = ProbeMetrics(families: shared.families, cluster: settings.name)
    self.metrics = metrics

    var base = try settings.client.clientConfiguration(endpoints: settings.endpoints, owner: settings.name)
    base.keepalive = .init(interval: .seconds(5), timeout: max(.seconds(1), settings.timeout))
    base.interceptors = shared.interceptors
    base.tracer = shared.tracer
    let common = base
    let interval = settings.interval
    let name = settings.name
    @Sendable func client(_ endpoints: [String], autoSync: Bool = false) throws(ClusterProbeError) -> EtcdClient {
      var configuration = common
      configuration.endpoints = endpoints
      if autoSync { configuration.autoSyncInterval = max(interval, .seconds(30)) }
      do {
        return try EtcdClient(configuration: configuration)
      } catch {
        throw ClusterProbeError(cluster: name, message: error.message)
      }
    }
    let clusterClient = try client(settings.endpoints, autoSync: settings.discover)
    let keyPrefix = settings.keyPrefix + Self.keySafe(settings.name) + "/"
    let (valueSize, timeout, operations) = (settings.valueSize, settings.timeout, settings.operations)
    do {
      targets = try ProbeTargets(
        seeds: settings.endpoints.map { (EndpointLabel.of($0) ?? $0, $0) },
        cluster: TargetProber(
          name: "cluster", client: clusterClient, isMember: false, metrics: metrics, logger: clusterLogger,
          keyPrefix: keyPrefix, valueSize: valueSize, timeout: timeout, operations: operations),
        metrics: metrics, logger: clusterLogger
      ) { name, endpoint, isLearner in
        TargetProber(
          name: name, client: try client([endpoint]), isMember: true, isLearner: isLearner, metrics: metrics,
          logger: clusterLogger, keyPrefix: keyPrefix, valueSize: valueSize, timeout: timeout, operations: operations)
      }
    } catch let error as ClusterProbeError {
      throw error
    } catch {
      throw ClusterProbeError(cluster: name, message: "\(error)")
    }
    checks = ClusterChecks(client: clusterClient, metrics: metrics, logger: clusterLogger, timeout: timeout)
    board = ProbeStatusBoard(interval: interval, timeout: timeout, graceFrom: added ? .now : nil)
  }

  /// Runs rounds every interval, the first after `offset`, a consistency check every hash interval (when
  /// `hash_kv` is enabled), until the task is cancelled or `rounds` rounds ran (0: no limit).
  func run(rounds: Int, offset: Duration = .zero) async {
    if offset > .zero { try? await Task.sleep(for: offset) }
    var schedule = ProbeSchedule(interval: settings.interval, hashInterval: settings.hashInterval)
    let start = ContinuousClock.now
    var completed = 0
    while !Task.isCancelled && (rounds == 0 || completed < rounds) {
      let due = schedule.take(now: ContinuousClock.now - start)
      if due.round {
        completed += 1
        await runRound(
          number: completed, hashCheck: due.hashCheck && settings.operations.contains(.hashKV), schedule: schedule)
        if rounds != 0 && completed >= rounds { break }
      }
      try? await Task.sleep(for: schedule.delay(now: ContinuousClock.now - start))
    }
  }

  /// Removes every prober's key and lease and closes the clients.
  func shutdown() async {
    logger.info("probe stopping: removing its keys and leases")
    await targets.shutdown()
  }

  private func runRound(number: Int, hashCheck: Bool, schedule: ProbeSchedule) async {
    let started = ContinuousClock.now
    // The member list first: a member removed since the last round is not probed (and failed) once more,
    // and a new one is probed in this round.
    // The checks actor runs on the cluster client's event loop for the call, so the measured duration holds
    // no thread hand-offs of the probe's own.
    let members = await withTaskExecutorPreference(checks.taskExecutor) { await checks.memberList() }
    if let members, settings.discover, !Task.isCancelled {
      for name in await targets.follow(members) { await checks.forget(member: name) }
    }
    let probers = await targets.all
    let results = await withTaskGroup(of: (Int, RoundRecord.Target).self) { group in
      for (index, prober) in probers.enumerated() {
        // Each target at its own offset, so the targets' operations do not wait on each other.
        let start = schedule.stagger(index: index, count: probers.count)
        // On the prober's client's event loop: each call then starts and resumes on the thread that carries
        // it, and its measured duration holds no thread hand-offs of the probe's own.
        group.addTask(executorPreference: prober.client.taskExecutor) {
          if start > .zero { try? await Task.sleep(for: start) }
          // Stopped before this target's turn: no round, rather than one whose calls all end cancelled.
          guard !Task.isCancelled else { return (index, RoundRecord.Target(name: prober.name, results: [])) }
          let results = await prober.runRound()
          let ordered = ProbeMetrics.Operation.allCases.compactMap { op in results[op].map { (op, $0) } }
          return (index, RoundRecord.Target(name: prober.name, results: ordered))
        }
      }
      var targets: [(Int, RoundRecord.Target)] = []
      for await target in group { targets.append(target) }
      return targets.sorted { $0.0 < $1.0 }.map(\.1)
    }
    var statuses: [String: StatusResponse] = [:]
    for prober in await targets.memberProbers {
      if let status = await prober.lastStatus { statuses[prober.name] = status }
    }
    await checks.observe(statuses: statuses)
    var hashSummary: String?
    if hashCheck {
      let hashTargets = await targets.hashTargets()
      if hashTargets.count > 1 { hashSummary = await checks.checkHashes(members: hashTargets) }
    }
    if settings.tls != nil { await recordCertificates() }
    metrics.rounds.labels().increment()
    let duration = ContinuousClock.now - started
    if duration > settings.interval { metrics.roundOverruns.labels().increment() }
    board.completed(
      RoundRecord(number: number, ended: Date(), duration: duration, targets: results, hashCheck: hashSummary))
  }

  /// The expiry of the client certificate, the CA and each member's server certificate, and failed reloads of
  /// the TLS files (which the clients re-read when they change).
  private func recordCertificates() async {
    let cluster = targets.cluster.client
    let expiry = cluster.tlsCertificates()
    if let client = expiry.clientCertificateNotAfter {
      metrics.certificateNotAfter.labels("cluster", "client").set(client.timeIntervalSince1970)
    }
    if let ca = expiry.trustRootsNotAfter.first {
      metrics.certificateNotAfter.labels("cluster", "ca").set(ca.timeIntervalSince1970)
    }
    for prober in await targets.memberProbers {
      let served = prober.client.tlsCertificates().serverCertificateNotAfter
      if let notAfter = served[prober.name] ?? served.values.first {
        metrics.certificateNotAfter.labels(prober.name, "server").set(notAfter.timeIntervalSince1970)
      }
    }
    if let state = cluster.tlsFilesState(), state.failedLoads > reportedReloadFailures.load() {
      let previous = reportedReloadFailures.exchange(state.failedLoads)
      if state.failedLoads > previous {
        metrics.tlsReloadFailures.labels().increment(by: UInt64(state.failedLoads - previous))
        logger.warning(
          "the TLS files changed but could not be loaded; the last good ones stay in use",
          metadata: ["error": "\(state.lastError ?? "")"])
      }
    }
  }

  /// A cluster name as a key segment: `/` would nest it.
  static func keySafe(_ name: String) -> String { name.replacingOccurrences(of: "/", with: "_") }
}

/// A cluster that cannot be probed as configured.
struct ClusterProbeError: Error, Sendable, CustomStringConvertible {
  /// The cluster's name.
  var cluster: String
  /// Why.
  var message: String

  var description: String { "cluster \(cluster): \(message)" }
}

/// An integer shared by copies of a ``ClusterProbe``.
final class AtomicCounterBox: Sendable {
  private let value = Atomic<Int>(0)

  func load() -> Int { value.load(ordering: .relaxed) }

  func exchange(_ new: Int) -> Int { value.exchange(new, ordering: .relaxed) }
}
