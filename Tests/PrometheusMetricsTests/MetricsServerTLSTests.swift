import Foundation
import LoopbackTestSupport
import Testing

@testable import PrometheusMetrics

/// HTTPS on a real server on loopback, checked with `curl`, with certificates `openssl` makes for
/// each test.
@Suite(
  "MetricsServer over HTTPS", .serialized,
  .enabled(if: TLSTestFixtures.available, "needs /usr/bin/openssl and /usr/bin/curl"))
struct MetricsServerTLSTests {
  private func withServer(
    configure: (TLSTestFixtures, inout MetricsServer.Configuration) throws -> Void = { _, _ in },
    _ body: (TLSTestFixtures, Int) throws -> Void
  ) throws {
    let fixtures = try TLSTestFixtures()
    defer { fixtures.remove() }
    var configuration = MetricsServer.Configuration(host: "127.0.0.1", port: 0)
    configuration.tls = .init(
      certificate: .file(fixtures.serverCertificate), privateKey: .file(fixtures.serverKey))
    try configure(fixtures, &configuration)
    let server = MetricsServer(registry: MetricsRegistry(), configuration: configuration)
    try server.start()
    defer { server.stop() }
    try body(fixtures, try #require(server.port))
  }

  @Test("serves /metrics over HTTPS to a client that trusts its CA, and only HTTPS")
  func https() throws {
    try withServer { fixtures, port in
      let result = try fixtures.curl("https://127.0.0.1:\(port)/metrics")
      #expect(result.status == 200, "\(result.output)")
      #expect(result.body.contains("# TYPE promhttp_metric_handler_requests_total counter"))
      let byName = try fixtures.curl(
        "https://localhost:\(port)/healthz", ["--resolve", "localhost:\(port):127.0.0.1"])
      #expect(byName.status == 200 && byName.body == "ok\n", "\(byName.output)")
      // A client that does not trust the CA refuses the server.
      let untrusting = try TLSTestFixtures.run(
        TLSTestFixtures.curl, ["-sS", "--max-time", "10", "https://127.0.0.1:\(port)/healthz"])
      #expect(untrusting.status != 0)
      // Plain HTTP on the HTTPS port gets no HTTP response.
      #expect(throws: (any Error).self) {
        let response = try LoopbackHTTP.request(port: port, path: "/healthz", timeoutSeconds: 5)
        if response.status == 200 { Issue.record("plain HTTP got 200 from the HTTPS port") }
        throw LoopbackTestFailure("got a response")
      }
    }
  }

  @Test("speaks TLS 1.2 and 1.3 by default, and no older version")
  func defaultVersions() throws {
    try withServer { fixtures, port in
      let url = "https://127.0.0.1:\(port)/healthz"
      #expect(try fixtures.curl(url, ["--tlsv1.2", "--tls-max", "1.2"]).status == 200)
      #expect(try fixtures.curl(url, ["--tlsv1.3"]).status == 200)
      let old = try fixtures.curl(url, ["--tlsv1.0", "--tls-max", "1.1"])
      #expect(old.status == nil && old.exitCode != 0)
    }
  }

  @Test("a minimum of TLS 1.3 refuses TLS 1.2 clients")
  func minimumVersion() throws {
    try withServer(configure: { _, configuration in
      configuration.tls?.minimumVersion = .tls13
    }) { fixtures, port throws in
      let url = "https://127.0.0.1:\(port)/healthz"
      #expect(try fixtures.curl(url, ["--tlsv1.2", "--tls-max", "1.2"]).status == nil)
      #expect(try fixtures.curl(url, ["--tlsv1.3"]).status == 200)
    }
  }

  @Test("serves PEM given inline")
  func inlinePEM() throws {
    try withServer(configure: { fixtures, configuration in
      configuration.tls = .init(
        certificate: .pem(try fixtures.contents(fixtures.serverCertificate)),
        privateKey: .pem(Array(try fixtures.contents(fixtures.serverKey).utf8)))
    }) { fixtures, port throws in
      #expect(try fixtures.curl("https://127.0.0.1:\(port)/healthz").status == 200)
    }
  }

  @Test("RequireAndVerifyClientCert refuses clients without a certificate or with an untrusted one")
  func requiredClientCertificate() throws {
    try withServer(configure: { fixtures, configuration in
      configuration.tls?.clientCA = .file(fixtures.clientCACertificate)
      configuration.tls?.clientAuthentication = .requireAndVerifyClientCert
    }) { fixtures, port throws in
      let url = "https://127.0.0.1:\(port)/metrics"
      let without = try fixtures.curl(url)
      #expect(without.status == nil && without.exitCode != 0, "\(without.output)")
      let untrusted = try fixtures.curl(
        url, ["--cert", fixtures.untrustedClientCertificate, "--key", fixtures.untrustedClientKey])
      #expect(untrusted.status == nil && untrusted.exitCode != 0, "\(untrusted.output)")
      // A certificate of the server's own CA is not one of the client CA's either.
      let serverCertificate = try fixtures.curl(
        url, ["--cert", fixtures.serverCertificate, "--key", fixtures.serverKey])
      #expect(serverCertificate.status == nil, "\(serverCertificate.output)")
      for version in ["1.2", "1.3"] {
        let with = try fixtures.curl(
          url,
          [
            "--tlsv\(version)", "--tls-max", version, "--cert", fixtures.clientCertificate, "--key",
            fixtures.clientKey,
          ])
        #expect(with.status == 200, "TLS \(version): \(with.output)")
      }
    }
  }

