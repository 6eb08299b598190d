import Foundation
import NIOCore
import NIOSSL

extension GRPCConnection {
  /// TLS prepared per client: the store of the current NIOSSL context (trust roots, client certificate, ALPN
  /// `h2`), which reloads the files it came from when they change, and the server name override.
  struct TLS: Sendable {
    /// The current context and the expiry of its certificates; each new connection asks it for the context.
    let store: TLSContextStore
    /// The configured `serverName`, if any.
    let serverName: String?

    /// Builds the TLS settings for a client, or nil when no endpoint uses TLS.
    ///
    /// An `https://` endpoint with no TLS configuration uses `TLS.defaults`, as clientv3 does.
    ///
    /// - Throws: `EtcdError` with code `.invalidConfiguration`, naming the file, when a CA file, certificate or
    ///   key cannot be loaded, or when the key does not fit the certificate.
    init?(
      _ configuration: EtcdClient.Configuration.TLS?,
      endpoints: [Endpoint]
    ) throws(EtcdError) {
      guard configuration != nil || endpoints.contains(where: \.isTLS) else { return nil }
      let tls = configuration ?? .defaults
      self.store = try TLSContextStore(configuration: tls)
      self.serverName = tls.serverName
    }

    /// The certificates and NIOSSL context made from one reading of a TLS configuration.
    struct Material: Sendable {
      let context: NIOSSLContext
      /// The `notAfter` of the client certificate (the chain's first), if any.
      let clientCertificateNotAfter: Date?
      /// The `notAfter` of each trusted CA certificate loaded (none for the system's), earliest first.
      let trustRootsNotAfter: [Date]
    }

    /// Reads the configuration's files and PEM text and makes a NIOSSL context of them.
    ///
    /// - Throws: `EtcdError` with code `.invalidConfiguration`, naming the file, when a CA file, certificate or
    ///   key cannot be loaded, or when the key does not fit the certificate.
    static func load(_ tls: EtcdClient.Configuration.TLS) throws(EtcdError) -> Material {
      var nio = TLSConfiguration.makeClientConfiguration()
      nio.minimumTLSVersion = .tlsv12
      nio.applicationProtocols = ["h2"]
      nio.certificateVerification = tls.insecureSkipVerify ? .none : .fullVerification
      var roots: [NIOSSLCertificate] = []
      switch tls.trustRoots.source {
      case .system:
        nio.trustRoots = .default
      case .files(let paths):
        for path in paths {
          roots += try Self.loadCertificates(file: path, what: "CA certificates")
        }
        nio.trustRoots = .certificates(roots)
      case .pem(let bytes):
        roots = try Self.loadCertificates(pem: bytes, what: "CA certificates")
        nio.trustRoots = .certificates(roots)
      }
      var clientNotAfter: Date?
      if let client = tls.clientCertificate {
        let chain: [NIOSSLCertificate]
        switch client.certificateChain {
        case .file(let path): chain = try Self.loadCertificates(file: path, what: "client certificate")
        case .pem(let bytes): chain = try Self.loadCertificates(pem: bytes, what: "client certificate")
        }
        let key: NIOSSLPrivateKey
        switch client.privateKey {
        case .file(let path):
          try Self.checkReadable(path, what: "client private key")
          do {
            key = try NIOSSLPrivateKey(file: path, format: .pem)
          } catch {
            throw Self.invalid("cannot load the client private key from \"\(path)\": \(error)", cause: error)
          }
        case .pem(let bytes):
          do {
            key = try NIOSSLPrivateKey(bytes: bytes, format: .pem)
          } catch {
            throw Self.invalid("cannot load the client private key from PEM bytes: \(error)", cause: error)
          }
        }
        nio.certificateChain = chain.map { .certificate($0) }
        nio.privateKey = .privateKey(key)
        clientNotAfter = chain.first.map(Self.notAfter)
      }
      let context: NIOSSLContext
      do {
        context = try NIOSSLContext(configuration: nio)
      } catch {
        throw Self.invalid(
          "cannot set up TLS (does the client private key belong to the client certificate?): \(error)",
          cause: error
        )
      }
      return Material(
        context: context,
        clientCertificateNotAfter: clientNotAfter,
        trustRootsNotAfter: roots.map(Self.notAfter).sorted()
      )
    }

    /// A certificate's `notAfter` as a date.
    static func notAfter(_ certificate: NIOSSLCertificate) -> Date {
      Date(timeIntervalSince1970: TimeInterval(certificate.notValidAfter))
    }

    /// The name sent as SNI and checked against the certificate's DNS names: the override, else the endpoint's
    /// host unless it is an IP address.
    ///
    /// NIOSSL refuses IP addresses as SNI. With no name, NIOSSL still verifies the certificate's identity: it
    /// accepts an IP subject alternative name equal to the address of the socket it is connected to (and, with a
    /// name, a DNS name matching it), so an `https://127.0.0.1:2379` endpoint needs `IP:127.0.0.1` in the
    /// server's certificate, as Go's clients do.
    func serverHostname(for endpoint: Endpoint) -> String? {
      let name = serverName ?? endpoint.host
      return Self.isIPAddress(name) ? nil : name
    }

    static func isIPAddress(_ host: String) -> Bool {
      (try? SocketAddress(ipAddress: host, port: 0)) != nil
    }

    private static func checkReadable(_ path: String, what: String) throws(EtcdError) {
      guard FileManager.default.isReadableFile(atPath: path) else {
        let why = FileManager.default.fileExists(atPath: path) ? "not readable" : "no such file"
        throw invalid("cannot load the \(what) from \"\(path)\": \(why)")
      }
    }

    private static func loadCertificates(file path: String, what: String) throws(EtcdError)
      -> [NIOSSLCertificate]
    {
      try checkReadable(path, what: what)
      let certificates: [NIOSSLCertificate]
      do {
        certificates = try NIOSSLCertificate.fromPEMFile(path)
      } catch {
        throw invalid("cannot load the \(what) from \"\(path)\": not PEM certificates (\(error))", cause: error)
      }
      guard !certificates.isEmpty else {
        throw invalid("cannot load the \(what) from \"\(path)\": no PEM certificate in it")
      }
      return certificates
    }

    private static func loadCertificates(pem bytes: [UInt8], what: String) throws(EtcdError)
      -> [NIOSSLCertificate]
    {
      let certificates: [NIOSSLCertificate]
      do {
        certificates = try NIOSSLCertificate.fromPEMBytes(bytes)
      } catch {
        throw invalid("cannot load the \(what) from PEM bytes: \(error)", cause: error)
      }
      guard !certificates.isEmpty else {
        throw invalid("cannot load the \(what) from PEM bytes: no PEM certificate in them")
      }
      return certificates
    }

    private static func invalid(_ message: String, cause: (any Error)? = nil) -> EtcdError {
      EtcdError(
        code: .invalidConfiguration,
        status: GRPCStatus(code: .invalidArgument, message: message),
        cause: cause
      )
    }
  }
}
