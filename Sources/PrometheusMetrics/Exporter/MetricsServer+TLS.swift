extension MetricsServer.Configuration {
  /// HTTPS for the metrics server: a server certificate, and optionally the CA that client
  /// certificates must chain to.
  ///
  /// The fields map one to one to the `tls_server_config` section of Prometheus exporter-toolkit's
  /// web configuration file (`--web.config.file`):
  ///
  /// - `cert_file` / `cert`: ``certificate``, `.file(path)` / `.pem(text)`
  /// - `key_file` / `key`: ``privateKey``, `.file(path)` / `.pem(text)`
  /// - `client_ca_file` / `client_ca`: ``clientCA``, `.file(path)` / `.pem(text)`
  /// - `client_auth_type`: ``clientAuthentication``
  ///   (``ClientAuthentication/init(exporterToolkitName:)`` reads the value)
  /// - `min_version`: ``minimumVersion`` (``Version/init(exporterToolkitName:)`` reads the value)
  ///
  /// Files are read, and certificate and key checked against each other, when the server starts.
  ///
  /// ```swift
  /// var tls = MetricsServer.Configuration.TLS(
  ///   certificate: .file("/etc/etcd-probe/tls.crt"), privateKey: .file("/etc/etcd-probe/tls.key"))
  /// tls.clientCA = .file("/etc/etcd-probe/prometheus-ca.crt")
  /// tls.clientAuthentication = .requireAndVerifyClientCert
  /// configuration.tls = tls
  /// ```
  public struct TLS: Sendable {
    /// The server's certificate, followed by any intermediates, in PEM.
    public var certificate: Source
    /// The private key of ``certificate``, in unencrypted PEM (PKCS #8, PKCS #1 or SEC 1).
    public var privateKey: Source
    /// The CA certificates, in PEM, that client certificates must chain to. Required when
    /// ``clientAuthentication`` verifies certificates, and allowed only then. Default: none.
    public var clientCA: Source? = nil
    /// Whether clients must present a certificate. Default: ``ClientAuthentication/noClientCert``.
    public var clientAuthentication: ClientAuthentication = .noClientCert
    /// The oldest TLS version the server speaks. Default: ``Version/tls12``, as exporter-toolkit's.
    public var minimumVersion: Version = .tls12

    /// Creates a TLS setting that serves `certificate` and does not ask for client certificates.
    ///
    /// - Parameters:
    ///   - certificate: The server's certificate chain.
    ///   - privateKey: Its private key.
    public init(certificate: Source, privateKey: Source) {
      self.certificate = certificate
      self.privateKey = privateKey
    }

    /// Where PEM data comes from: a file read when the server starts, or the bytes themselves.
    public struct Source: Sendable, Hashable, CustomStringConvertible {
      enum Storage: Sendable, Hashable {
        case file(String)
        case bytes([UInt8])
      }

      let storage: Storage

      /// PEM read from a file when the server starts.
      ///
      /// - Parameter path: The file's path.
      public static func file(_ path: String) -> Source { Source(storage: .file(path)) }

      /// PEM given as bytes.
      ///
      /// - Parameter bytes: The PEM text's bytes.
      public static func pem(_ bytes: [UInt8]) -> Source { Source(storage: .bytes(bytes)) }

      /// PEM given as text.
      ///
      /// - Parameter text: The PEM text.
      public static func pem(_ text: String) -> Source { Source(storage: .bytes(Array(text.utf8))) }

      /// The file's path, or that the PEM was given inline; never the PEM itself (it may be a key).
      public var description: String {
        switch storage {
        case .file(let path): "file \(path)"
        case .bytes(let bytes): "PEM given inline (\(bytes.count) bytes)"
        }
      }
    }

    /// Whether the server asks clients for a certificate, and what it does with one: Go's
    /// `tls.ClientAuthType`, as exporter-toolkit's `client_auth_type` names it.
    public struct ClientAuthentication: Hashable, Sendable, CustomStringConvertible {
      enum Mode: Hashable, Sendable {
        case none
        case verifyIfGiven
        case requireAndVerify
      }

      let mode: Mode

      /// No certificate is asked for (`NoClientCert`).
      public static let noClientCert = ClientAuthentication(mode: .none)
      /// A certificate is asked for but optional; one that is sent must verify against
      /// ``TLS/clientCA`` (`VerifyClientCertIfGiven`).
      public static let verifyClientCertIfGiven = ClientAuthentication(mode: .verifyIfGiven)
      /// Every client must present a certificate that verifies against ``TLS/clientCA``, else the
      /// handshake fails (`RequireAndVerifyClientCert`).
      public static let requireAndVerifyClientCert = ClientAuthentication(mode: .requireAndVerify)

      /// The value for exporter-toolkit's `client_auth_type`, e.g. `RequireAndVerifyClientCert`;
      /// `nil` for the types this server does not offer (`RequestClientCert` and
      /// `RequireAnyClientCert`, which accept certificates nobody verified). An empty name is
      /// `NoClientCert`, as in exporter-toolkit.
      ///
      /// - Parameter name: The `client_auth_type` value.
      public init?(exporterToolkitName name: String) {
        switch name {
        case "", "NoClientCert": self = .noClientCert
        case "VerifyClientCertIfGiven": self = .verifyClientCertIfGiven
        case "RequireAndVerifyClientCert": self = .requireAndVerifyClientCert
        default: return nil
        }
      }

      init(mode: Mode) {
        self.mode = mode
      }

      /// The exporter-toolkit name, e.g. `RequireAndVerifyClientCert`.
      public var description: String {
        switch mode {
        case .none: "NoClientCert"
        case .verifyIfGiven: "VerifyClientCertIfGiven"
        case .requireAndVerify: "RequireAndVerifyClientCert"
        }
      }
    }

    /// A TLS protocol version.
    public struct Version: Hashable, Sendable, Comparable, CustomStringConvertible {
      let minor: Int

      /// TLS 1.0: legacy, for old scrapers only.
      public static let tls10 = Version(minor: 0)
      /// TLS 1.1: legacy, for old scrapers only.
      public static let tls11 = Version(minor: 1)
      /// TLS 1.2.
      public static let tls12 = Version(minor: 2)
      /// TLS 1.3.
      public static let tls13 = Version(minor: 3)

      /// The version for exporter-toolkit's `min_version` value (`TLS10` … `TLS13`), or `nil`.
      ///
      /// - Parameter name: The `min_version` value.
      public init?(exporterToolkitName name: String) {
        switch name {
        case "TLS10": self = .tls10
        case "TLS11": self = .tls11
        case "TLS12": self = .tls12
        case "TLS13": self = .tls13
        default: return nil
        }
      }

      init(minor: Int) {
        self.minor = minor
      }

      /// Orders versions from old to new.
      public static func < (lhs: Version, rhs: Version) -> Bool { lhs.minor < rhs.minor }

      /// The exporter-toolkit name, e.g. `TLS12`.
      public var description: String { "TLS1\(minor)" }
    }
  }
}

