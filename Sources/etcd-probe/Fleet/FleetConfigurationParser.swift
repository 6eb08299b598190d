import Foundation
import Yams

/// Why a clusters file cannot be used: every problem found, each naming the file, the entry and the field.
struct FleetConfigurationError: Error, Sendable, Equatable, CustomStringConvertible {
  /// One line per problem: `FILE: clusters[1] (prod-b).interval: must be above zero`.
  var problems: [String]

  var description: String { problems.joined(separator: "; ") }

  /// The text of a configuration file, or the error that says it cannot be read.
  static func readText(of file: String) throws(FleetConfigurationError) -> String {
    guard let data = FileManager.default.contents(atPath: file), let text = String(data: data, encoding: .utf8)
    else {
      throw FleetConfigurationError(problems: ["\(file): cannot be read as UTF-8 text"])
    }
    return text
  }
}

/// Reads a clusters file (YAML) into a ``FleetConfiguration``, checking all of it: a typo'd key, a duplicate
/// cluster name, an endpoint that does not parse, an unreadable TLS or password file and a zero duration are
/// errors, never ignored. Relative paths are taken from the file's folder. Pure but for the readability check
/// of the files it names, which is passed in.
///
/// ```yaml
/// clusters:
///   - name: prod-a
///     endpoints: ["10.0.0.1:2379", "https://10.0.0.2:2379"]
///     interval: 5s
///     tls: {ca_file: ca.pem, cert_file: client.pem, key_file: client-key.pem}
/// modules:
///   mtls: {timeout: 2s, tls: {ca_file: ca.pem}, target_pattern: '10\.0\.0\.[0-9]+:2379'}
/// ```
struct FleetConfigurationParser {
  /// The file's path, for messages and relative paths.
  let file: String
  /// What a cluster or module takes when its entry does not say.
  let defaults: ClusterDefaults
  /// Whether a named file can be read.
  var isReadable: (String) -> Bool = { FileManager.default.isReadableFile(atPath: $0) }

  static let clusterKeys: Set<String> = [
    "name", "endpoints", "discover", "tls", "user", "password_file", "interval", "timeout", "dial_timeout",
    "hash_interval", "key_prefix", "value_size", "operations",
  ]
  static let moduleKeys: Set<String> = [
    "timeout", "dial_timeout", "tls", "user", "password_file", "key_prefix", "value_size", "operations",
    "target_pattern",
  ]
  static let tlsKeys: Set<String> = ["ca_file", "cert_file", "key_file", "server_name", "insecure_skip_verify"]

  private final class Problems {
    var lines: [String] = []
  }

  /// Parses and checks `text`.
  ///
  /// - Throws: ``FleetConfigurationError`` listing every problem.
  func parse(_ text: String) throws(FleetConfigurationError) -> FleetConfiguration {
    let problems = Problems()
    func fail(_ place: String, _ message: String) { problems.lines.append("\(file): \(place)\(message)") }
    let root: Node?
    do {
      root = try Yams.compose(yaml: text)
    } catch {
      throw FleetConfigurationError(problems: ["\(file): not valid YAML: \(error)"])
    }
    guard let root, let top = root.mapping else {
      throw FleetConfigurationError(problems: ["\(file): must be a mapping with `clusters` (and `modules`)"])
    }
    checkKeys(top, allowed: ["clusters", "modules"], place: "", fail: fail)

    var clusters: [ClusterSettings] = []
    var seen: Set<String> = []
    if let list = top["clusters"] {
      if let entries = list.sequence {
        for (index, entry) in entries.enumerated() {
          if let cluster = parseCluster(entry, index: index, fail: fail) {
            if !seen.insert(cluster.name).inserted {
              fail("clusters[\(index)] (\(cluster.name)).name: ", "another cluster is named \(cluster.name)")
            }
            clusters.append(cluster)
          }
        }
      } else {
        fail("clusters: ", "must be a list")
      }
    }

    var modules: [String: ProbeModule] = [:]
    if let map = top["modules"] {
      if let entries = map.mapping {
        for (key, value) in entries {
          guard let name = key.string, !name.isEmpty else {
            fail("modules: ", "a module's name must be a non-empty string")
            continue
          }
          if let module = parseModule(value, name: name, fail: fail) { modules[name] = module }
        }
      } else {
        fail("modules: ", "must be a mapping of module names to modules")
      }
    }
    guard problems.lines.isEmpty else { throw FleetConfigurationError(problems: problems.lines) }
    return FleetConfiguration(clusters: clusters, modules: modules, defaults: defaults)
  }

