import Foundation
import Testing

@testable import EtcdClient

/// Certificate rotation against a real etcd with mutual TLS: the client's files are replaced while it runs, and
/// etcd is restarted to make the client connect again.
///
/// etcd reads `--trusted-ca-file` once, so it trusts both client CAs from the start (`ca` and `otherCA`); it
/// reads `--cert-file` at every handshake, so its own certificate can be rotated too. The client first trusts
/// `ca` only and presents `client` (signed by `ca`); the rotation gives it `newClient` (signed by `otherCA`,
/// valid two days longer) and a CA file holding both CAs.
@Suite("TLS file reload against a real etcd", .serialized)
struct TLSReloadTests {
  /// The files one test works with: copies that the test replaces, plus the new certificates.
  struct Setup {
    let certificates: TestCertificates
    /// The client's live files.
    let caFile: String
    let certificateFile: String
    let keyFile: String
    /// etcd's live serving certificate and key.
    let serverCertificateFile: String
    let serverKeyFile: String
    /// The CAs etcd trusts for client certificates: `ca` and `otherCA`.
    let clientCAsFile: String
    /// A client certificate signed by `otherCA`, valid 5 days (the others: 3).
    let newClient: TestCertificates.Pair
    /// A server certificate signed by `ca`, valid 4 days.
    let newServer: TestCertificates.Pair

    init(_ certificates: TestCertificates) throws {
      self.certificates = certificates
      let directory = certificates.directory
      caFile = directory + "/live-ca.pem"
      certificateFile = directory + "/live-client.crt"
      keyFile = directory + "/live-client.key"
      serverCertificateFile = directory + "/live-server.crt"
      serverKeyFile = directory + "/live-server.key"
      clientCAsFile = directory + "/client-cas.pem"
      newClient = TestCertificates.Pair(
        certificate: directory + "/new-client.crt", key: directory + "/new-client.key")
      newServer = TestCertificates.Pair(
        certificate: directory + "/new-server.crt", key: directory + "/new-server.key")
      try Self.sign(
        newClient, name: "etcd-swift rotated client", by: certificates.otherCA, days: 5, extensions: "client_ext",
        directory: directory)
      try Self.sign(
        newServer, name: "localhost", by: certificates.ca, days: 4, extensions: "server_ext", directory: directory)
      try Self.install(certificates.ca.certificate, at: caFile)
      try Self.install(certificates.client.certificate, at: certificateFile)
      try Self.install(certificates.client.key, at: keyFile)
      try Self.install(certificates.server.certificate, at: serverCertificateFile)
      try Self.install(certificates.server.key, at: serverKeyFile)
      try Self.write(
        try Self.read(certificates.ca.certificate) + Self.read(certificates.otherCA.certificate), to: clientCAsFile)
    }

    /// etcd's arguments: serve with the live files, require client certificates from either CA.
    var etcdArguments: [String] {
      [
        "--cert-file", serverCertificateFile, "--key-file", serverKeyFile,
        "--trusted-ca-file", clientCAsFile, "--client-cert-auth",
      ]
    }

    /// A client configuration that reads the live files.
    func configuration(endpoint: String, reloadCheckInterval: Duration?) -> EtcdClient.Configuration {
      var tls = EtcdClient.Configuration.TLS.defaults
      tls.trustRoots = .file(caFile)
      tls.clientCertificate = .files(certificateChain: certificateFile, privateKey: keyFile)
      tls.reloadCheckInterval = reloadCheckInterval
      var configuration = EtcdClient.Configuration(endpoints: ["https://" + endpoint])
      configuration.tls = tls
      configuration.dialTimeout = .seconds(3)
      return configuration
    }

    /// Copies `source` over `path` by writing a temporary file and renaming it, as cert-manager and Vault
    /// agents do.
    static func install(_ source: String, at path: String) throws {
      try write(try read(source), to: path)
    }

    static func read(_ path: String) throws -> String { try String(contentsOfFile: path, encoding: .utf8) }

    static func write(_ text: String, to path: String) throws {
      try text.write(toFile: path, atomically: true, encoding: .utf8)
    }