  @Test("VerifyClientCertIfGiven lets clients without a certificate in, but not untrusted ones")
  func optionalClientCertificate() throws {
    try withServer(configure: { fixtures, configuration in
      configuration.tls?.clientCA = .file(fixtures.clientCACertificate)
      configuration.tls?.clientAuthentication = .verifyClientCertIfGiven
    }) { fixtures, port throws in
      let url = "https://127.0.0.1:\(port)/healthz"
      #expect(try fixtures.curl(url).status == 200)
      let untrusted = try fixtures.curl(
        url, ["--cert", fixtures.untrustedClientCertificate, "--key", fixtures.untrustedClientKey])
      #expect(untrusted.status == nil, "\(untrusted.output)")
      let trusted = try fixtures.curl(
        url, ["--cert", fixtures.clientCertificate, "--key", fixtures.clientKey])
      #expect(trusted.status == 200, "\(trusted.output)")
    }
  }

  @Test("basic auth over HTTPS")
  func basicAuth() throws {
    try withServer(configure: { _, configuration in
      configuration.basicAuthUsers = BasicAuthenticatorTests.users
    }) { fixtures, port throws in
      let url = "https://127.0.0.1:\(port)/metrics"
      let anonymous = try fixtures.curl(url)
      #expect(anonymous.status == 401)
      #expect(try fixtures.curl(url, ["-u", "alice:bob-password"]).status == 401)
      let alice = try fixtures.curl(url, ["-u", "alice:alice-password"])
      #expect(alice.status == 200)
      #expect(
        alice.body.contains("metrics_server_authentication_failures_total{reason=\"invalid\"} 1"))
      #expect(
        alice.body.contains("metrics_server_authentication_failures_total{reason=\"missing\"} 1"))
    }
  }

  private func startError(
    _ configure: (TLSTestFixtures, inout MetricsServer.Configuration.TLS) throws -> Void
  ) throws -> (MetricsServerError, TLSTestFixtures) {
    let fixtures = try TLSTestFixtures()
    var tls = MetricsServer.Configuration.TLS(
      certificate: .file(fixtures.serverCertificate), privateKey: .file(fixtures.serverKey))
    try configure(fixtures, &tls)
    var configuration = MetricsServer.Configuration(host: "127.0.0.1", port: 0)
    configuration.tls = tls
    let server = MetricsServer(registry: MetricsRegistry(), configuration: configuration)
    let error = try #require(throws: MetricsServerError.self) { try server.start() }
    #expect(server.port == nil)
    return (error, fixtures)
  }

  @Test("start names a file it cannot read")
  func unreadableFile() throws {
    let (error, fixtures) = try startError { fixtures, tls in
      tls.privateKey = .file(fixtures.directory + "/missing.key")
    }
    defer { fixtures.remove() }
    #expect(error.code == .tlsFileUnreadable)
    #expect(error.message.contains(fixtures.directory + "/missing.key"))
    #expect((error.cause as? SystemError)?.errno == ENOENT)
  }

  @Test("start names the files of a key that does not belong to the certificate")
  func mismatchedKey() throws {
    let (error, fixtures) = try startError { fixtures, tls in
      tls.privateKey = .file(fixtures.strayKey)
    }
    defer { fixtures.remove() }
    #expect(error.code == .invalidTLSCredentials)
    #expect(error.message.contains(fixtures.strayKey))
    #expect(error.message.contains(fixtures.serverCertificate))
  }

  @Test("start names a file that holds no certificate or no key")
  func notPEM() throws {
    let (certificateError, first) = try startError { fixtures, tls in
      tls.certificate = .file(fixtures.serverKey)
    }
    defer { first.remove() }
    #expect(certificateError.code == .invalidTLSCredentials)
    #expect(certificateError.message.contains("certificate file \(first.serverKey)"))

    let (keyError, second) = try startError { fixtures, tls in
      tls.privateKey = .pem("-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n")
    }
    defer { second.remove() }
    #expect(keyError.code == .invalidTLSCredentials)
    #expect(keyError.message.contains("private key (PEM given inline)"))
    #expect(!keyError.message.contains("not a key"))

    let (caError, third) = try startError { fixtures, tls in
      tls.clientCA = .file(fixtures.strayKey)
      tls.clientAuthentication = .requireAndVerifyClientCert
    }
    defer { third.remove() }
    #expect(caError.code == .invalidTLSCredentials)
    #expect(caError.message.contains("client CA file \(third.strayKey)"))
  }
}