  private func parseCluster(_ node: Node, index: Int, fail: (String, String) -> Void) -> ClusterSettings? {
    guard let map = node.mapping else {
      fail("clusters[\(index)]: ", "must be a mapping")
      return nil
    }
    let rawName = map["name"]?.string ?? ""
    let place = rawName.isEmpty ? "clusters[\(index)]" : "clusters[\(index)] (\(rawName))"
    checkKeys(map, allowed: Self.clusterKeys, place: place, fail: fail)
    if rawName.isEmpty { fail("\(place).name: ", "every cluster needs a name (its `cluster` label)") }

    var endpoints: [String] = []
    if let list = map["endpoints"]?.sequence {
      for node in list {
        guard let endpoint = node.string, EndpointLabel.of(endpoint) != nil else {
          fail("\(place).endpoints: ", "\(node.string.map { "'\($0)'" } ?? "an entry") is not host:port, "
            + "http://host:port or https://host:port")
          continue
        }
        endpoints.append(endpoint)
      }
      if list.isEmpty { fail("\(place).endpoints: ", "names no endpoint") }
    } else {
      fail("\(place).endpoints: ", map["endpoints"] == nil ? "is required" : "must be a list")
    }
    var settings = ClusterSettings(name: rawName, endpoints: endpoints, defaults: defaults)
    if let value = map["discover"] { bool(value, "\(place).discover", fail).map { settings.discover = $0 } }
    settings.interval = duration(map["interval"], "\(place).interval", fail) ?? settings.interval
    settings.hashInterval = duration(map["hash_interval"], "\(place).hash_interval", fail) ?? settings.hashInterval
    parseClient(map, place: place, into: &settings.client, fail: fail)
    return settings
  }

  private func parseModule(_ node: Node, name: String, fail: (String, String) -> Void) -> ProbeModule? {
    let place = "modules.\(name)"
    guard let map = node.mapping else {
      fail("\(place): ", "must be a mapping")
      return nil
    }
    checkKeys(map, allowed: Self.moduleKeys, place: place, fail: fail)
    var module = ProbeModule(name: name, defaults: defaults)
    parseClient(map, place: place, into: &module.client, fail: fail)
    if let value = map["target_pattern"] {
      if let pattern = value.string, (try? Regex(pattern)) != nil {
        module.targetPattern = pattern
      } else {
        fail("\(place).target_pattern: ", "is not a regular expression")
      }
    }
    return module
  }

