import Testing

@testable import etcd_probe

@Suite("Clusters file")
struct FleetConfigurationTests {
  static let file = "/etc/etcd-probe/clusters.yml"
  static let readable: Set<String> = [
    "/etc/etcd-probe/ca.pem", "/etc/etcd-probe/client.pem", "/etc/etcd-probe/client-key.pem",
    "/etc/etcd-probe/password", "/abs/ca.pem",
  ]

  func parse(_ text: String, defaults: ClusterDefaults = ClusterDefaults()) throws(FleetConfigurationError)
    -> FleetConfiguration
  {
    var parser = FleetConfigurationParser(file: Self.file, defaults: defaults)
    parser.isReadable = { Self.readable.contains($0) }
    return try parser.parse(text)
  }

  func problems(_ text: String) -> [String] {
    do {
      _ = try parse(text)
      return []
    } catch {
      return error.problems
    }
  }

  @Test func theDocumentedShapeParses() throws {
    var defaults = ClusterDefaults()
    defaults.hashInterval = .seconds(30)
    let configuration = try parse(
      """
      clusters:
        - name: prod-a
          endpoints: ["10.0.0.1:2379", "https://10.0.0.2:2379"]
          interval: 5s
          timeout: 2s
          tls: {ca_file: ca.pem, cert_file: client.pem, key_file: client-key.pem}
        - name: prod-b
          endpoints: [10.0.1.1:2379]
          discover: false
          user: probe
          password_file: password
          interval: 1m30s
          key_prefix: /probes/
          value_size: 16
          operations: [put, get, watch, status]
      modules:
        mtls: {timeout: 2s, tls: {ca_file: /abs/ca.pem}, target_pattern: '10\\.0\\.0\\.[0-9]+:2379'}
      """, defaults: defaults)
    #expect(configuration.clusters.map(\.name) == ["prod-a", "prod-b"])
    let a = configuration.clusters[0]
    #expect(a.endpoints == ["10.0.0.1:2379", "https://10.0.0.2:2379"])
    #expect(a.interval == .seconds(5) && a.timeout == .seconds(2) && a.hashInterval == .seconds(30))
    #expect(a.tls == TLSFiles(caFile: "/etc/etcd-probe/ca.pem", certFile: "/etc/etcd-probe/client.pem",
      keyFile: "/etc/etcd-probe/client-key.pem"))
    #expect(a.discover && a.operations == .all)
    let b = configuration.clusters[1]
    #expect(!b.discover && b.user == "probe" && b.passwordFile == "/etc/etcd-probe/password")
    #expect(b.interval == .seconds(90) && b.keyPrefix == "/probes/" && b.valueSize == 16)
    #expect(b.operations == ProbeOperations([.put, .get, .watch, .status]))
    #expect(!b.operations.contains(.hashKV) && b.operations.contains(.memberList))
    let mtls = try #require(configuration.modules["mtls"])
    #expect(mtls.tls?.caFile == "/abs/ca.pem")
    #expect(mtls.accepts("10.0.0.7:2379") && !mtls.accepts("10.0.0.7:2380") && !mtls.accepts("192.0.2.1:2379"))
    #expect(configuration.modules["default"]?.accepts("192.0.2.1:2379") == true)
  }

  @Test(arguments: [
    ("clusters: [{name: a, endpoints: [h:1]}, {name: a, endpoints: [h:2]}]",
     "clusters[1] (a).name: another cluster is named a"),
    ("clusters: [{name: a, endpoints: ['not an endpoint']}]",
     "clusters[0] (a).endpoints: 'not an endpoint' is not host:port"),
    ("clusters: [{name: a, endpoints: []}]", "clusters[0] (a).endpoints: names no endpoint"),
    ("clusters: [{name: a}]", "clusters[0] (a).endpoints: is required"),
    ("clusters: [{endpoints: [h:1]}]", "clusters[0].name: every cluster needs a name"),
    ("clusters: [{name: a, endpoints: [h:1], interval: 0s}]", "clusters[0] (a).interval: must be a duration above zero"),
    ("clusters: [{name: a, endpoints: [h:1], timeout: soon}]", "clusters[0] (a).timeout: must be a duration"),
    ("clusters: [{name: a, endpoints: [h:1], intervall: 5s}]", "clusters[0] (a).intervall: unknown field"),
    ("clusters: [{name: a, endpoints: [h:1], tls: {ca_file: missing.pem}}]",
     "clusters[0] (a).tls.ca_file: cannot read /etc/etcd-probe/missing.pem"),
    ("clusters: [{name: a, endpoints: [h:1], tls: {cert_file: client.pem}}]",
     "clusters[0] (a).tls: cert_file and key_file go together"),
    ("clusters: [{name: a, endpoints: [h:1], tls: {ca: ca.pem}}]", "clusters[0] (a).tls.ca: unknown field"),
    ("clusters: [{name: a, endpoints: [h:1], operations: [watch]}]",
     "clusters[0] (a).operations: watch needs put"),
    ("clusters: [{name: a, endpoints: [h:1], operations: [member_list]}]",
     "clusters[0] (a).operations: 'member_list' is not one of"),
    ("clusters: [{name: a, endpoints: [h:1], value_size: 2000000}]", "clusters[0] (a).value_size: must be"),
    ("clusters: [{name: a, endpoints: [h:1], user: u}]", "clusters[0] (a).password_file: is required with user"),
    ("clusters: [{name: a, endpoints: [h:1], discover: maybe}]", "clusters[0] (a).discover: must be true or false"),
    ("cluster: []", "cluster: unknown field"),
    ("clusters: {name: a}", "clusters: must be a list"),
    ("modules: {m: {target_pattern: '('}}", "modules.m.target_pattern: is not a regular expression"),
    ("modules: {m: {hash_interval: 5s}}", "modules.m.hash_interval: unknown field"),
    ("clusters: [", "not valid YAML"),
    ("- a\n- b", "must be a mapping"),
  ])
  func everyProblemNamesTheFileTheEntryAndTheField(yaml: String, expected: String) {
    let found = problems(yaml)
    #expect(found.contains { $0.hasPrefix(Self.file + ": ") && $0.contains(expected) }, "\(found)")
  }

  @Test func everyProblemOfAFileIsReportedAtOnce() {
    let found = problems(
      """
      clusters:
        - {name: a, endpoints: [h:1], interval: 0s}
        - {name: a, endpoints: [bad], typo: 1}
      """)
    #expect(found.count == 4, "\(found)")
  }

  @Test func flagsFillWhatAnEntryLeavesOut() throws {
    var defaults = ClusterDefaults()
    defaults.interval = .seconds(7)
    defaults.keyPrefix = "/from-flags/"
    defaults.tls = TLSFiles(caFile: "/flags/ca.pem")
    let cluster = try #require(try parse("clusters: [{name: a, endpoints: [h:1]}]", defaults: defaults).clusters.first)
    #expect(cluster.interval == .seconds(7) && cluster.keyPrefix == "/from-flags/")
    #expect(cluster.tls?.caFile == "/flags/ca.pem")
  }

  @Test func anEmptyFleetIsAllowedForProbeOnlyUse() throws {
    let configuration = try parse("clusters: []\nmodules: {}")
    #expect(configuration.clusters.isEmpty && configuration.modules.keys.sorted() == ["default"])
  }
}

