import Foundation
import Testing

#if canImport(Glibc)
  import Glibc
#endif

/// The examples of `deploy/` against what they configure: every `--flag` they pass is one the
/// built `etcd-probe --help` lists, every YAML file parses, the systemd unit passes
/// `systemd-analyze verify`, the Prometheus configurations pass `promtool`, and the committed
/// PrometheusRule is what `make-prometheusrule.sh` prints from `dashboards/alerts.yml`.
@Suite("deploy/ examples")
struct DeployManifestTests {
  static let packageRoot = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
  static let deploy = packageRoot + "/deploy"
  static let prometheusRule = "kubernetes/prometheusrule.yaml"

  /// Every file under `deploy/`, as paths relative to it, sorted.
  static var files: [String] {
    let manager = FileManager.default
    let all = (manager.enumerator(atPath: deploy)?.allObjects as? [String]) ?? []
    return all.filter { path in
      var isDirectory: ObjCBool = false
      return manager.fileExists(atPath: deploy + "/" + path, isDirectory: &isDirectory)
        && !isDirectory.boolValue
    }.sorted()
  }

  static var yamlFiles: [String] {
    files.filter { $0.hasSuffix(".yml") || $0.hasSuffix(".yaml") }
  }

  /// The first executable `name` on `PATH` or in the usual system folders, or nil.
  static func executable(_ name: String) -> String? {
    let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
    let folders = path.split(separator: ":").map(String.init) + ["/usr/bin", "/bin", "/usr/sbin"]
    return folders.map { $0 + "/" + name }.first {
      FileManager.default.isExecutableFile(atPath: $0)
    }
  }

  static var hasPyYAML: Bool {
    (try? run(["python3", "-c", "import yaml"]))?.status == 0
  }

  /// The `--flag`s written in `text`: `--[a-z][a-z.-]*`, less a trailing `.` or `-` (a sentence's
  /// end, as in "set --config.file.").
  static func flags(in text: String) -> Set<String> {
    Set(
      text.matches(of: #/--[a-z][a-z.-]*/#).map { match in
        var flag = Substring(match.output)
        while flag.hasSuffix(".") || flag.hasSuffix("-") { flag = flag.dropLast() }
        return String(flag)
      })
  }

  /// The flags that `--help` lists as options: on each line of its OPTIONS section that starts
  /// with `-`, the names before the description (which may mention other flags).
  static func optionFlags(inHelp help: String) -> Set<String> {
    var inOptions = false
    var listed: Set<String> = []
    for line in help.split(separator: "\n", omittingEmptySubsequences: false) {
      if line.hasPrefix("OPTIONS:") {
        inOptions = true
        continue
      }
      guard inOptions else { continue }
      let trimmed = line.drop { $0 == " " }
      guard trimmed.hasPrefix("-") else { continue }
      let names = trimmed.range(of: "  ").map { trimmed[..<$0.lowerBound] } ?? trimmed
      listed.formUnion(flags(in: String(names)))
    }
    return listed
  }