extension MetricsServer.Configuration.TLS {
  /// The GnuTLS priority string libmicrohttpd gets: GnuTLS's `NORMAL` ciphers, key exchanges and
  /// curves, with the protocol versions cut to ``minimumVersion`` and newer.
  var gnutlsPriorities: String {
    let versions = [Version.tls13, .tls12, .tls11, .tls10].filter { $0 >= minimumVersion }
    return (["NORMAL", "-VERS-ALL"] + versions.map { "+VERS-TLS1.\($0.minor)" })
      .joined(separator: ":")
  }

  /// Checks that the client-certificate settings fit together, as exporter-toolkit does.
  ///
  /// - Throws: ``MetricsServerError`` with `.invalidConfiguration`.
  func validate() throws(MetricsServerError) {
    switch (clientAuthentication.mode, clientCA) {
    case (.none, .some):
      throw MetricsServerError(
        code: .invalidConfiguration,
        message: "a client CA is configured but client_auth_type is NoClientCert: set "
          + "RequireAndVerifyClientCert or VerifyClientCertIfGiven, or drop the client CA")
    case (.verifyIfGiven, .none), (.requireAndVerify, .none):
      throw MetricsServerError(
        code: .invalidConfiguration,
        message: "client_auth_type \(clientAuthentication) needs a client CA to verify against")
    default:
      return
    }
  }
}