    private static func sign(
      _ pair: TestCertificates.Pair, name: String, by issuer: TestCertificates.Pair, days: Int,
      extensions: String, directory: String
    ) throws {
      let config = directory + "/openssl.cnf"
      let csr = pair.certificate + ".csr"
      try openssl([
        "req", "-new", "-config", config, "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
        "-keyout", pair.key, "-out", csr, "-subj", "/CN=\(name)",
      ])
      try openssl([
        "x509", "-req", "-in", csr, "-CA", issuer.certificate, "-CAkey", issuer.key, "-CAcreateserial",
        "-out", pair.certificate, "-days", "\(days)", "-extfile", config, "-extensions", extensions,
      ])
    }
  }

  /// A certificate's `notAfter`, as openssl reads it.
  static func notAfter(_ certificate: String) throws -> Date {
    let result = try run(["openssl", "x509", "-in", certificate, "-noout", "-enddate", "-dateopt", "iso_8601"])
    // "notAfter=2026-12-09 01:53:53Z"
    let text = result.output.trimmingCharacters(in: .whitespacesAndNewlines)
      .replacingOccurrences(of: "notAfter=", with: "").replacingOccurrences(of: " ", with: "T")
    guard result.status == 0, let date = ISO8601DateFormatter().date(from: text) else {
      throw FixtureError("cannot read the notAfter of \(certificate): \(result.output)")
    }
    return date
  }

  static func openssl(_ arguments: [String]) throws {
    let result = try run(["openssl"] + arguments)
    guard result.status == 0 else {
      throw FixtureError("openssl \(arguments.prefix(2).joined(separator: " ")) failed:\n\(result.output)")
    }
  }

  /// Restarts the only member, so the client's connection is lost and the next call makes a new one.
  static func forceNewConnection(_ etcd: EtcdTestCluster) async throws {
    let member = etcd.members[0]
    member.stop()
    try await etcd.restart(member)
  }

  /// A get that may meet the old connection's end first: tried at most 10 times, within 10 s.
  static func get(_ client: EtcdClient, _ key: String) async throws -> String? {
    let deadline = ContinuousClock.now + .seconds(10)
    for attempt in 1...10 {
      let result: Result<String?, EtcdError>
      do {
        result = .success(try await client.get(key, timeout: .seconds(3)).kvs.first?.valueString)
      } catch {
        result = .failure(error)
      }
      switch result {
      case .success(let value):
        return value
      case .failure(let error):
        let retryable = error.code == .connectionClosed || error.code == .connectionFailed
        guard retryable, attempt < 10, ContinuousClock.now < deadline else { throw error }
        try await Task.sleep(for: .milliseconds(100))
      }
    }
    return nil
  }