  @Test("every --flag under deploy/ is an option etcd-probe --help lists")
  func flagsAreListed() throws {
    let binary = try #require(
      EtcdProbeProcess.binaryPath, "etcd-probe is not built: run `swift build --build-tests` first")
    let help = try run([binary, "--help"])
    #expect(help.status == 0, "etcd-probe --help failed:\n\(help.output)")
    let listed = Self.optionFlags(inHelp: help.output)
    #expect(
      listed.contains("--help") && listed.contains("--listen-address"),
      "no options in:\n\(help.output)")

    // The PrometheusRule is dashboards/alerts.yml, whose runbooks quote etcd's and etcdctl's
    // flags (etcdctl --endpoints, etcd --quota-backend-bytes); what it says is checked there.
    var checked = 0
    for file in Self.files where file != Self.prometheusRule {
      let text = try String(contentsOfFile: Self.deploy + "/" + file, encoding: .utf8)
      for flag in Self.flags(in: text).sorted() where !listed.contains(flag) {
        Issue.record("deploy/\(file) passes \(flag), which etcd-probe --help does not list")
      }
      checked += 1
    }
    #expect(checked >= 10, "deploy/ holds only \(checked) files")
  }

  @Test(
    "every YAML file under deploy/ parses, and so does the clusters file inside the ConfigMap",
    .enabled(if: hasPyYAML, "python3 has no PyYAML (Debian: python3-yaml), which parses the files")
  )
  func yamlParses() throws {
    // Each file may hold several documents; a ConfigMap's `*.yml` data are YAML too.
    let script = """
      import sys, yaml
      failed = False
      for path in sys.argv[1:]:
          try:
              with open(path) as f:
                  documents = [d for d in yaml.safe_load_all(f) if d is not None]
              if not documents:
                  raise ValueError("no document")
              for document in documents:
                  if isinstance(document, dict) and document.get("kind") == "ConfigMap":
                      for key, value in (document.get("data") or {}).items():
                          if key.endswith((".yml", ".yaml")) and yaml.safe_load(value) is None:
                              raise ValueError("data." + key + " is empty")
          except Exception as error:
              failed = True
              print(path + ": " + str(error))
      sys.exit(1 if failed else 0)
      """
    let files = Self.yamlFiles
    #expect(files.count >= 10, "deploy/ holds only \(files.count) YAML files: \(files)")
    let result = try run(["python3", "-c", script] + files.map { Self.deploy + "/" + $0 })
    #expect(result.status == 0, "YAML that does not parse:\n\(result.output)")
  }

  @Test(
    "the systemd unit passes systemd-analyze verify and keeps a low exposure level",
    .enabled(
      if: executable("systemd-analyze") != nil, "systemd-analyze is not installed (Debian: systemd)"
    )
  )
  func systemdUnit() throws {
    let analyze = try #require(Self.executable("systemd-analyze"))
    // verify fails on an ExecStart= binary that does not exist, and /usr/local/bin/etcd-probe is
    // not installed here: a copy of the unit in a temporary folder runs the built probe instead
    // (or /bin/true when it is not built). Everything else is the committed unit.
    let directory =
      NSTemporaryDirectory() + "deploy-unit-\(getpid())-\(UUID().uuidString.prefix(8))"
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let unit = try String(
      contentsOfFile: Self.deploy + "/systemd/etcd-probe.service", encoding: .utf8)
    #expect(unit.contains("ExecStart=/usr/local/bin/etcd-probe "))
    let binary = EtcdProbeProcess.binaryPath ?? "/bin/true"
    let copy = directory + "/etcd-probe.service"
    try unit.replacingOccurrences(
      of: "ExecStart=/usr/local/bin/etcd-probe", with: "ExecStart=\(binary)"
    )
    .write(toFile: copy, atomically: true, encoding: .utf8)

    // verify exits 0 on an unknown key or a bad value too, and only warns: any word about the
    // unit fails the test. (Warnings about the host's own units are not this test's business.)
    let verify = try run([analyze, "verify", copy])
    #expect(verify.status == 0, "systemd-analyze verify:\n\(verify.output)")
    let aboutUnit = verify.output.split(separator: "\n").filter { $0.contains("etcd-probe") }
    #expect(aboutUnit.isEmpty, "systemd-analyze verify:\n\(aboutUnit.joined(separator: "\n"))")

    // The sandbox's overall exposure, 0 (none) to 10, as `systemd-analyze security` rates it.
    let security = try run([analyze, "security", "--offline=true", copy])
    #expect(security.status == 0, "systemd-analyze security:\n\(security.output)")
    let match = security.output.firstMatch(of: #/Overall exposure level for [^:]+: ([0-9.]+)/#)
    let level: Double = match.flatMap { Double(String($0.output.1)) } ?? 10
    #expect(level <= 2.0, "exposure level \(level), at most 2.0 expected:\n\(security.output)")
  }

  @Test(
    "the committed PrometheusRule is what make-prometheusrule.sh prints from dashboards/alerts.yml")
  func prometheusRuleInStep() throws {
    let result = try run(["bash", Self.deploy + "/kubernetes/make-prometheusrule.sh"])
    #expect(result.status == 0, "make-prometheusrule.sh failed:\n\(result.output)")
    let committed = try String(
      contentsOfFile: Self.deploy + "/" + Self.prometheusRule, encoding: .utf8)
    guard result.output != committed else { return }
    // The first line that differs, rather than two 500-line files.
    let fresh = result.output.split(separator: "\n", omittingEmptySubsequences: false)
    let old = committed.split(separator: "\n", omittingEmptySubsequences: false)
    let line =
      zip(fresh, old).enumerated().first { $0.element.0 != $0.element.1 }?.offset
      ?? min(fresh.count, old.count)
    Issue.record(
      """
      deploy/\(Self.prometheusRule) is not in step with dashboards/alerts.yml; at line \(line + 1):
        committed: \(line < old.count ? old[line] : "(end of file)")
        fresh run: \(line < fresh.count ? fresh[line] : "(end of file)")
      Run: deploy/kubernetes/make-prometheusrule.sh > deploy/\(Self.prometheusRule)
      """)
  }

  @Test(
    "the Prometheus configurations pass promtool check config",
    .enabled(if: executable("promtool") != nil, "promtool is not installed (Debian: prometheus)")
  )
  func prometheusConfigurations() throws {
    let promtool = try #require(Self.executable("promtool"))
    let configurations = Self.yamlFiles.filter { $0.hasPrefix("prometheus/") }
    #expect(!configurations.isEmpty)
    for file in configurations {
      // Syntax only: the certificate and password files they name exist on a Prometheus host.
      let check = try run([promtool, "check", "config", "--syntax-only", Self.deploy + "/" + file])
      #expect(check.status == 0, "promtool check config deploy/\(file):\n\(check.output)")
    }
  }
}
