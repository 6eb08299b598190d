import Testing

@testable import EtcdProcess

/// `member` with `change` applied.
private func changed(
  _ member: EtcdMemberConfiguration,
  _ change: (inout EtcdMemberConfiguration) -> Void
) -> EtcdMemberConfiguration {
  var member = member
  change(&member)
  return member
}

@Suite struct EtcdMemberConfigurationTests {
  /// A single member with nothing but its URLs set.
  private static let alone = EtcdMemberConfiguration(
    name: "probe-local",
    dataDirectory: "/dev/shm/p/data",
    clientURL: "http://127.0.0.1:2379",
    peerURL: "http://127.0.0.1:2380"
  )

  private static let cases: [(String, EtcdMemberConfiguration, [String])] = [
    (
      "a member alone: its own initial cluster, no optional flags",
      alone,
      [
        "--name", "probe-local", "--data-dir", "/dev/shm/p/data",
        "--listen-client-urls", "http://127.0.0.1:2379", "--advertise-client-urls", "http://127.0.0.1:2379",
        "--listen-peer-urls", "http://127.0.0.1:2380", "--initial-advertise-peer-urls", "http://127.0.0.1:2380",
        "--initial-cluster", "probe-local=http://127.0.0.1:2380",
      ]
    ),
    (
      "a log file adds the zap logger",
      changed(alone) { $0.logFile = "/dev/shm/p/etcd.log" },
      [
        "--name", "probe-local", "--data-dir", "/dev/shm/p/data",
        "--listen-client-urls", "http://127.0.0.1:2379", "--advertise-client-urls", "http://127.0.0.1:2379",
        "--listen-peer-urls", "http://127.0.0.1:2380", "--initial-advertise-peer-urls", "http://127.0.0.1:2380",
        "--initial-cluster", "probe-local=http://127.0.0.1:2380",
        "--logger", "zap", "--log-outputs", "/dev/shm/p/etcd.log",
      ]
    ),
    (
      "every flag: cluster flags, then fsync, logger and the extra arguments last",
      {
        var member = EtcdMemberConfiguration(
          name: "m1", dataDirectory: "/t/m1/data", clientURL: "https://127.0.0.1:4001",
          peerURL: "http://127.0.0.1:4002")
        member.initialCluster = [
          EtcdPeer(name: "m0", peerURL: "http://127.0.0.1:4000"),
          EtcdPeer(name: "m1", peerURL: "http://127.0.0.1:4002"),
        ]
        member.initialClusterState = .existing
        member.initialClusterToken = "swift-test-7"
        member.unsafeNoFsync = true
        member.logFile = "/t/m1/etcd.log"
        member.extraArguments = ["--cert-file", "/t/server.pem", "--logger", "capnslog"]
        return member
      }(),
      [
        "--name", "m1", "--data-dir", "/t/m1/data",
        "--listen-client-urls", "https://127.0.0.1:4001", "--advertise-client-urls", "https://127.0.0.1:4001",
        "--listen-peer-urls", "http://127.0.0.1:4002", "--initial-advertise-peer-urls", "http://127.0.0.1:4002",
        "--initial-cluster", "m0=http://127.0.0.1:4000,m1=http://127.0.0.1:4002",
        "--initial-cluster-state", "existing", "--initial-cluster-token", "swift-test-7",
        "--unsafe-no-fsync", "--logger", "zap", "--log-outputs", "/t/m1/etcd.log",
        "--cert-file", "/t/server.pem", "--logger", "capnslog",
      ]
    ),
    (
      "a new cluster's state is written out when set",
      changed(alone) { $0.initialClusterState = .new },
      [
        "--name", "probe-local", "--data-dir", "/dev/shm/p/data",
        "--listen-client-urls", "http://127.0.0.1:2379", "--advertise-client-urls", "http://127.0.0.1:2379",
        "--listen-peer-urls", "http://127.0.0.1:2380", "--initial-advertise-peer-urls", "http://127.0.0.1:2380",
        "--initial-cluster", "probe-local=http://127.0.0.1:2380", "--initial-cluster-state", "new",
      ]
    ),
  ]

  @Test(arguments: cases)
  func arguments(_ name: String, _ member: EtcdMemberConfiguration, _ expected: [String]) {
    #expect(member.arguments == expected, "\(name)")
  }

  @Test func defaults() {
    let member = Self.alone
    #expect(member.executable == "etcd")
    #expect(member.outputFile == "/dev/null")
    #expect(member.initialCluster == [EtcdPeer(name: "probe-local", peerURL: "http://127.0.0.1:2380")])
    #expect(member.initialClusterState == nil)
    #expect(member.initialClusterToken == nil)
    #expect(!member.unsafeNoFsync)
    #expect(member.logFile == nil)
    #expect(member.extraArguments.isEmpty)
    #expect(member.launchPrefix.isEmpty)
  }

  @Test func commandLineWithoutALaunchPrefixStartsTheExecutable() {
    let member = Self.alone
    #expect(member.commandLine(executablePath: "/usr/bin/etcd") == ["/usr/bin/etcd"] + member.arguments)
  }

  @Test func commandLineRunsTheExecutableBehindTheLaunchPrefix() {
    let member = changed(Self.alone) {
      $0.launchPrefix = ["ip", "netns", "exec", "ns0"]
      $0.unsafeNoFsync = true
    }
    let expected = ["ip", "netns", "exec", "ns0", "/usr/bin/etcd"] + member.arguments
    #expect(member.commandLine(executablePath: "/usr/bin/etcd") == expected)
    #expect(member.arguments.last == "--unsafe-no-fsync", "the prefix is not part of etcd's own flags")
  }

  @Test(arguments: [
    ([], ""),
    ([EtcdPeer(name: "a", peerURL: "http://127.0.0.1:1")], "a=http://127.0.0.1:1"),
    (
      [
        EtcdPeer(name: "m0", peerURL: "http://127.0.0.1:10"),
        EtcdPeer(name: "m1", peerURL: "http://127.0.0.1:11"),
        EtcdPeer(name: "m2", peerURL: "https://127.0.0.1:12"),
      ],
      "m0=http://127.0.0.1:10,m1=http://127.0.0.1:11,m2=https://127.0.0.1:12"
    ),
  ])
  func initialClusterFlag(_ peers: [EtcdPeer], _ expected: String) {
    #expect(EtcdPeer.initialClusterFlag(peers) == expected)
  }
}
