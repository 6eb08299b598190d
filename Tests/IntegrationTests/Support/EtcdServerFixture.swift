import Foundation
import Synchronization
import LoopbackTestSupport

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
    private let process = Mutex<pid_t?>(nil)

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
    /// The PID while running.
    var pid: pid_t? { process.withLock { $0 } }

    fileprivate func start(
      binary: String,
      initialCluster: String,
      clusterState: String,
      token: String = "swift-test-\(getpid())",
      extra: [String]
    ) throws {
      let arguments = [
        binary,
        "--name", name,
        "--data-dir", dataDirectory + "/data",
        "--listen-client-urls", clientURL,
        "--advertise-client-urls", clientURL,
        "--listen-peer-urls", peerURL,
        "--initial-advertise-peer-urls", peerURL,
        "--initial-cluster", initialCluster,
        "--initial-cluster-state", clusterState,
        "--initial-cluster-token", token,
        "--unsafe-no-fsync",
        "--logger", "zap",
        "--log-outputs", dataDirectory + "/etcd.log",
      ] + extra
      let pid = try spawn(arguments, logFile: dataDirectory + "/stdout.log")
      process.withLock { $0 = pid }
    }

    /// Sends `signal` to the member's process. For SIGSTOP it returns once the process is stopped (at most
    /// 2 s later): the kernel stops a process asynchronously, and a request sent in between would be served.
    func signal(_ signal: Int32) {
      guard let pid else { return }
      Glibc.kill(pid, signal)
      guard signal == SIGSTOP else { return }
      for _ in 0..<2000 {
        if processState(pid) == "T" { return }
        usleep(1000)
      }
    }

    /// Kills the member (SIGKILL) and waits for it to exit.
    func kill() {
      guard let pid = process.withLock({ pid in defer { pid = nil }; return pid }) else { return }
      Glibc.kill(pid, SIGKILL)
      var status: Int32 = 0
      waitpid(pid, &status, 0)
    }

    /// Stops the member (SIGTERM, then SIGKILL after 10 s) and waits for it to exit.
    func stop() {
      guard let pid = process.withLock({ pid in defer { pid = nil }; return pid }) else { return }
      Glibc.kill(pid, SIGCONT)
      Glibc.kill(pid, SIGTERM)
      var status: Int32 = 0
      for _ in 0..<200 {
        if waitpid(pid, &status, WNOHANG) == pid { return }
        usleep(50_000)
      }
      Glibc.kill(pid, SIGKILL)
      waitpid(pid, &status, 0)
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
    for member in members { try start(member, state: "new") }
    for member in members { try await waitUntilServing(member) }
  }

  private var initialCluster: String {
    members.map { "\($0.name)=\($0.peerURL)" }.joined(separator: ",")
  }

  private func start(_ member: Member, state: String) throws {
    try member.start(
      binary: binary,
      initialCluster: initialCluster,
      clusterState: state,
      extra: extraArguments
    )
  }

  /// Starts a stopped or killed member again, with its data, and waits until it serves.
  func restart(_ member: Member) async throws {
    try start(member, state: "existing")
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
      clusterState: "new",
      token: "swift-test-\(getpid())-\(UUID().uuidString.prefix(8))",
      extra: extraArguments
    )
    try await waitUntilServing(member)
  }

  /// Starts a stopped member again without waiting for it: a member alone cannot serve until a quorum is
  /// back, so restarting a whole cluster starts every member first.
  func restartWithoutWaiting(_ member: Member) throws {
    try start(member, state: "existing")
  }

  /// Waits (at most 30 s) until the member's client port accepts connections and etcd answers its health
  /// check.
  func waitUntilServing(_ member: Member) async throws {
    let deadline = ContinuousClock.now + .seconds(30)
    while ContinuousClock.now < deadline {
      if member.pid == nil { break }
      if member.clientScheme == "https" {
        if isHealthyOverTLS(port: member.clientPort, curlArguments: healthCheckCurlArguments) { return }
      } else if isHealthy(port: member.clientPort) {
        return
      }
      try await Task.sleep(for: .milliseconds(50))
    }
    let log = (try? String(contentsOfFile: member.dataDirectory + "/etcd.log", encoding: .utf8)) ?? ""
    throw FixtureError("etcd member \(member.name) did not become healthy; log tail:\n\(log.suffix(2000))")
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
      initialCluster: running.map { "\($0.name)=\($0.peerURL)" }.joined(separator: ","),
      clusterState: "existing",
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

/// The state letter of a process from /proc/PID/stat (`R`, `S`, `T` for stopped, ...), or nil.
func processState(_ pid: pid_t) -> Character? {
  guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
    let close = stat.lastIndex(of: ")")
  else { return nil }
  // "pid (comm) S ...": the state follows the command name, which may itself hold spaces or parentheses.
  return stat[close...].dropFirst().first { $0 != " " }
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

/// Whether `GET /health` on the port answers `"health":"true"` (etcd's own health endpoint).
private func isHealthy(port: Int) -> Bool {
  let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
  guard fd >= 0 else { return false }
  defer { close(fd) }
  var timeout = timeval(tv_sec: 1, tv_usec: 0)
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
  var address = sockaddr_in()
  address.sin_family = sa_family_t(AF_INET)
  address.sin_port = in_port_t(UInt16(port).bigEndian)
  address.sin_addr.s_addr = inet_addr("127.0.0.1")
  let connected = withUnsafePointer(to: &address) {
    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
      connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
    }
  }
  guard connected == 0 else { return false }
  let request = "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
  _ = request.withCString { send(fd, $0, strlen($0), 0) }
  var response = [UInt8](repeating: 0, count: 4096)
  var total = 0
  while total < response.count {
    let n = response.withUnsafeMutableBytes { recv(fd, $0.baseAddress! + total, $0.count - total, 0) }
    if n <= 0 { break }
    total += n
  }
  return String(decoding: response[..<total], as: UTF8.self).contains("\"health\":\"true\"")
}

/// Whether `GET /health` over TLS answers `"health":"true"`, asked with `curl -k` (the certificate may be one the
/// test means to be wrong) and bounded by curl's `--max-time`.
private func isHealthyOverTLS(port: Int, curlArguments: [String]) -> Bool {
  let arguments = ["curl", "-sk", "--max-time", "2"] + curlArguments + ["https://127.0.0.1:\(port)/health"]
  guard let result = try? run(arguments) else { return false }
  return result.status == 0 && result.output.contains("\"health\":\"true\"")
}

/// Starts a process with stdout and stderr sent to `logFile`; returns its PID.
func spawn(_ arguments: [String], logFile: String) throws -> pid_t {
  var actions = posix_spawn_file_actions_t()
  posix_spawn_file_actions_init(&actions)
  defer { posix_spawn_file_actions_destroy(&actions) }
  posix_spawn_file_actions_addopen(&actions, 1, logFile, O_WRONLY | O_CREAT | O_APPEND, 0o644)
  posix_spawn_file_actions_adddup2(&actions, 1, 2)
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
  var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
  defer { for pointer in argv { free(pointer) } }
  var pid: pid_t = 0
  let result = posix_spawnp(&pid, arguments[0], &actions, nil, &argv, environ)
  guard result == 0 else {
    throw FixtureError("cannot start \(arguments[0]): \(String(cString: strerror(result)))")
  }
  return pid
}

/// Runs a command to completion (bounded by `timeout`), returning its exit status and standard output.
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
  let data = pipe.fileHandleForReading.readDataToEndOfFile()
  process.waitUntilExit()
  _ = timeout
  return (process.terminationStatus, String(decoding: data, as: UTF8.self))
}
