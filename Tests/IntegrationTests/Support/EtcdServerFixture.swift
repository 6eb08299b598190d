import EtcdProcess
import Foundation
import LoopbackTestSupport
import Synchronization

#if canImport(Glibc)
  import Glibc
#endif

/// A real etcd cluster for tests: `etcd` processes on free loopback ports, each in a temporary data directory
/// (under /dev/shm when it exists), started with `--unsafe-no-fsync` so tests run fast, stopped by PID.
///
/// Set `ETCD_BINARY` to choose the binary (default: `etcd` on PATH).
final class EtcdTestCluster: Sendable {
  /// One member of the cluster.
  final class Member: Sendable {
    let name: String
    let clientPort: Int
    let peerPort: Int
    let dataDirectory: String
    /// `http`, or `https` when the member serves clients over TLS.
    let clientScheme: String
    /// The process from `start` until `stop()` or `kill()`.
    private let process = Mutex<EtcdProcess?>(nil)

    init(name: String, clientPort: Int, peerPort: Int, dataDirectory: String, clientScheme: String = "http") {
      self.name = name
      self.clientPort = clientPort
      self.peerPort = peerPort
      self.dataDirectory = dataDirectory
      self.clientScheme = clientScheme
    }

    /// `127.0.0.1:port` of the client URL.
    var endpoint: String { "127.0.0.1:\(clientPort)" }
    var clientURL: String { "\(clientScheme)://127.0.0.1:\(clientPort)" }
    var peerURL: String { "http://127.0.0.1:\(peerPort)" }
    /// The member as `--initial-cluster` names it.
    var peer: EtcdPeer { EtcdPeer(name: name, peerURL: peerURL) }
    /// The PID while running.
    var pid: pid_t? { process.withLock { $0?.pid } }
    /// The process while running.
    fileprivate var runningProcess: EtcdProcess? { process.withLock { $0 } }

    fileprivate func start(
      binary: String,
      initialCluster: [EtcdPeer],
      clusterState: InitialClusterState,
      token: String = "swift-test-\(getpid())",
      extra: [String]
    ) throws {
      var configuration = EtcdMemberConfiguration(
        name: name, dataDirectory: dataDirectory + "/data", clientURL: clientURL, peerURL: peerURL)
      configuration.executable = binary
      configuration.initialCluster = initialCluster
      configuration.initialClusterState = clusterState
      configuration.initialClusterToken = token
      configuration.unsafeNoFsync = true
      configuration.logFile = dataDirectory + "/etcd.log"
      configuration.outputFile = dataDirectory + "/stdout.log"
      configuration.extraArguments = extra
      let started: EtcdProcess
      do {
        started = try configuration.start()
      } catch {
        throw FixtureError(error.description)
      }
      process.withLock { $0 = started }
    }

    /// Sends `signal` to the member's process. For SIGSTOP it returns once the process is stopped (at most
    /// 2 s later): the kernel stops a process asynchronously, and a request sent in between would be served.
    func signal(_ signal: Int32) {
      runningProcess?.signal(signal)
    }

    /// Kills the member (SIGKILL) and waits for it to exit.
    func kill() {
      takeProcess()?.kill()
    }

    /// Stops the member (SIGTERM, then SIGKILL after 10 s) and waits for it to exit.
    func stop() {
      takeProcess()?.stop(gracePeriod: .seconds(10))
    }

    /// The running process, which the member no longer has once this returns: one caller stops it.
    private func takeProcess() -> EtcdProcess? {
      process.withLock { process in
        defer { process = nil }
        return process
      }
    }
  }

  let members: [Member]
  /// Members added while the cluster runs (`newMember()`), stopped with the others.
  private let joined = Mutex<[Member]>([])
  private let binary: String
  private let root: String
  private let extraArguments: [String]
  /// curl's arguments for the health check of a TLS cluster (e.g. `--cert`, `--key`).
  private let healthCheckCurlArguments: [String]

  /// The client endpoints of every member.
  var endpoints: [String] { members.map(\.endpoint) }

