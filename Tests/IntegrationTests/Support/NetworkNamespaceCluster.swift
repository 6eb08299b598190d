import EtcdClient
import EtcdProcess
import Foundation
import Synchronization

#if canImport(Glibc)
  import Glibc
#endif

/// A real etcd cluster whose members each run in a network namespace of their own, with a client link to
/// the test process and a peer link to a bridge (``NetworkNamespaceTopology``), so that a test can cut a
/// member off from its peers, or from its clients, or both, the way a network partition does: packets
/// vanish, and no side hears an RST.
///
/// Like ``EtcdTestCluster``: `etcd` from `ETCD_BINARY` or `PATH`, temporary data directories under /dev/shm,
/// `--unsafe-no-fsync`, processes stopped by PID. Short raft timings (50 ms heartbeat, 500 ms election
/// timeout) make elections quick. Each member's `etcd.log` stays in its directory after ``close()``; the
/// next fixture deletes directories, namespaces and links of test processes that are gone.
///
/// Needs root and a working `ip netns`: gate suites with ``isAvailable``.
///
/// ```swift
/// let cluster = try await NetworkNamespaceCluster()
/// defer { cluster.close() }
/// let leader = try await cluster.leader()
/// try cluster.isolateFromPeers(leader)
/// ```
final class NetworkNamespaceCluster: Sendable {
  /// The port every member serves clients on, at its own address.
  static let clientPort = 2379
  /// The port every member serves peers on, at its own address.
  static let peerPort = 2380

  private let topology: NetworkNamespaceTopology
  private let root: String
  private let binary: String
  /// Each member's process while it runs.
  private let processes: Mutex<[EtcdProcess?]>
  private let closed = Mutex(false)

  /// Whether the fixture can run here: the process is root and a network namespace can be created.
  static let isAvailable: Bool = {
    guard getuid() == 0 else { return false }
    let name = NetworkNamespaceTopology.namespaceName(owner: getpid(), role: "check")
    guard (try? NetworkNamespace.create(name)) != nil else { return false }
    NetworkNamespace(name: name).delete()
    return true
  }()

  /// Creates the namespaces and links, starts `size` members, and waits until every member is healthy.
  ///
  /// - Parameter size: The number of members, 1 to 64.
  /// - Throws: `FixtureError` when the network cannot be made or a member does not become healthy; what
  ///   was started is stopped and deleted first.
  init(size: Int = 3) async throws {
    NetworkNamespaceTopology.deleteLeftovers()
    Self.deleteLeftoverDirectories()
    let root = "\(Self.directoryBase)/\(Self.directoryPrefix)\(getpid())-\(UUID().uuidString.prefix(8))"
    try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
    self.root = root
    self.binary = EtcdTestCluster.binary
    self.topology = try NetworkNamespaceTopology.create(size: size)
    self.processes = Mutex(Array(repeating: nil, count: size))
    do {
      for member in 0..<size { try start(member, state: .new) }
      for member in 0..<size { try await waitUntilHealthy(member) }
    } catch {
      close()
      throw error
    }
  }

  deinit {
    close()
  }

  /// The members' client addresses, `10.B.C.D:2379`, which the test process reaches over the client links.
  var endpoints: [String] { topology.members.indices.map { endpoint(of: $0) } }

  /// Member `member`'s client address, `10.B.C.D:2379`.
  func endpoint(of member: Int) -> String {
    "\(topology.members[member].clientAddress):\(Self.clientPort)"
  }

  /// The PID of member `member`'s etcd while it runs.
  func pid(of member: Int) -> pid_t? {
    processes.withLock { $0[member]?.pid }
  }

  /// Cuts member `member`'s peer link: it hears nothing from its peers and they nothing from it; clients
  /// still reach it.
  func isolateFromPeers(_ member: Int) throws {
    try topology.members[member].peerLink.cut()
  }

  /// Restores member `member`'s peer link.
  func rejoinPeers(_ member: Int) throws {
    try topology.members[member].peerLink.restore()
  }

  /// Cuts member `member`'s client link: the test process cannot reach it (connections hang, none is
  /// refused); its peers still can.
  func disconnectClient(from member: Int) throws {
    try topology.members[member].clientLink.cut()
  }

  /// Restores member `member`'s client link.
  func reconnectClient(to member: Int) throws {
    try topology.members[member].clientLink.restore()
  }

  /// Cuts and restores member `member`'s peer link `count` times: down for half of each `period`, up for
  /// the other half. The link is up when this returns or throws.
  func flapPeerLink(of member: Int, period: Duration, count: Int) async throws {
    let link = topology.members[member].peerLink
    defer { try? link.restore() }
    for _ in 0..<count {
      try link.cut()
      try await Task.sleep(for: period / 2)
      try link.restore()
      try await Task.sleep(for: period / 2)
    }
  }

  /// Kills member `member` (SIGKILL) and waits until it exited.
  func kill(_ member: Int) {
    takeProcess(member)?.kill()
  }

  /// Starts member `member` again with its data, after `kill(_:)`, and waits until it is healthy.
  func restart(_ member: Int) async throws {
    takeProcess(member)?.kill()
    try start(member, state: .existing)
    try await waitUntilHealthy(member)
  }

