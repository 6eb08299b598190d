import EtcdMetrics
import Foundation
import Yams

/// `--web.config.file`: how the probe's own HTTP endpoints are protected, in the format of Prometheus'
/// exporter-toolkit, so one file serves every exporter of a host:
///
/// ```yaml
/// tls_server_config:
///   cert_file: server.pem
///   key_file: server-key.pem
///   client_ca_file: clients-ca.pem        # optional
///   client_auth_type: RequireAndVerifyClientCert
///   min_version: TLS12
/// basic_auth_users:
///   prometheus: $2y$10$...                # bcrypt, as `htpasswd -nBC 10 prometheus` prints it
/// ```
///
/// Relative paths are taken from the file's folder; an unknown key is an error. Read once at start.
struct WebConfigFile: Sendable, Equatable {
  /// HTTPS, or nil for plain HTTP.
  var tls: TLSSettings?
  /// Users and their bcrypt hashes; empty for no authentication.
  var basicAuthUsers: [String: String] = [:]

  /// The `tls_server_config` section.
  struct TLSSettings: Sendable, Equatable {
    var certFile: String
    var keyFile: String
    var clientCAFile: String?
    var clientAuthType: String?
    var minVersion: String?
  }

  static let keys: Set<String> = ["tls_server_config", "basic_auth_users"]
  static let tlsKeys: Set<String> = ["cert_file", "key_file", "client_ca_file", "client_auth_type", "min_version"]

  /// Parses `text`, the contents of `file`.
  ///
  /// - Throws: ``FleetConfigurationError`` naming the file and the field.
  static func parse(_ text: String, file: String) throws(FleetConfigurationError) -> WebConfigFile {
    func failure(_ message: String) -> FleetConfigurationError {
      FleetConfigurationError(problems: ["\(file): \(message)"])
    }
    let root: Node?
    do {
      root = try Yams.compose(yaml: text)
    } catch {
      throw failure("not valid YAML: \(error)")
    }
    guard let root else { return WebConfigFile() }
    guard let map = root.mapping else { throw failure("must be a mapping") }
    for key in map.keys where !keys.contains(key.string ?? "") {
      throw failure("\(key.string ?? "?"): unknown field (known: \(keys.sorted().joined(separator: ", ")))")
    }
    var web = WebConfigFile()
    let folder = URL(fileURLWithPath: file).deletingLastPathComponent()
    func path(_ written: String) -> String {
      written.hasPrefix("/") ? written : folder.appendingPathComponent(written).path
    }
    if let section = map["tls_server_config"] {
      guard let tls = section.mapping else { throw failure("tls_server_config: must be a mapping") }
      for key in tls.keys where !tlsKeys.contains(key.string ?? "") {
        throw failure(
          "tls_server_config.\(key.string ?? "?"): unknown field (known: \(tlsKeys.sorted().joined(separator: ", ")))")
      }
      guard let cert = tls["cert_file"]?.string, let key = tls["key_file"]?.string else {
        throw failure("tls_server_config: cert_file and key_file are required")
      }
      web.tls = TLSSettings(
        certFile: path(cert), keyFile: path(key), clientCAFile: tls["client_ca_file"]?.string.map(path),
        clientAuthType: tls["client_auth_type"]?.string, minVersion: tls["min_version"]?.string)
      if let type = web.tls?.clientAuthType,
        MetricsServer.Configuration.TLS.ClientAuthentication(exporterToolkitName: type) == nil
      {
        throw failure("tls_server_config.client_auth_type: '\(type)' is not a client auth type")
      }
      if let version = web.tls?.minVersion, MetricsServer.Configuration.TLS.Version(exporterToolkitName: version) == nil {
        throw failure("tls_server_config.min_version: '\(version)' is not TLS10, TLS11, TLS12 or TLS13")
      }
    }
    if let section = map["basic_auth_users"] {
      guard let users = section.mapping else { throw failure("basic_auth_users: must be a mapping of users to hashes") }
      for (user, hash) in users {
        guard let name = user.string, !name.isEmpty, let hash = hash.string, !hash.isEmpty else {
          throw failure("basic_auth_users: every user needs a name and a bcrypt hash")
        }
        web.basicAuthUsers[name] = hash
      }
    }
    return web
  }

  /// Reads and parses `file`.
  static func read(_ file: String) throws(FleetConfigurationError) -> WebConfigFile {
    try parse(FleetConfigurationError.readText(of: file), file: file)
  }

  /// Puts the settings on the server's configuration.
  func apply(to configuration: inout MetricsServer.Configuration) {
    if let tls {
      var settings = MetricsServer.Configuration.TLS(certificate: .file(tls.certFile), privateKey: .file(tls.keyFile))
      if let ca = tls.clientCAFile { settings.clientCA = .file(ca) }
      if let type = tls.clientAuthType.flatMap({
        MetricsServer.Configuration.TLS.ClientAuthentication(exporterToolkitName: $0)
      }) {
        settings.clientAuthentication = type
      } else if tls.clientCAFile != nil {
        settings.clientAuthentication = .requireAndVerifyClientCert
      }
      if let version = tls.minVersion.flatMap({ MetricsServer.Configuration.TLS.Version(exporterToolkitName: $0) }) {
        settings.minimumVersion = version
      }
      configuration.tls = settings
    }
    configuration.basicAuthUsers = basicAuthUsers
  }
}