  /// What clusters and modules both take.
  private func parseClient(
    _ map: Node.Mapping, place: String, into common: inout ProbeClientSettings, fail: (String, String) -> Void
  ) {
    common.timeout = duration(map["timeout"], "\(place).timeout", fail) ?? common.timeout
    common.dialTimeout = duration(map["dial_timeout"], "\(place).dial_timeout", fail) ?? common.dialTimeout
    if let value = map["tls"] { common.tls = tls(value, "\(place).tls", fail) }
    if let value = map["user"] {
      if let user = value.string, !user.isEmpty { common.user = user } else { fail("\(place).user: ", "must be a name") }
    }
    if let value = map["password_file"] { common.passwordFile = path(value, "\(place).password_file", fail) }
    if common.user != nil && common.passwordFile == nil && map["user"] != nil {
      fail("\(place).password_file: ", "is required with user")
    }
    if let value = map["key_prefix"] {
      if let prefix = value.string, !prefix.isEmpty { common.keyPrefix = prefix } else {
        fail("\(place).key_prefix: ", "must not be empty")
      }
    }
    if let value = map["value_size"] {
      if let size = value.string.flatMap({ Int($0) }), (0...1_000_000).contains(size) {
        common.valueSize = size
      } else {
        fail("\(place).value_size: ", "must be a number of bytes from 0 to 1000000")
      }
    }
    if let value = map["operations"] {
      guard let list = value.sequence else {
        fail("\(place).operations: ", "must be a list")
        return
      }
      var enabled: Set<ProbeMetrics.Operation> = []
      for node in list {
        guard let op = node.string.flatMap(ProbeMetrics.Operation.init(rawValue:)),
          ProbeOperations.configurable.contains(op)
        else {
          let names = ProbeOperations.configurable.map(\.rawValue).joined(separator: ", ")
          fail("\(place).operations: ", "'\(node.string ?? "?")' is not one of \(names)")
          continue
        }
        enabled.insert(op)
      }
      let operations = ProbeOperations(enabled)
      if let problem = operations.problem { fail("\(place).operations: ", problem) }
      if enabled.isEmpty { fail("\(place).operations: ", "names no operation") }
      common.operations = operations
    }
  }

  private func tls(_ node: Node, _ place: String, _ fail: (String, String) -> Void) -> TLSFiles? {
    guard let map = node.mapping else {
      fail("\(place): ", "must be a mapping")
      return nil
    }
    checkKeys(map, allowed: Self.tlsKeys, place: place, fail: fail)
    var files = TLSFiles()
    files.caFile = map["ca_file"].flatMap { path($0, "\(place).ca_file", fail) }
    files.certFile = map["cert_file"].flatMap { path($0, "\(place).cert_file", fail) }
    files.keyFile = map["key_file"].flatMap { path($0, "\(place).key_file", fail) }
    files.serverName = map["server_name"]?.string
    if let value = map["insecure_skip_verify"] {
      files.insecureSkipVerify = bool(value, "\(place).insecure_skip_verify", fail) ?? false
    }
    if (files.certFile == nil) != (files.keyFile == nil) {
      fail("\(place): ", "cert_file and key_file go together")
    }
    return files
  }

  /// An absolute path to a readable file, relative paths taken from the clusters file's folder.
  private func path(_ node: Node, _ place: String, _ fail: (String, String) -> Void) -> String? {
    guard let written = node.string, !written.isEmpty else {
      fail("\(place): ", "must be a file path")
      return nil
    }
    let resolved =
      written.hasPrefix("/")
      ? written : URL(fileURLWithPath: file).deletingLastPathComponent().appendingPathComponent(written).path
    guard isReadable(resolved) else {
      fail("\(place): ", "cannot read \(resolved)")
      return nil
    }
    return resolved
  }

  private func duration(_ node: Node?, _ place: String, _ fail: (String, String) -> Void) -> Duration? {
    guard let node else { return nil }
    guard let text = node.string, let nanoseconds = DurationArgument.parse(text) else {
      fail("\(place): ", "must be a duration above zero, such as 5s, 500ms or 1m30s")
      return nil
    }
    return .nanoseconds(nanoseconds)
  }

  private func bool(_ node: Node, _ place: String, _ fail: (String, String) -> Void) -> Bool? {
    switch node.string?.lowercased() {
    case "true": return true
    case "false": return false
    default:
      fail("\(place): ", "must be true or false")
      return nil
    }
  }

  private func checkKeys(
    _ map: Node.Mapping, allowed: Set<String>, place: String, fail: (String, String) -> Void
  ) {
    for key in map.keys {
      guard let name = key.string, allowed.contains(name) else {
        let prefix = place.isEmpty ? "" : "\(place)."
        fail("\(prefix)\(key.string ?? "?"): ", "unknown field (known: \(allowed.sorted().joined(separator: ", ")))")
        continue
      }
    }
  }
}