  /// Starts a cluster of `size` members and waits until each answers on its client port.
  ///
  /// - Parameters:
  ///   - clientScheme: `https` serves clients over TLS (pass `--cert-file` and the rest in `extraArguments`);
  ///     the health check then runs `curl -k` with `healthCheckCurlArguments` (a client certificate, when the
  ///     cluster asks for one).
  init(
    size: Int = 1,
    extraArguments: [String] = [],
    clientScheme: String = "http",
    healthCheckCurlArguments: [String] = []
  ) async throws {
    let binary = Self.binary
    let base = FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm" : NSTemporaryDirectory()
    let root = base + "/etcd-swift-test-\(getpid())-\(UUID().uuidString.prefix(8))"
    try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
    var members: [Member] = []
    for index in 0..<size {
      let directory = root + "/m\(index)"
      try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
      members.append(
        Member(
          name: "m\(index)",
          clientPort: try freeLoopbackPort(),
          peerPort: try freeLoopbackPort(),
          dataDirectory: directory,
          clientScheme: clientScheme
        )
      )
    }
    self.members = members
    self.binary = binary
    self.root = root
    self.extraArguments = extraArguments
    self.healthCheckCurlArguments = healthCheckCurlArguments
    for member in members { try start(member, state: .new) }
    for member in members { try await waitUntilServing(member) }
  }

  private var initialCluster: [EtcdPeer] { members.map(\.peer) }

  private func start(_ member: Member, state: InitialClusterState) throws {
    try member.start(
      binary: binary,
      initialCluster: initialCluster,
      clusterState: state,
      extra: extraArguments
    )
  }

  /// Starts a stopped or killed member again, with its data, and waits until it serves.
  func restart(_ member: Member) async throws {
    try start(member, state: .existing)
    try await waitUntilServing(member)
  }

  /// Replaces a single-member cluster by a new one behind the same address: stops the member, deletes its
  /// data and starts it with another cluster token, so it comes back empty and with a new cluster id.
  func recreate(_ member: Member) async throws {
    precondition(members.count == 1, "only a single-member cluster can be recreated alone")
    member.stop()
    try FileManager.default.removeItem(atPath: member.dataDirectory + "/data")
    try member.start(
      binary: binary,
      initialCluster: initialCluster,
      clusterState: .new,
      token: "swift-test-\(getpid())-\(UUID().uuidString.prefix(8))",
      extra: extraArguments
    )
    try await waitUntilServing(member)
  }

  /// Starts a stopped member again without waiting for it: a member alone cannot serve until a quorum is
  /// back, so restarting a whole cluster starts every member first.
  func restartWithoutWaiting(_ member: Member) throws {
    try start(member, state: .existing)
  }

  /// Waits (at most 30 s) until the member's client port accepts connections and etcd answers its health
  /// check.
  func waitUntilServing(_ member: Member) async throws {
    let check: EtcdHealthCheck
    if member.clientScheme == "https" {
      let port = member.clientPort
      let curlArguments = healthCheckCurlArguments
      check = EtcdHealthCheck { isHealthyOverTLS(port: port, curlArguments: curlArguments) }
    } else {
      check = .etcdHealth(port: member.clientPort)
    }
    var reason = "it is not running"
    if let process = member.runningProcess {
      do {
        try await process.waitUntilHealthy(check, timeout: .seconds(30), interval: .milliseconds(50))
        return
      } catch let error as EtcdProcessError {
        reason = error.description
      }
    }
    let log = (try? String(contentsOfFile: member.dataDirectory + "/etcd.log", encoding: .utf8)) ?? ""
    throw FixtureError(
      "etcd member \(member.name) did not become healthy (\(reason)); log tail:\n\(log.suffix(2000))")
  }

  /// A member the cluster does not have yet: free ports and a data directory. Add it with MemberAdd (its
  /// `peerURL`), then start it with `join(_:)`.
  func newMember() throws -> Member {
    let index = members.count + joined.withLock { $0.count }
    let directory = root + "/m\(index)"
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    let member = Member(
      name: "m\(index)", clientPort: try freeLoopbackPort(), peerPort: try freeLoopbackPort(),
      dataDirectory: directory, clientScheme: members[0].clientScheme)
    joined.withLock { $0.append(member) }
    return member
  }

  /// Starts a member added with MemberAdd, and waits until it serves. The initial cluster is every member
  /// of the fixture that runs, and the new one.
  func join(_ member: Member) async throws {
    let running = (members + joined.withLock { $0 }).filter { $0.pid != nil || $0 === member }
    try member.start(
      binary: binary,
      initialCluster: running.map(\.peer),
      clusterState: .existing,
      extra: extraArguments
    )
    try await waitUntilServing(member)
  }

