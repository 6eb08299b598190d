import ArgumentParser
import EtcdClient
import EtcdMetrics
import Foundation
import Logging
import ServiceLifecycle

/// `etcd-probe`: probes every member of an etcd cluster, and the cluster as a whole, and serves the results on
/// `/metrics` for Prometheus.
@main
struct ProbeCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "etcd-probe",
    abstract: "Continuously probes etcd clusters, member by member, and serves the results on /metrics.",
    discussion: """
      Every --interval, for each endpoint (a client per member, so a slow or dead member shows by name) and for \
      the cluster as a whole (a client over all endpoints): put a --value-size value under --key-prefix, \
      attached to a lease so probe keys always expire; measure when its event arrives on a watch held open on \
      that endpoint; read it linearizably and serializably; delete it; and read the member's status. Every \
      --hash-interval, compare every member's HashKV at one revision.

      Every answer is checked, not only that the call returned: a read must return the value just written at \
      its revision, the watch must deliver that put in order, the delete must delete one key. With --discover \
      (the default) the members probed follow the cluster's member list.

      Unreachable endpoints do not stop the probe: their failures are counted with their code, logged once \
      when they start and once when they end, and probing resumes when they return. /readyz answers 503 \
      while no round has completed recently (?verbose says why); /status lists the last rounds' results \
      with their errors (?target=host:port for one member). Bad flags exit with status 64.

      With --config.file, probes every cluster of a YAML clusters file (each series labelled with its \
      `cluster`), and reloads the file on SIGHUP and on POST /-/reload: a file with any error changes nothing. \
      The flags then give what a cluster's entry does not say. Without it, the flags describe one cluster, \
      named by --cluster-name.

      GET /probe?target=host:port[,host:port...]&module=NAME runs one round against that target now and \
      answers with that round's metrics only (probe_success, probe_duration_seconds, per operation), for \
      Prometheus' relabeling as with blackbox_exporter; modules come from the clusters file. \
      --web.config.file protects every path with HTTPS and basic auth (exporter-toolkit's format).

      With no --endpoints and no --config.file, starts a throwaway local etcd (the `etcd` on PATH) in a temporary directory, probes \
      it, and removes it on exit.

      Every flag can also be set with an environment variable: ETCD_PROBE_ and the flag's name in upper case \
      with underscores (ETCD_PROBE_ENDPOINTS, ETCD_PROBE_LISTEN_ADDRESS, ...). The password of --user comes from \
      ETCD_PROBE_PASSWORD or --password-file, never from the command line, and is never logged.
      """
  )

  /// The duration flags' defaults, each shown in its flag's help.
  enum Defaults {
    static let dialTimeout = DurationArgument(.seconds(2), "2s")
    static let interval = DurationArgument(.seconds(5), "5s")
    static let timeout = DurationArgument(.seconds(2), "2s")
    static let hashInterval = DurationArgument(.seconds(60), "60s")
  }

  @Option(
    name: .long, parsing: .singleValue,
    help: "etcd endpoints, comma separated (host:port, http://host:port or https://host:port).")
  var endpoints: [String] = []

  @Option(
    name: .customLong("config.file"),
    help: "A YAML clusters file: every cluster to probe, and the modules of /probe. Reloaded on SIGHUP.")
  var configFile: String?

  @Option(help: "The `cluster` label of the cluster the flags describe (without --config.file).")
  var clusterName = "default"

  @Option(
    name: .customLong("web.config.file"),
    help: """
      A web config file in Prometheus exporter-toolkit's format: HTTPS (tls_server_config) and basic auth \
      (basic_auth_users, bcrypt hashes) for every path the probe serves.
      """)
  var webConfigFile: String?

  @Option(
    name: .customLong("web.max-connections"),
    help: "The most connections the HTTP server holds open; past it new ones wait to be accepted.")
  var webMaxConnections = ServerDefaults.configuration.maxConnections

  @Option(
    name: .customLong("web.max-connections-per-address"),
    help: "The most connections one client address may hold open (0: no limit); more are closed at once.")
  var webMaxConnectionsPerAddress = ServerDefaults.configuration.maxConnectionsPerAddress

  @Option(
    name: .customLong("web.request-head-timeout"), parsing: .unconditional,
    help: .duration(
      """
      Time a connection has to send a complete request head, from its start or its previous request's end; \
      slower or idle connections are closed.
      """, default: ServerDefaults.requestHeadTimeout),
    transform: DurationArgument.flag)
  var webRequestHeadTimeout = ServerDefaults.requestHeadTimeout

  @Option(
    name: .customLong("web.response-send-timeout"), parsing: .unconditional,
    help: .duration(
      "Time the HTTP server has to send a response; the connection of a slower reader is closed.",
      default: ServerDefaults.responseSendTimeout),
    transform: DurationArgument.flag)
  var webResponseSendTimeout = ServerDefaults.responseSendTimeout

  @Option(
    help: """
      The client's own per-RPC metrics (grpc_client_*): per-endpoint (an etcd_endpoint label, about 230 KB of \
      /metrics per endpoint), aggregate (per method only: the same size for any fleet) or off.
      """)
  var clientMetrics: ClientMetrics = .perEndpoint

  @Option(
    name: .customLong("otlp-endpoint"),
    help: """
      Export a span per client call (etcdserverpb.KV/Put, ...) with OTLP/HTTP and protobuf to this URL, as \
      is (e.g. http://collector:4318/v1/traces); the calls send their W3C traceparent to etcd. Off when not \
      given. Needs a probe built with `swift build --traits OTLP`.
      """)
  var otlpEndpoint: String?

  @Option(
    name: .customLong("probe.concurrency"),
    help: "The most /probe rounds run at once; more get 503.")
  var probeConcurrency = 4

  @Option(
    parsing: .unconditional,
    help: .duration("Dial timeout of each connection attempt (e.g. 2s, 500ms).", default: Defaults.dialTimeout),
    transform: DurationArgument.flag)
  var dialTimeout = Defaults.dialTimeout

  @Option(help: "CA bundle to verify TLS servers with (PEM).")
  var cacert: String?

  @Option(help: "Client certificate for mutual TLS (PEM).")
  var cert: String?

  @Option(help: "Client private key for mutual TLS (PEM).")
  var key: String?

  @Flag(help: "Skip TLS server verification. For tests only.")
  var insecureSkipTLSVerify = false

  @Option(help: "User to authenticate as (its password from ETCD_PROBE_PASSWORD or --password-file).")
  var user: String?

  @Option(help: "File holding the password of --user.")
  var passwordFile: String?

  @Option(help: "Address to serve /metrics, /healthz, /readyz, /status, /probe and /-/reload on (host:port).")
  var listenAddress = "0.0.0.0:9379"

  @Option(
    parsing: .unconditional, help: .duration("Time between probe rounds.", default: Defaults.interval),
    transform: DurationArgument.flag)
  var interval = Defaults.interval

  @Option(
    parsing: .unconditional, help: .duration("Deadline of each probe operation.", default: Defaults.timeout),
    transform: DurationArgument.flag)
  var timeout = Defaults.timeout

  @Option(help: "Prefix of the keys the probe writes.")
  var keyPrefix = "/etcd-probe/"

  @Option(help: "Size of the value the probe writes, in bytes (0 to 1000000).")
  var valueSize = 256

  @Option(
    parsing: .unconditional,
    help: .duration("Time between consistency checks (HashKV of every member).", default: Defaults.hashInterval),
    transform: DurationArgument.flag)
  var hashInterval = Defaults.hashInterval

  @Option(help: "Log level: trace, debug, info, notice, warning, error or critical.")
  var logLevel = "info"

  @Option(help: "Stop after this many rounds (0: run until SIGINT or SIGTERM).")
  var rounds = 0

  @Option(
    help: """
      Follow the cluster's member list (true) or probe exactly --endpoints (false). When following, every \
      started member's advertised client URL is probed, new members within two intervals, and removed \
      members' series leave /metrics.
      """)
  var discover = true

  mutating func validate() throws {
    guard valueSize >= 0, valueSize <= 1_000_000 else {
      throw ValidationError("--value-size must be between 0 and 1000000")
    }
    guard rounds >= 0 else { throw ValidationError("--rounds must not be negative") }
    guard !keyPrefix.isEmpty else { throw ValidationError("--key-prefix must not be empty") }
    guard (cert == nil) == (key == nil) else { throw ValidationError("--cert and --key go together") }
    guard Logger.Level(rawValue: logLevel) != nil else {
      throw ValidationError("--log-level must be trace, debug, info, notice, warning, error or critical")
    }
    guard configFile == nil || endpoints.isEmpty else {
      throw ValidationError("--endpoints and --config.file do not go together: list the endpoints in the file")
    }
    guard probeConcurrency >= 1 else { throw ValidationError("--probe.concurrency must be at least 1") }
    guard webMaxConnections >= 1 else { throw ValidationError("--web.max-connections must be at least 1") }
    guard webMaxConnectionsPerAddress >= 0 else {
      throw ValidationError("--web.max-connections-per-address must not be negative")
    }
    guard !clusterName.isEmpty else { throw ValidationError("--cluster-name must not be empty") }
    guard ListenAddress(listenAddress) != nil else {
      throw ValidationError("--listen-address must be host:port, e.g. 0.0.0.0:9379")
    }
    if let otlpEndpoint {
      guard OTLPSpanExport.isBuilt else { throw ValidationError(OTLPSpanExport.notBuiltMessage) }
      guard otlpEndpoint.hasPrefix("http://") || otlpEndpoint.hasPrefix("https://") else {
        throw ValidationError("--otlp-endpoint must be an http:// or https:// URL")
      }
    }
  }

  static func main() async {
    do {
      var command = try parseAsRoot(ProbeEnvironment.arguments())
      if let probe = command as? Self {
        try await probe.run()
      } else {
        try command.run()  // --help, --version and the like
      }
    } catch {
      exit(withError: error)
    }
  }

  func run() async throws {
    LoggingSystem.bootstrap { label in
      var handler = StreamLogHandler.standardError(label: label)
      handler.logLevel = Logger.Level(rawValue: logLevel) ?? .info
      return handler
    }
    let logger = Logger(label: "etcd-probe")

    let defaults = try clusterDefaults()
    var webConfiguration: WebConfigFile?
    if let webConfigFile {
      do {
        webConfiguration = try WebConfigFile.read(webConfigFile)
      } catch {
        throw ValidationError(error.description)
      }
    }
    let registry = MetricsRegistry()
    let interceptors: [any ClientInterceptor] =
      switch clientMetrics {
      case .perEndpoint: [RPCMetricsInterceptor(registry: registry)]
      case .aggregate: [RPCMetricsInterceptor(registry: registry, options: .init(endpointLabel: false))]
      case .off: []
      }
    let spanExport = try otlpEndpoint.map { try OTLPSpanExport(endpoint: $0, logger: logger) }
    let shared = ClusterProbe.Shared(
      families: ProbeMetricFamilies(registry: registry), interceptors: interceptors,
      tracer: spanExport?.tracer, logger: logger)
    let statusPages = FleetStatusPages()
    let fleet = ProbeFleet(shared: shared, pages: statusPages, rounds: rounds)
    let modules = ModuleTable([:])

    var local: LocalEtcdServer?
    defer { local?.stop() }
    var reloader: FleetReloader?
    let configuration: FleetConfiguration
    if let configFile {
      let fileReloader = FleetReloader(
        file: configFile, defaults: defaults, fleet: fleet, logger: logger, registry: registry, modules: modules)
      do {
        configuration = try fileReloader.read()
      } catch {
        throw ValidationError(error.problems.joined(separator: "\n"))
      }
      fileReloader.lastReloadSuccessful.set(1)
      fileReloader.lastReloadSuccessTimestamp.set(Date().timeIntervalSince1970)
      reloader = fileReloader
    } else {
      var endpoints = try memberEndpoints()
      if endpoints.isEmpty {
        let server = try await LocalEtcdServer()
        local = server
        endpoints = [server.endpoint]
        logger.notice(
          "no --endpoints given: started a throwaway local etcd",
          metadata: ["endpoint": "\(server.endpoint)", "directory": "\(server.directory)"])
      }
      var settings = ClusterSettings(name: clusterName, endpoints: endpoints, defaults: defaults)
      if user != nil && passwordFile == nil { settings.password = try password() }
      configuration = FleetConfiguration(clusters: [settings], defaults: defaults)
    }
    do {
      _ = try await fleet.apply(configuration)
    } catch {
      throw ValidationError(error.description)
    }
    modules.replace(configuration.modules)

    guard let address = ListenAddress(listenAddress) else { throw ValidationError("bad --listen-address") }
    var serverConfiguration = MetricsServer.Configuration(host: address.host, port: address.port)
    // Each /probe round holds a server thread: scrapes of /metrics keep two of their own.
    serverConfiguration.threadCount = 2 + probeConcurrency
    serverConfiguration.maxConnections = webMaxConnections
    serverConfiguration.maxConnectionsPerAddress = webMaxConnectionsPerAddress
    serverConfiguration.requestHeadTimeout = webRequestHeadTimeout.duration
    serverConfiguration.responseSendTimeout = webResponseSendTimeout.duration
    webConfiguration?.apply(to: &serverConfiguration)
    let probePage = ProbePage(modules: modules, limit: probeConcurrency, registry: registry, logger: logger)
    serverConfiguration.pages = statusPages.pages + [ReloadPage.page(reloader: reloader), probePage.page]
    let server = MetricsServer(registry: registry, configuration: serverConfiguration)
    do {
      try server.start()
    } catch {
      await fleet.stopAll()
      throw ValidationError("cannot serve /metrics on \(listenAddress): \(error)")
    }
    logger.notice(
      "serving /metrics",
      metadata: [
        "address": "\(address.host):\(server.port ?? address.port)",
        "clusters": "\(configuration.clusters.map { "\($0.name) \($0.endpoints)" })",
      ])

    // Shut down in reverse order: the fleet first, then the server, then the span export, which
    // sends the fleet's last spans.
    var services: [ServiceGroupConfiguration.ServiceConfiguration] = []
    if let spanExport { services.append(.init(service: spanExport.service)) }
    services += [
      // Started above.
      .init(service: server),
      .init(
        service: FleetService(fleet: fleet, reloader: reloader, runsForever: rounds == 0),
        successTerminationBehavior: .gracefullyShutdownGroup),
    ]
    let group = ServiceGroup(
      configuration: .init(
        services: services,
        gracefulShutdownSignals: [.sigterm, .sigint],
        logger: logger
      ))
    try await group.run()
    server.stop()
    logger.notice("stopped")
  }

  /// What every cluster takes from the flags.
  private func clusterDefaults() throws -> ClusterDefaults {
    var defaults = ClusterDefaults()
    defaults.discover = discover
    defaults.interval = interval.duration
    defaults.timeout = timeout.duration
    defaults.dialTimeout = dialTimeout.duration
    defaults.hashInterval = hashInterval.duration
    defaults.keyPrefix = keyPrefix
    defaults.valueSize = valueSize
    if cacert != nil || cert != nil || insecureSkipTLSVerify {
      defaults.tls = TLSFiles(
        caFile: cacert, certFile: cert, keyFile: key, insecureSkipVerify: insecureSkipTLSVerify)
    }
    defaults.user = user
    defaults.passwordFile = passwordFile
    if let passwordFile, !FileManager.default.isReadableFile(atPath: passwordFile) {
      throw ValidationError("cannot read --password-file \(passwordFile)")
    }
    return defaults
  }

  /// The endpoints of --endpoints, one per member (`http://a:2379` and `a:2379` are one member); empty when
  /// the flag was not given.
  ///
  /// - Throws: `ValidationError` when the flag was given but names no endpoint.
  private func memberEndpoints() throws -> [String] {
    let written = endpoints.flatMap { $0.split(separator: ",").map(String.init) }
      .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    if written.isEmpty && !endpoints.isEmpty {
      throw ValidationError("--endpoints names no endpoint; leave it out to probe a throwaway local etcd")
    }
    var seen: Set<String> = []
    return written.filter { seen.insert(EndpointLabel.of($0) ?? $0).inserted }
  }

  private func password() throws -> String {
    if let password = ProcessInfo.processInfo.environment["ETCD_PROBE_PASSWORD"] { return password }
    throw ValidationError("--user needs a password: set ETCD_PROBE_PASSWORD or --password-file")
  }
}

