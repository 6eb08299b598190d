import EtcdClient
import Foundation

extension ProbeClientSettings {
  /// The client configuration these settings give for `endpoints`: the deadlines, the TLS files and the user
  /// with its password. A cluster's probe and a `/probe` round start from it and add what is theirs.
  ///
  /// - Parameter owner: The cluster or module the settings belong to, for the error.
  /// - Throws: `ClusterProbeError` when the password file cannot be read.
  func clientConfiguration(endpoints: [String], owner: String) throws(ClusterProbeError)
    -> EtcdClient.Configuration
  {
    var configuration = EtcdClient.Configuration(endpoints: endpoints)
    configuration.dialTimeout = dialTimeout
    configuration.defaultRequestTimeout = timeout
    configuration.tls = tls.map(Self.tlsConfiguration)
    if let user {
      configuration.username = user
      configuration.password = try resolvedPassword(owner: owner)
    }
    return configuration
  }

  /// The password: read from `passwordFile` now when there is one (a file's final newline is not part of
  /// it), else as given.
  func resolvedPassword(owner: String) throws(ClusterProbeError) -> String {
    guard let file = passwordFile else {
      guard let password else {
        throw ClusterProbeError(cluster: owner, message: "no password given for user \(user ?? "")")
      }
      return password
    }
    guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
      throw ClusterProbeError(cluster: owner, message: "cannot read the password file \(file)")
    }
    return text.trimmingCharacters(in: .newlines)
  }

  /// The client's TLS settings for the configured files.
  static func tlsConfiguration(_ files: TLSFiles) -> EtcdClient.Configuration.TLS {
    var tls = EtcdClient.Configuration.TLS()
    // Rotated files are picked up at the next connection, and by the expiry read of the next round once
    // five seconds passed.
    tls.reloadCheckInterval = .seconds(5)
    if let ca = files.caFile { tls.trustRoots = .file(ca) }
    if let cert = files.certFile, let key = files.keyFile {
      tls.clientCertificate = .files(certificateChain: cert, privateKey: key)
    }
    tls.serverName = files.serverName
    tls.insecureSkipVerify = files.insecureSkipVerify
    return tls
  }
}
