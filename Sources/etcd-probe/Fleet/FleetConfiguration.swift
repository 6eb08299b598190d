import Foundation

/// What the probe watches: its clusters, and the modules `/probe` may use. Read from `--config.file`
/// (``FleetConfigurationParser``) or made from the flags for one cluster. A pure value.
struct FleetConfiguration: Sendable, Equatable {
  /// The clusters probed continuously, in the file's order; names are unique.
  var clusters: [ClusterSettings]
  /// The modules of `/probe`, by name; `default` is always there.
  var modules: [String: ProbeModule]

  /// A configuration of `clusters` and the built-in default module made from `defaults`.
  init(clusters: [ClusterSettings], modules: [String: ProbeModule] = [:], defaults: ClusterDefaults) {
    self.clusters = clusters
    self.modules = modules
    if self.modules[ProbeModule.defaultName] == nil {
      self.modules[ProbeModule.defaultName] = ProbeModule(name: ProbeModule.defaultName, defaults: defaults)
    }
  }
}

/// The operations a probe runs, as their `op` label values. `member_list` always runs (it drives discovery).
struct ProbeOperations: Sendable, Equatable {
  /// The operations a file may name.
  static let configurable: [ProbeMetrics.Operation] = [
    .put, .get, .getSerializable, .delete, .watch, .status, .hashKV,
  ]
  /// Every configurable operation: the default.
  static let all = ProbeOperations(Set(configurable))

  /// The operations enabled.
  var enabled: Set<ProbeMetrics.Operation>

  init(_ enabled: Set<ProbeMetrics.Operation>) { self.enabled = enabled }

  /// Whether `op` runs.
  func contains(_ op: ProbeMetrics.Operation) -> Bool { op == .memberList || enabled.contains(op) }

  /// Why this set cannot run, or nil: the watch and the delete check the probe's own put.
  var problem: String? {
    for op in [ProbeMetrics.Operation.watch, .delete] where enabled.contains(op) && !enabled.contains(.put) {
      return "\(op.rawValue) needs put: it checks the probe's own write"
    }
    return nil
  }
}

/// TLS files of a cluster or module, as etcdctl names them. Paths are absolute once parsed.
struct TLSFiles: Sendable, Equatable {
  /// The CA bundle that verifies servers.
  var caFile: String?
  /// The client certificate, for mutual TLS.
  var certFile: String?
  /// The client certificate's key.
  var keyFile: String?
  /// The name servers' certificates must hold, also sent as SNI.
  var serverName: String?
  /// Skip server verification (tests only).
  var insecureSkipVerify = false
}

/// Settings every cluster takes from the flags unless its entry sets them.
struct ClusterDefaults: Sendable, Equatable {
  var discover = true
  var interval: Duration = .seconds(5)
  var timeout: Duration = .seconds(2)
  var dialTimeout: Duration = .seconds(2)
  var hashInterval: Duration = .seconds(60)
  var keyPrefix = "/etcd-probe/"
  var valueSize = 256
  var tls: TLSFiles?
  var user: String?
  var passwordFile: String?
}

/// How a probe talks to etcd and what it does there: what clusters and `/probe` modules both take.
struct ProbeClientSettings: Sendable, Equatable {
  var tls: TLSFiles?
  var user: String?
  /// The file holding `user`'s password.
  var passwordFile: String?
  /// `user`'s password when it does not come from a file (the flags' `ETCD_PROBE_PASSWORD`).
  var password: String?
  /// The deadline of each operation.
  var timeout: Duration
  /// The deadline of each connection attempt.
  var dialTimeout: Duration
  var keyPrefix: String
  var valueSize: Int
  var operations: ProbeOperations

  /// The settings of the flags.
  init(defaults: ClusterDefaults, operations: ProbeOperations = .all) {
    tls = defaults.tls
    user = defaults.user
    passwordFile = defaults.passwordFile
    timeout = defaults.timeout
    dialTimeout = defaults.dialTimeout
    keyPrefix = defaults.keyPrefix
    valueSize = defaults.valueSize
    self.operations = operations
  }
}

/// How the probe watches one cluster. Two equal settings probe the same way, so a reload restarts exactly the
/// clusters whose settings changed. The client settings read as its own (`settings.timeout`).
@dynamicMemberLookup
struct ClusterSettings: Sendable, Equatable {
  /// The `cluster` label.
  var name: String
  /// The endpoints, one per member as written (`host:port`, `http://…`, `https://…`).
  var endpoints: [String]
  /// Whether the members probed follow the cluster's member list.
  var discover: Bool
  var interval: Duration
  var hashInterval: Duration
  var client: ProbeClientSettings

  /// Settings of `name` at `endpoints`, everything else from `defaults`.
  init(name: String, endpoints: [String], defaults: ClusterDefaults, operations: ProbeOperations = .all) {
    self.name = name
    self.endpoints = endpoints
    discover = defaults.discover
    interval = defaults.interval
    hashInterval = defaults.hashInterval
    client = ProbeClientSettings(defaults: defaults, operations: operations)
  }

  subscript<T>(dynamicMember path: WritableKeyPath<ProbeClientSettings, T>) -> T {
    get { client[keyPath: path] }
    set { client[keyPath: path] = newValue }
  }
}

/// How `/probe` probes a target it is given: one round of a module's operations, within its timeout. The
/// client settings read as its own (`module.timeout`).
@dynamicMemberLookup
struct ProbeModule: Sendable, Equatable {
  /// The module that exists without being written.
  static let defaultName = "default"

  var name: String
  var client: ProbeClientSettings
  /// A regular expression every `host:port` of a target must match whole; nil accepts any target.
  var targetPattern: String?

  /// The module `name` with the flags' settings (all operations but `hash_kv`, which needs several members).
  init(name: String, defaults: ClusterDefaults) {
    self.name = name
    client = ProbeClientSettings(
      defaults: defaults, operations: ProbeOperations(ProbeOperations.all.enabled.subtracting([.hashKV])))
  }

  subscript<T>(dynamicMember path: WritableKeyPath<ProbeClientSettings, T>) -> T {
    get { client[keyPath: path] }
    set { client[keyPath: path] = newValue }
  }

  /// Whether the module accepts `target` (a `host:port`).
  func accepts(_ target: String) -> Bool {
    guard let targetPattern else { return true }
    guard let regex = try? Regex(targetPattern) else { return false }
    return (try? regex.wholeMatch(in: target)) != nil
  }
}