/// What `--client-metrics` records of the probe's own RPCs.
enum ClientMetrics: String, ExpressibleByArgument, CaseIterable, Sendable {
  case perEndpoint = "per-endpoint"
  case aggregate
  case off
}

/// `host:port` of --listen-address.
struct ListenAddress {
  let host: String
  let port: Int

  init?(_ text: String) {
    guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
      (0...65535).contains(port)
    else { return nil }
    var host = String(text[..<colon])
    if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
    self.host = host.isEmpty ? "0.0.0.0" : host
    self.port = port
  }
}

/// The metrics server's defaults, which the `--web.*` connection flags start from.
enum ServerDefaults {
  static let configuration = MetricsServer.Configuration(host: "0.0.0.0", port: 0)

  /// `--web.request-head-timeout`'s default: the server's.
  static let requestHeadTimeout = duration(configuration.requestHeadTimeout)
  /// `--web.response-send-timeout`'s default: the server's.
  static let responseSendTimeout = duration(configuration.responseSendTimeout)

  /// A default duration as a flag value, in whole seconds.
  static func duration(_ duration: Duration) -> DurationArgument {
    DurationArgument(duration, "\(duration.components.seconds)s")
  }
}

/// Flags from the environment: `ETCD_PROBE_<FLAG>` for each flag not given on the command line.
enum ProbeEnvironment {
  static let flags = [
    "endpoints", "config.file", "cluster-name", "probe.concurrency", "web.config.file", "web.max-connections",
    "web.max-connections-per-address", "web.request-head-timeout", "web.response-send-timeout", "client-metrics", "dial-timeout", "cacert", "cert", "key", "user", "password-file", "listen-address",
    "interval", "timeout", "key-prefix", "value-size", "hash-interval", "log-level", "rounds", "discover",
  ]

  static func arguments() -> [String] {
    var arguments = Array(CommandLine.arguments.dropFirst())
    let environment = ProcessInfo.processInfo.environment
    for flag in flags {
      let variable =
        "ETCD_PROBE_" + flag.uppercased().replacingOccurrences(of: "-", with: "_").replacingOccurrences(of: ".", with: "_")
      guard let value = environment[variable], !value.isEmpty,
        !arguments.contains(where: { $0 == "--\(flag)" || $0.hasPrefix("--\(flag)=") })
      else { continue }
      arguments += ["--\(flag)", value]
    }
    if environment["ETCD_PROBE_INSECURE_SKIP_TLS_VERIFY"] == "true",
      !arguments.contains("--insecure-skip-tls-verify")
    {
      arguments.append("--insecure-skip-tls-verify")
    }
    return arguments
  }
}
