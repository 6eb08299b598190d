import Testing

@testable import PrometheusMetrics

/// The pure parts of the TLS setting: exporter-toolkit names, GnuTLS priorities, consistency.
@Suite("MetricsServer.Configuration.TLS")
struct MetricsServerTLSConfigurationTests {
  typealias TLS = MetricsServer.Configuration.TLS

  private static func tls() -> TLS {
    TLS(certificate: .file("/tls/server.crt"), privateKey: .file("/tls/server.key"))
  }

  @Test(
    "maps exporter-toolkit's client_auth_type values",
    arguments: [
      ("", TLS.ClientAuthentication.noClientCert), ("NoClientCert", .noClientCert),
      ("VerifyClientCertIfGiven", .verifyClientCertIfGiven),
      ("RequireAndVerifyClientCert", .requireAndVerifyClientCert),
      ("RequestClientCert", nil), ("RequireAnyClientCert", nil),
      ("requireandverifyclientcert", nil),
    ] as [(String, TLS.ClientAuthentication?)])
  func clientAuthentication(name: String, expected: TLS.ClientAuthentication?) {
    let parsed = TLS.ClientAuthentication(exporterToolkitName: name)
    #expect(parsed == expected)
    if let parsed, !name.isEmpty { #expect(parsed.description == name) }
  }

  @Test(
    "maps min_version values and cuts the GnuTLS versions to them",
    arguments: [
      ("TLS10", "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:+VERS-TLS1.1:+VERS-TLS1.0"),
      ("TLS11", "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:+VERS-TLS1.1"),
      ("TLS12", "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2"),
      ("TLS13", "NORMAL:-VERS-ALL:+VERS-TLS1.3"),
    ])
  func versions(name: String, priorities: String) throws {
    var tls = Self.tls()
    tls.minimumVersion = try #require(TLS.Version(exporterToolkitName: name))
    #expect(tls.minimumVersion.description == name)
    #expect(tls.gnutlsPriorities == priorities)
  }

  @Test("defaults to TLS 1.2 and no client certificates; refuses unknown version names")
  func defaults() {
    #expect(Self.tls().minimumVersion == .tls12)
    #expect(Self.tls().clientAuthentication == .noClientCert)
    #expect(TLS.Version(exporterToolkitName: "TLS14") == nil)
    #expect(TLS.Version(exporterToolkitName: "1.2") == nil)
    #expect(TLS.Version.tls10 < .tls13)
  }

  @Test("refuses a client CA without client authentication, and verification without a CA")
  func consistency() throws {
    var caOnly = Self.tls()
    caOnly.clientCA = .file("/tls/ca.crt")
    #expect(throws: MetricsServerError.self) { try caOnly.validate() }
    for authentication in [
      TLS.ClientAuthentication.verifyClientCertIfGiven, .requireAndVerifyClientCert,
    ] {
      var noCA = Self.tls()
      noCA.clientAuthentication = authentication
      let error = try #require(throws: MetricsServerError.self) { try noCA.validate() }
      #expect(error.code == .invalidConfiguration)
      var both = noCA
      both.clientCA = .file("/tls/ca.crt")
      try both.validate()
    }
    try Self.tls().validate()
  }

  @Test("describes a source without its contents")
  func sourceDescription() {
    #expect(TLS.Source.file("/tls/server.key").description == "file /tls/server.key")
    let inline = TLS.Source.pem("-----BEGIN PRIVATE KEY-----\nsecret\n-----END PRIVATE KEY-----\n")
    #expect(!inline.description.contains("secret"))
    #expect(
      inline == .pem(Array("-----BEGIN PRIVATE KEY-----\nsecret\n-----END PRIVATE KEY-----\n".utf8))
    )
  }
}