  @Test func rotatedFilesAreUsedByTheNextConnection() async throws {
    try await withTestCertificates { certificates in
      let setup = try Setup(certificates)
      try await withEtcd(
        extraArguments: setup.etcdArguments,
        clientScheme: "https",
        healthCheckCurlArguments: certificates.clientCurlArguments
      ) { etcd in
        let endpoint = "https://" + etcd.endpoints[0]
        let configuration = setup.configuration(endpoint: etcd.endpoints[0], reloadCheckInterval: .seconds(30))
        try await withEtcdClient(configuration: configuration) { client in
          try await client.put("rotate/k", "before", timeout: .seconds(5))
          let before = client.tlsCertificates()
          #expect(before.clientCertificateNotAfter == (try Self.notAfter(certificates.client.certificate)))
          #expect(before.trustRootsNotAfter == [try Self.notAfter(certificates.ca.certificate)])
          #expect(before.serverCertificateNotAfter == [endpoint: try Self.notAfter(certificates.server.certificate)])
          let attempts = client.connectAttempts

          // The rotation: the client's three files and the server's certificate.
          try Setup.install(setup.newClient.certificate, at: setup.certificateFile)
          try Setup.install(setup.newClient.key, at: setup.keyFile)
          try Setup.write(
            try Setup.read(certificates.ca.certificate) + Setup.read(certificates.otherCA.certificate),
            to: setup.caFile)
          try Setup.install(setup.newServer.certificate, at: setup.serverCertificateFile)
          try Setup.install(setup.newServer.key, at: setup.serverKeyFile)

          try await Self.forceNewConnection(etcd)
          #expect(try await Self.get(client, "rotate/k") == "before")
          try await client.put("rotate/k", "after", timeout: .seconds(5))
          #expect(client.connectAttempts > attempts)

          let after = client.tlsCertificates()
          let newClientNotAfter = try Self.notAfter(setup.newClient.certificate)
          #expect(after.clientCertificateNotAfter == newClientNotAfter)
          #expect(newClientNotAfter != before.clientCertificateNotAfter)
          #expect(
            after.trustRootsNotAfter
              == [
                try Self.notAfter(certificates.ca.certificate), try Self.notAfter(certificates.otherCA.certificate),
              ].sorted())
          #expect(after.serverCertificateNotAfter == [endpoint: try Self.notAfter(setup.newServer.certificate)])
          let state = try #require(client.tlsFilesState())
          #expect(state.successfulLoads == 2)
          #expect(state.failedLoads == 0 && !state.isFailing && state.lastError == nil)
          #expect(state.files == [setup.caFile, setup.certificateFile, setup.keyFile])

          // The new files really are what new connections use: a CA file that no longer trusts the server's
          // CA makes the next connection fail verification.
          try Setup.install(certificates.otherCA.certificate, at: setup.caFile)
          try await Self.forceNewConnection(etcd)
          let error = await expectEtcdError(.connectionFailed) {
            _ = try await client.get("rotate/k", timeout: .seconds(3))
          }
          #expect(error?.message.contains("CERTIFICATE_VERIFY_FAILED") == true, "\(String(describing: error))")
          try Setup.install(certificates.ca.certificate, at: setup.caFile)
          #expect(try await Self.get(client, "rotate/k") == "after")
          #expect(client.tlsFilesState()?.successfulLoads == 4)
        }
      }
    }
  }

  @Test func aHalfWrittenRotationKeepsTheLastGoodFilesUntilItIsComplete() async throws {
    try await withTestCertificates { certificates in
      let setup = try Setup(certificates)
      try await withEtcd(
        extraArguments: setup.etcdArguments,
        clientScheme: "https",
        healthCheckCurlArguments: certificates.clientCurlArguments
      ) { etcd in
        // No interval: only new connections look at the files, so each look below is one connection's.
        let configuration = setup.configuration(endpoint: etcd.endpoints[0], reloadCheckInterval: nil)
        try await withEtcdClient(configuration: configuration) { client in
          try await client.put("half/k", "v", timeout: .seconds(5))
          let oldNotAfter = try Self.notAfter(certificates.client.certificate)

          // A writer that has written the new certificate, and only half of its key (in place).
          try Setup.install(setup.newClient.certificate, at: setup.certificateFile)
          let key = try Setup.read(setup.newClient.key)
          try String(key.prefix(key.count / 2)).write(toFile: setup.keyFile, atomically: false, encoding: .utf8)

          try await Self.forceNewConnection(etcd)
          let attempts = client.connectAttempts
          #expect(try await Self.get(client, "half/k") == "v", "the last good context still connects")
          #expect(client.connectAttempts > attempts)
          var state = try #require(client.tlsFilesState())
          #expect(state.isFailing)
          #expect(state.failedLoads >= 1)
          #expect(state.successfulLoads == 1)
          #expect(state.lastFailure != nil)
          #expect(state.lastError?.contains(setup.keyFile) == true, "\(state.lastError ?? "-")")
          #expect(client.tlsCertificates().clientCertificateNotAfter == oldNotAfter)
          print("half-written key: \(state.lastError ?? "-")")

          // The new key, whole but not the certificate's: still a failure.
          try Setup.install(certificates.client.key, at: setup.keyFile)
          let failedBefore = state.failedLoads
          try await Self.forceNewConnection(etcd)
          #expect(try await Self.get(client, "half/k") == "v")
          state = try #require(client.tlsFilesState())
          #expect(state.isFailing)
          #expect(state.failedLoads > failedBefore)
          #expect(
            state.lastError?.contains("does the client private key belong to the client certificate?") == true,
            "\(state.lastError ?? "-")")

          // The writer finishes: the next connection loads the new pair.
          try Setup.install(setup.newClient.key, at: setup.keyFile)
          try await Self.forceNewConnection(etcd)
          #expect(try await Self.get(client, "half/k") == "v")
          state = try #require(client.tlsFilesState())
          #expect(!state.isFailing)
          #expect(state.successfulLoads == 2)
          let newNotAfter = try Self.notAfter(setup.newClient.certificate)
          #expect(client.tlsCertificates().clientCertificateNotAfter == newNotAfter)
        }
      }
    }
  }
}