  /// Stops every member and removes the data.
  func stop() {
    for member in members + joined.withLock({ $0 }) { member.stop() }
    try? FileManager.default.removeItem(atPath: root)
  }

  deinit {
    for member in members + joined.withLock({ $0 }) { member.stop() }
    try? FileManager.default.removeItem(atPath: root)
  }
}

struct FixtureError: Error, CustomStringConvertible {
  let description: String
  init(_ description: String) { self.description = description }
}

extension EtcdTestCluster {
  /// The etcd binary the fixture starts: `ETCD_BINARY`, else `etcd` on `PATH`.
  static var binary: String { ProcessInfo.processInfo.environment["ETCD_BINARY"] ?? "etcd" }

  /// The version that binary reports (`etcd --version`: "etcd Version: 3.4.23"), e.g. `3.4.23`; nil when it
  /// cannot be run.
  static let binaryVersion: String? = {
    guard let result = try? run([binary, "--version"]), result.status == 0 else { return nil }
    let line = result.output.split(separator: "\n").first { $0.hasPrefix("etcd Version: ") }
    return line.map { String($0.dropFirst("etcd Version: ".count)) }
  }()

  /// `major.minor` of `binaryVersion`, e.g. `3.4` or `3.5`: what tests of a feature that a release
  /// added branch on.
  static var binaryMinorVersion: String? {
    binaryVersion.map { $0.split(separator: ".").prefix(2).joined(separator: ".") }
  }
}

/// Runs `body` with a fresh single-member cluster and stops it afterwards.
func withEtcd<T>(
  size: Int = 1,
  extraArguments: [String] = [],
  clientScheme: String = "http",
  healthCheckCurlArguments: [String] = [],
  _ body: (EtcdTestCluster) async throws -> T
) async throws -> T {
  let cluster = try await EtcdTestCluster(
    size: size,
    extraArguments: extraArguments,
    clientScheme: clientScheme,
    healthCheckCurlArguments: healthCheckCurlArguments
  )
  defer { cluster.stop() }
  return try await body(cluster)
}

/// Whether `GET /health` over TLS answers `"health":"true"`, asked with `curl -k` (the certificate may be one the
/// test means to be wrong) and bounded by curl's `--max-time`.
private func isHealthyOverTLS(port: Int, curlArguments: [String]) -> Bool {
  let arguments = ["curl", "-sk", "--max-time", "2"] + curlArguments + ["https://127.0.0.1:\(port)/health"]
  guard let result = try? run(arguments) else { return false }
  return result.status == 0 && result.output.contains("\"health\":\"true\"")
}

/// Starts a process (`arguments[0]` found on PATH) with stdin from /dev/null and stdout and stderr appended to
/// `logFile`; returns its PID. The caller reaps it.
func spawn(_ arguments: [String], logFile: String) throws -> pid_t {
  do {
    return try ChildProcess.spawn(arguments, outputFile: logFile)
  } catch {
    throw FixtureError(error.description)
  }
}

/// Runs a command to completion, returning its exit status and standard output. A command still running after
/// `timeout` is terminated (SIGTERM), and its status is then that of the signal.
func run(_ arguments: [String], environment: [String: String] = [:], timeout: Duration = .seconds(30))
  throws -> (status: Int32, output: String)
{
  let process = Process()
  process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
  process.arguments = arguments
  var env = ProcessInfo.processInfo.environment
  for (key, value) in environment { env[key] = value }
  process.environment = env
  let pipe = Pipe()
  process.standardOutput = pipe
  process.standardError = pipe
  try process.run()
  let seconds = Double(timeout.components.seconds) + Double(timeout.components.attoseconds) / 1e18
  // Weak, so that a command that ended gives back its process and pipe (and their descriptors) at once
  // rather than when the timer fires. Foundation signals the process only while it has not been reaped, so
  // never another process.
  DispatchQueue.global().asyncAfter(deadline: .now() + seconds) { [weak process] in
    if let process, process.isRunning { process.terminate() }
  }
  let data = pipe.fileHandleForReading.readDataToEndOfFile()
  process.waitUntilExit()
  try? pipe.fileHandleForReading.close()
  return (process.terminationStatus, String(decoding: data, as: UTF8.self))
}