  /// The index of the member that leads: of the members that say they lead (asked over their client
  /// links), the one of the highest raft term, since a leader cut off from its peers still says so until
  /// it notices. Retried for at most 20 s while an election is under way.
  ///
  /// - Throws: `FixtureError` when no member says it leads within 20 s.
  func leader() async throws -> Int {
    var configuration = EtcdClient.Configuration(endpoints: endpoints)
    configuration.dialTimeout = .milliseconds(500)
    let client = try EtcdClient(configuration: configuration)
    defer { Task { await client.close() } }
    let deadline = ContinuousClock.now + .seconds(20)
    while ContinuousClock.now < deadline {
      var claims: [(member: Int, term: UInt64)] = []
      for member in topology.members.indices where pid(of: member) != nil {
        if let status = try? await client.status(endpoint: endpoint(of: member), timeout: .seconds(1)),
          status.leader != 0, status.leader == status.header.memberID
        {
          claims.append((member, status.raftTerm))
        }
      }
      if let newest = claims.max(by: { $0.term < $1.term }) { return newest.member }
      try await Task.sleep(for: .milliseconds(100))
    }
    throw FixtureError("no member said it leads within 20 s")
  }

  /// Stops every member (by PID) and deletes the namespaces and links, and the members' data; their logs
  /// stay. Does nothing after the first call.
  func close() {
    let first = closed.withLock { closed in
      defer { closed = true }
      return !closed
    }
    guard first else { return }
    for member in topology.members.indices {
      takeProcess(member)?.stop(gracePeriod: .seconds(5))
    }
    topology.delete()
    for member in topology.members.indices {
      try? FileManager.default.removeItem(atPath: directory(of: member) + "/data")
    }
  }

  private func directory(of member: Int) -> String { root + "/m\(member)" }

  private func start(_ member: Int, state: InitialClusterState) throws {
    let place = topology.members[member]
    let directory = directory(of: member)
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    var configuration = EtcdMemberConfiguration(
      name: "m\(member)",
      dataDirectory: directory + "/data",
      clientURL: "http://\(place.clientAddress):\(Self.clientPort)",
      peerURL: "http://\(place.peerAddress):\(Self.peerPort)"
    )
    configuration.executable = binary
    configuration.launchPrefix = place.namespace.execPrefix
    configuration.initialCluster = topology.members.indices.map {
      EtcdPeer(name: "m\($0)", peerURL: "http://\(topology.members[$0].peerAddress):\(Self.peerPort)")
    }
    configuration.initialClusterState = state
    configuration.initialClusterToken = "swift-netns-test-\(getpid())"
    configuration.unsafeNoFsync = true
    configuration.logFile = directory + "/etcd.log"
    configuration.outputFile = directory + "/stdout.log"
    configuration.extraArguments = ["--heartbeat-interval", "50", "--election-timeout", "500"]
    let process: EtcdProcess
    do {
      process = try configuration.start()
    } catch {
      throw FixtureError(error.description)
    }
    processes.withLock { $0[member] = process }
  }

  /// Waits (at most 30 s) until the member answers `GET /health` healthy over its client link, then checks
  /// that the PID the fixture holds is etcd's own (`ip netns exec` execs it, so there is no `ip` process
  /// in between to stop instead).
  private func waitUntilHealthy(_ member: Int) async throws {
    guard let process = processes.withLock({ $0[member] }) else {
      throw FixtureError("etcd member m\(member) is not running")
    }
    let url = "http://\(endpoint(of: member))/health"
    let check = EtcdHealthCheck {
      guard let result = try? run(["curl", "-s", "--max-time", "1", url]) else { return false }
      return result.status == 0 && result.output.contains("\"health\":\"true\"")
    }
    do {
      try await process.waitUntilHealthy(check, timeout: .seconds(30), interval: .milliseconds(100))
    } catch let error as EtcdProcessError {
      let log = (try? String(contentsOfFile: directory(of: member) + "/etcd.log", encoding: .utf8)) ?? ""
      throw FixtureError("etcd member m\(member) did not become healthy (\(error)); log tail:\n\(log.suffix(2000))")
    }
    let command = (try? String(contentsOfFile: "/proc/\(process.pid)/comm", encoding: .utf8)) ?? ""
    guard command.trimmingCharacters(in: .whitespacesAndNewlines) == "etcd" else {
      throw FixtureError("PID \(process.pid) of member m\(member) is `\(command)`, not etcd")
    }
  }

  /// The member's process, which the fixture no longer holds once this returns: one caller stops it.
  private func takeProcess(_ member: Int) -> EtcdProcess? {
    processes.withLock { processes in
      defer { processes[member] = nil }
      return processes[member]
    }
  }

  private static let directoryBase =
    FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm" : NSTemporaryDirectory()
  private static let directoryPrefix = "etcd-netns-test-"

  /// Deletes the directories (data and logs) of fixtures whose test process is gone.
  private static func deleteLeftoverDirectories() {
    let names = (try? FileManager.default.contentsOfDirectory(atPath: directoryBase)) ?? []
    for name in names where name.hasPrefix(directoryPrefix) {
      let owner = name.dropFirst(directoryPrefix.count).prefix { $0.isNumber }
      guard let pid = pid_t(owner), NetworkNamespaceTopology.isDead(pid) else { continue }
      try? FileManager.default.removeItem(atPath: directoryBase + "/" + name)
    }
  }
}
