/// How to run one etcd member: its executable and every flag of its command line.
///
/// A plain value: ``arguments`` is the command line it describes, and ``start()`` runs it.
///
/// ```swift
/// var member = EtcdMemberConfiguration(
///   name: "m0",
///   dataDirectory: directory + "/data",
///   clientURL: "http://127.0.0.1:\(clientPort)",
///   peerURL: "http://127.0.0.1:\(peerPort)"
/// )
/// member.logFile = directory + "/etcd.log"
/// let process = try member.start()
/// defer { process.stop() }
/// try await process.waitUntilHealthy(.etcdHealth(port: clientPort), timeout: .seconds(20))
/// ```
package struct EtcdMemberConfiguration: Sendable, Hashable {
  /// The etcd executable: a path (anything with a `/`), or a name looked up on `PATH` when the member
  /// starts. Default `etcd`.
  package var executable = "etcd"
  /// `--name`.
  package var name: String
  /// `--data-dir`: etcd creates it when missing.
  package var dataDirectory: String
  /// The URL the member serves clients on: both `--listen-client-urls` and `--advertise-client-urls`.
  package var clientURL: String
  /// The URL the member serves peers on: both `--listen-peer-urls` and `--initial-advertise-peer-urls`.
  package var peerURL: String
  /// The members the cluster starts with (`--initial-cluster`). Default: this member alone.
  package var initialCluster: [EtcdPeer]
  /// `--initial-cluster-state`. Default nil: the flag is left out, and etcd takes `new`.
  package var initialClusterState: InitialClusterState?
  /// `--initial-cluster-token`. Default nil: the flag is left out, and etcd takes its own default.
  package var initialClusterToken: String?
  /// `--unsafe-no-fsync`: etcd does not fsync its WAL and database, so a crash may lose or corrupt data.
  /// Only for throwaway test data. Default false.
  package var unsafeNoFsync = false
  /// etcd's own log (`--logger zap --log-outputs FILE`). Default nil: no logger flags, etcd logs to stderr.
  package var logFile: String?
  /// The file that receives the process's stdout and stderr, appended to and created when missing.
  /// Default `/dev/null`.
  package var outputFile = "/dev/null"
  /// Flags put after all the others (TLS files, quotas, ...).
  package var extraArguments: [String] = []
  /// A command that runs the member, put before the executable: e.g. `["ip", "netns", "exec", "ns0"]`
  /// runs it in the network namespace `ns0`. Its first word is looked up on `PATH`. It must exec the
  /// member in its own process (as `ip netns exec` does), so that the PID started is the member's.
  /// Default empty: the executable starts directly.
  package var launchPrefix: [String] = []

  /// Describes a member that starts a cluster of its own: `initialCluster` is the member alone.
  ///
  /// - Parameters:
  ///   - name: `--name`.
  ///   - dataDirectory: `--data-dir`.
  ///   - clientURL: The URL to serve clients on, e.g. `http://127.0.0.1:2379`.
  ///   - peerURL: The URL to serve peers on, e.g. `http://127.0.0.1:2380`.
  package init(name: String, dataDirectory: String, clientURL: String, peerURL: String) {
    self.name = name
    self.dataDirectory = dataDirectory
    self.clientURL = clientURL
    self.peerURL = peerURL
    self.initialCluster = [EtcdPeer(name: name, peerURL: peerURL)]
  }

  /// The whole command line that starts the member: ``launchPrefix``, the executable at
  /// `executablePath`, then ``arguments``.
  ///
  /// - Parameter executablePath: Where `executable` was found.
  /// - Returns: The words to spawn, the first one the program that starts.
  package func commandLine(executablePath: String) -> [String] {
    launchPrefix + [executablePath] + arguments
  }

  /// The command line after the executable: the member's flags, the cluster flags that are set, the
  /// logger, then `extraArguments`.
  package var arguments: [String] {
    var arguments = [
      "--name", name,
      "--data-dir", dataDirectory,
      "--listen-client-urls", clientURL,
      "--advertise-client-urls", clientURL,
      "--listen-peer-urls", peerURL,
      "--initial-advertise-peer-urls", peerURL,
      "--initial-cluster", EtcdPeer.initialClusterFlag(initialCluster),
    ]
    if let initialClusterState { arguments += ["--initial-cluster-state", initialClusterState.rawValue] }
    if let initialClusterToken { arguments += ["--initial-cluster-token", initialClusterToken] }
    if unsafeNoFsync { arguments.append("--unsafe-no-fsync") }
    if let logFile { arguments += ["--logger", "zap", "--log-outputs", logFile] }
    return arguments + extraArguments
  }
}

/// A member as `--initial-cluster` names it: its name and peer URL.
package struct EtcdPeer: Sendable, Hashable {
  /// The member's `--name`.
  package var name: String
  /// The member's peer URL, e.g. `http://127.0.0.1:2380`.
  package var peerURL: String

  /// Creates a peer.
  ///
  /// - Parameters:
  ///   - name: The member's `--name`.
  ///   - peerURL: The member's peer URL.
  package init(name: String, peerURL: String) {
    self.name = name
    self.peerURL = peerURL
  }

  /// The value of `--initial-cluster`: `name=peerURL` of each peer, in order, joined by commas.
  ///
  /// - Parameter peers: The cluster's members.
  /// - Returns: e.g. `m0=http://127.0.0.1:2380,m1=http://127.0.0.1:2382`.
  package static func initialClusterFlag(_ peers: [EtcdPeer]) -> String {
    peers.map { "\($0.name)=\($0.peerURL)" }.joined(separator: ",")
  }
}

/// `--initial-cluster-state`: whether the member starts a cluster or joins (or rejoins) one.
package enum InitialClusterState: String, Sendable, Hashable {
  /// The members of `--initial-cluster` start a cluster together.
  case new
  /// The member joins a cluster that runs (it was added with MemberAdd), or restarts with its data.
  case existing
}
