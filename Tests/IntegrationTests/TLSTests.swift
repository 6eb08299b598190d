import Foundation
import Testing

@testable import EtcdClient

/// TLS against a real etcd: certificates made by `openssl` at test time (`TestCertificates`), etcd started with
/// `--cert-file`/`--key-file` and, for mutual TLS, `--trusted-ca-file`/`--client-cert-auth`.
@Suite("TLS against a real etcd", .serialized)
struct TLSTests {
  /// A TLS configuration that trusts the test CA.
  private static func trusting(_ ca: TestCertificates.Pair) -> EtcdClient.Configuration.TLS {
    var tls = EtcdClient.Configuration.TLS.defaults
    tls.trustRoots = .file(ca.certificate)
    return tls
  }

  private static func configuration(
    _ endpoint: String,
    tls: EtcdClient.Configuration.TLS?
  ) -> EtcdClient.Configuration {
    var configuration = EtcdClient.Configuration(endpoints: [endpoint])
    configuration.tls = tls
    configuration.dialTimeout = .seconds(3)
    return configuration
  }

  /// A put and a get through a client made with `configuration`.
  private static func putAndGet(_ configuration: EtcdClient.Configuration, key: String) async throws {
    try await withEtcdClient(configuration: configuration) { client in
      try await client.put(key, "secret", timeout: .seconds(5))
      let value = try await client.get(key, timeout: .seconds(5)).kvs.first?.valueString
      #expect(value == "secret")
    }
  }

  /// Expects a put through `configuration` to fail as a TLS connection failure whose message contains `because`.
  @discardableResult
  private static func expectTLSFailure(
    _ configuration: EtcdClient.Configuration,
    because: String,
    sourceLocation: SourceLocation = #_sourceLocation
  ) async -> EtcdError? {
    let started = ContinuousClock.now
    let error = await expectEtcdError(.connectionFailed, grpcCode: .unavailable, sourceLocation: sourceLocation) {
      try await withEtcdClient(configuration: configuration) { client in
        _ = try await client.put("k", "v", timeout: .seconds(3))
      }
    }
    guard let error else { return nil }
    print("TLS failure [\(because)]: \(error.message)")
    #expect(error.message.hasPrefix("TLS handshake with "), "\(error)", sourceLocation: sourceLocation)
    #expect(error.message.contains(because), "\(error)", sourceLocation: sourceLocation)
    #expect(error.endpoint == configuration.endpoints[0], sourceLocation: sourceLocation)
    // The TLS error itself, not DEADLINE_EXCEEDED, and no later than the call's deadline (the client retries
    // connection failures until then).
    #expect(ContinuousClock.now - started < .seconds(4), sourceLocation: sourceLocation)
    return error
  }

  @Test func serverTLSWithTheCAAndNameVerification() async throws {
    try await withTestCertificates { certificates in
      try await withEtcd(
        extraArguments: certificates.etcdArguments(serving: certificates.server),
        clientScheme: "https"
      ) { etcd in
        let https = "https://" + etcd.endpoints[0]
        // The IP endpoint is checked against the certificate's IP:127.0.0.1.
        try await Self.putAndGet(Self.configuration(https, tls: Self.trusting(certificates.ca)), key: "tls/ip")
        // No scheme: TLS because the configuration has it.
        try await Self.putAndGet(
          Self.configuration(etcd.endpoints[0], tls: Self.trusting(certificates.ca)), key: "tls/bare")
        // The name override is sent as SNI and checked against DNS:localhost.
        var named = Self.trusting(certificates.ca)
        named.serverName = "localhost"
        try await Self.putAndGet(Self.configuration(https, tls: named), key: "tls/named")
        // The CA as PEM bytes.
        var pem = EtcdClient.Configuration.TLS.defaults
        pem.trustRoots = .pem(try String(contentsOfFile: certificates.ca.certificate, encoding: .utf8))
        try await Self.putAndGet(Self.configuration(https, tls: pem), key: "tls/pem")
        // An https:// endpoint with no TLS configuration trusts the system's CAs only.
        await Self.expectTLSFailure(Self.configuration(https, tls: nil), because: "CERTIFICATE_VERIFY_FAILED")
      }
    }
  }

  @Test func mutualTLSNeedsTheClientCertificate() async throws {
    try await withTestCertificates { certificates in
      try await withEtcd(
        extraArguments: certificates.etcdArguments(serving: certificates.server, clientCA: certificates.ca),
        clientScheme: "https",
        healthCheckCurlArguments: certificates.clientCurlArguments
      ) { etcd in
        let https = "https://" + etcd.endpoints[0]
        var mutual = Self.trusting(certificates.ca)
        mutual.clientCertificate = .files(
          certificateChain: certificates.client.certificate,
          privateKey: certificates.client.key
        )
        try await Self.putAndGet(Self.configuration(https, tls: mutual), key: "mtls/files")
        var pem = Self.trusting(certificates.ca)
        pem.clientCertificate = .pem(
          certificateChain: Array(try Data(contentsOf: URL(fileURLWithPath: certificates.client.certificate))),
          privateKey: Array(try Data(contentsOf: URL(fileURLWithPath: certificates.client.key)))
        )
        try await Self.putAndGet(Self.configuration(https, tls: pem), key: "mtls/pem")

        await Self.expectTLSFailure(
          Self.configuration(https, tls: Self.trusting(certificates.ca)),
          because: "the server refused the client's certificate"
        )
      }
    }
  }

