extension EtcdClient.Configuration {
  /// How the client secures its connections with TLS: whom it trusts, who it is, and which name it expects.
  ///
  /// Set `Configuration.tls` to use TLS for every endpoint without a scheme (`host:port`) and every `https://`
  /// endpoint; `http://` endpoints stay plain, as in Go's clientv3. Without `tls`, an `https://` endpoint uses
  /// TLS with `TLS.defaults` (the system's trusted CAs, no client certificate).
  ///
  /// Every connection offers ALPN `h2` (etcd closes TLS connections that do not) and needs TLS 1.2 or newer.
  ///
  /// ```swift
  /// var configuration = EtcdClient.Configuration(endpoints: ["https://etcd-0.example.com:2379"])
  /// configuration.tls = .defaults
  /// configuration.tls?.trustRoots = .file("/etc/etcd/pki/ca.crt")
  /// configuration.tls?.clientCertificate = .files(
  ///   certificateChain: "/etc/etcd/pki/client.crt",
  ///   privateKey: "/etc/etcd/pki/client.key"
  /// )
  /// ```
  ///
  /// Files are first read when the `EtcdClient` is made; a missing or unreadable file makes `EtcdClient.init`
  /// throw `.invalidConfiguration` naming the file. After that the client follows rotations (cert-manager,
  /// Vault agents) without a restart: before each new connection, and when `EtcdClient.tlsCertificates()` or
  /// `EtcdClient.tlsFilesState()` is called and the last look is older than `reloadCheckInterval`, it `stat`s
  /// the files (no read when device, inode, size and times are unchanged) and, when they changed, reads them and
  /// makes a new context for the connections made from then on. Connections already open keep theirs. When the
  /// new files do not load (a half-written file, a key that does not fit the certificate, unparsable PEM), the
  /// client keeps the last context that loaded, counts the failure in `EtcdClient.tlsFilesState()`, and tries
  /// again at the next look, so a certificate and key written one after the other are picked up once both are.
  ///
  /// A failed handshake (a certificate from an unknown CA, for another host name or expired; a client certificate
  /// the server refused) fails the calls waiting for that connection with `.connectionFailed` (gRPC
  /// `UNAVAILABLE`); the message starts with "TLS handshake with ENDPOINT failed" and says why, and `cause` is the
  /// NIOSSL error.
  public struct TLS: Sendable {
    /// The certificate authorities that may sign the server's certificate. Default: `.system`.
    public var trustRoots: TrustRoots = .system
    /// The certificate and key the client proves its identity with, for servers started with
    /// `--client-cert-auth` (mutual TLS). Default: none.
    public var clientCertificate: ClientCertificate?
    /// The name the server's certificate must be valid for, also sent as SNI. Default: nil, meaning the
    /// endpoint's host.
    ///
    /// For an endpoint given as an IP address, no SNI is sent and the certificate must carry that address as an
    /// IP subject alternative name; setting `serverName` there makes a DNS name in the certificate acceptable
    /// too.
    public var serverName: String?
    /// Accept any server certificate, from anyone, for any name. Default: false.
    ///
    /// For tests only: the connection is encrypted but not authenticated, so anyone between the client and the
    /// server can read and change every call. The client certificate, if any, is still sent.
    public var insecureSkipVerify: Bool = false
    /// How old the last look at the TLS files may be before a call to `EtcdClient.tlsCertificates()` or
    /// `EtcdClient.tlsFilesState()` looks again (a `stat` per file). Default: 30 seconds. nil: only new
    /// connections look.
    ///
    /// Every new connection looks at the files whatever this is; no timer runs. This makes a broken rotation
    /// visible to a caller that polls the state (a probe) before a new connection needs the files.
    public var reloadCheckInterval: Duration? = .seconds(30)

    /// The files the configuration reads, in a fixed order: CA files, then the client certificate chain and key.
    var files: [String] {
      var paths: [String] = []
      if case .files(let caFiles) = trustRoots.source { paths += caFiles }
      if let clientCertificate {
        if case .file(let path) = clientCertificate.certificateChain { paths.append(path) }
        if case .file(let path) = clientCertificate.privateKey { paths.append(path) }
      }
      return paths
    }

    /// Verification against the system's trusted CAs, no client certificate.
    public static var defaults: TLS { TLS() }

    /// Creates a TLS configuration with the defaults: system trust roots, no client certificate.
    public init() {}

    /// Where trusted CA certificates come from.
    public struct TrustRoots: Sendable, Hashable {
      enum Source: Sendable, Hashable {
        case system
        case files([String])
        case pem([UInt8])
      }
      let source: Source

      /// The operating system's trusted CAs (on Linux, the CA bundle at the usual paths).
      public static var system: TrustRoots { TrustRoots(source: .system) }
      /// The CA certificates in a PEM file (one or more certificates), as etcd's `--trusted-ca-file`.
      public static func file(_ path: String) -> TrustRoots { TrustRoots(source: .files([path])) }
      /// The CA certificates in several PEM files.
      public static func files(_ paths: [String]) -> TrustRoots { TrustRoots(source: .files(paths)) }
      /// CA certificates given as PEM text.
      public static func pem(_ bytes: [UInt8]) -> TrustRoots { TrustRoots(source: .pem(bytes)) }
      /// CA certificates given as PEM text.
      public static func pem(_ text: String) -> TrustRoots { .pem(Array(text.utf8)) }
    }

    /// A client certificate chain (leaf first) and its private key, both PEM.
    public struct ClientCertificate: Sendable, Hashable {
      enum Source: Sendable, Hashable {
        case file(String)
        case pem([UInt8])
      }
      let certificateChain: Source
      let privateKey: Source

      /// The chain and key from PEM files, as etcdctl's `--cert` and `--key`.
      public static func files(certificateChain: String, privateKey: String) -> ClientCertificate {
        ClientCertificate(certificateChain: .file(certificateChain), privateKey: .file(privateKey))
      }
      /// The chain and key as PEM text.
      public static func pem(certificateChain: [UInt8], privateKey: [UInt8]) -> ClientCertificate {
        ClientCertificate(certificateChain: .pem(certificateChain), privateKey: .pem(privateKey))
      }
    }
  }
}