@Suite("Fleet plan")
struct FleetPlanTests {
  static func settings(_ name: String, interval: Duration = .seconds(5)) -> ClusterSettings {
    var settings = ClusterSettings(name: name, endpoints: ["h:1"], defaults: ClusterDefaults())
    settings.interval = interval
    return settings
  }

  @Test func startsStopsAndRestartsOnlyWhatChanged() {
    let plan = FleetPlan(
      running: [Self.settings("keep"), Self.settings("change"), Self.settings("gone")],
      target: [Self.settings("change", interval: .seconds(1)), Self.settings("keep"), Self.settings("new")])
    #expect(plan.start.map(\.name) == ["new"])
    #expect(plan.stop == ["gone"])
    #expect(plan.restart.map(\.name) == ["change"] && plan.restart[0].interval == .seconds(1))
    #expect(plan.keep == ["keep"])
  }

  @Test func theSameConfigurationChangesNothing() {
    let clusters = [Self.settings("a"), Self.settings("b")]
    let plan = FleetPlan(running: clusters, target: clusters)
    #expect(plan.start.isEmpty && plan.stop.isEmpty && plan.restart.isEmpty && plan.keep == ["a", "b"])
  }

  @Test func offsetsSpreadClustersAndStayPut() {
    let interval = Duration.seconds(5)
    let offsets = (0..<50).map { ProbeFleet.offset(of: "cluster-\($0)", interval: interval) }
    #expect(offsets.allSatisfy { $0 >= .zero && $0 < interval })
    #expect(ProbeFleet.offset(of: "cluster-7", interval: interval) == offsets[7])
    // Spread: every fifth of the interval holds some cluster.
    let fifths = Set(offsets.map { Int(($0 / interval) * 5) })
    #expect(fifths == [0, 1, 2, 3, 4])
  }
}