  @Test func unknownCAFailsAndInsecureSkipVerifyConnects() async throws {
    try await withTestCertificates { certificates in
      try await withEtcd(
        extraArguments: certificates.etcdArguments(serving: certificates.otherServer),
        clientScheme: "https"
      ) { etcd in
        let https = "https://" + etcd.endpoints[0]
        let error = await Self.expectTLSFailure(
          Self.configuration(https, tls: Self.trusting(certificates.ca)),
          because: "not signed by a CA in TLS.trustRoots (or a CA certificate in its chain is expired)"
        )
        #expect(error?.cause != nil)
        #expect(error.map { "\($0.cause!)".contains("CERTIFICATE_VERIFY_FAILED") } == true)

        var insecure = EtcdClient.Configuration.TLS.defaults
        insecure.insecureSkipVerify = true
        try await Self.putAndGet(Self.configuration(https, tls: insecure), key: "tls/insecure")
      }
    }
  }

  @Test func wrongHostNameFailsUnlessTheOverrideNamesTheCertificate() async throws {
    try await withTestCertificates { certificates in
      try await withEtcd(
        extraArguments: certificates.etcdArguments(serving: certificates.wrongName),
        clientScheme: "https"
      ) { etcd in
        let https = "https://" + etcd.endpoints[0]
        // The certificate has no IP:127.0.0.1.
        await Self.expectTLSFailure(
          Self.configuration(https, tls: Self.trusting(certificates.ca)),
          because: "is not valid for the IP address connected to"
        )
        var localhost = Self.trusting(certificates.ca)
        localhost.serverName = "localhost"
        await Self.expectTLSFailure(
          Self.configuration(https, tls: localhost),
          because: "is not valid for \"localhost\""
        )
        var override = Self.trusting(certificates.ca)
        override.serverName = "wrong.example"
        try await Self.putAndGet(Self.configuration(https, tls: override), key: "tls/override")
      }
    }
  }

  @Test func expiredCertificateFails() async throws {
    try await withTestCertificates { certificates in
      try await withEtcd(
        extraArguments: certificates.etcdArguments(serving: certificates.expired),
        clientScheme: "https"
      ) { etcd in
        await Self.expectTLSFailure(
          Self.configuration("https://" + etcd.endpoints[0], tls: Self.trusting(certificates.ca)),
          because: "the server's certificate expired at 2020-01-02T00:00:00Z (CERTIFICATE_VERIFY_FAILED)"
        )
      }
    }
  }

  @Test func plainClientAgainstTLSServerFailsClearly() async throws {
    try await withTestCertificates { certificates in
      try await withEtcd(
        extraArguments: certificates.etcdArguments(serving: certificates.server),
        clientScheme: "https"
      ) { etcd in
        let started = ContinuousClock.now
        let error = await expectEtcdError(.connectionClosed, grpcCode: .unavailable) {
          try await withEtcdClient(configuration: Self.configuration(etcd.endpoints[0], tls: nil)) { client in
            _ = try await client.put("k", "v", timeout: .seconds(5))
          }
        }
        print("plain client against TLS server: \(error?.message ?? "-")")
        #expect(error?.message.contains("use an https:// endpoint") == true, "\(String(describing: error))")
        #expect(ContinuousClock.now - started < .seconds(5))
      }
    }
  }

  @Test func tlsClientAgainstPlainServerFailsClearly() async throws {
    try await withEtcd { etcd in
      var insecure = EtcdClient.Configuration.TLS.defaults
      insecure.insecureSkipVerify = true
      await Self.expectTLSFailure(
        Self.configuration("https://" + etcd.endpoints[0], tls: insecure),
        because: "the server closed the connection during the handshake (is it serving plain HTTP?"
      )
    }
  }

  @Test func unreadableFilesFailTheClientsInit() async throws {
    try await withTestCertificates { certificates in
      let missing = certificates.directory + "/missing-ca.crt"
      func initError(_ tls: EtcdClient.Configuration.TLS) -> EtcdError? {
        #expect(throws: EtcdError.self) {
          _ = try EtcdClient(configuration: Self.configuration("https://127.0.0.1:2379", tls: tls))
        }
      }
      var missingCA = EtcdClient.Configuration.TLS.defaults
      missingCA.trustRoots = .file(missing)
      let caError = initError(missingCA)
      #expect(caError?.code == .invalidConfiguration)
      #expect(caError?.message == "cannot load the CA certificates from \"\(missing)\": no such file")

      let notPEM = certificates.directory + "/openssl.cnf"
      var garbageCA = EtcdClient.Configuration.TLS.defaults
      garbageCA.trustRoots = .file(notPEM)
      let garbageError = initError(garbageCA)
      #expect(garbageError?.code == .invalidConfiguration)
      #expect(garbageError?.message.contains("\"\(notPEM)\"") == true, "\(String(describing: garbageError))")

      var missingKey = Self.trusting(certificates.ca)
      missingKey.clientCertificate = .files(
        certificateChain: certificates.client.certificate,
        privateKey: certificates.directory + "/missing.key"
      )
      let keyError = initError(missingKey)
      #expect(keyError?.code == .invalidConfiguration)
      #expect(keyError?.message.contains("missing.key\": no such file") == true, "\(String(describing: keyError))")

      var mismatched = Self.trusting(certificates.ca)
      mismatched.clientCertificate = .files(
        certificateChain: certificates.client.certificate,
        privateKey: certificates.server.key
      )
      let mismatchError = initError(mismatched)
      #expect(mismatchError?.code == .invalidConfiguration)
      print("init errors: \([caError, garbageError, keyError, mismatchError].map { $0?.message ?? "-" })")
    }
  }
}
