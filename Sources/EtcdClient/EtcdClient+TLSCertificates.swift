public import Foundation

extension EtcdClient {
  /// When the certificates the client works with expire: its own, the CAs it trusts, and each server's.
  ///
  /// ```swift
  /// let expiry = client.tlsCertificates()
  /// if let notAfter = expiry.clientCertificateNotAfter, notAfter.timeIntervalSinceNow < 7 * 86_400 {
  ///   print("the client certificate expires within a week")
  /// }
  /// for (endpoint, notAfter) in expiry.serverCertificateNotAfter { print(endpoint, notAfter) }
  /// ```
  public struct TLSCertificateExpiry: Sendable, Hashable {
    /// The `notAfter` of the client certificate that new connections present (the first of its chain); nil
    /// without a client certificate.
    public var clientCertificateNotAfter: Date?
    /// The `notAfter` of each CA certificate that new connections trust, earliest first; empty for the
    /// system's trusted CAs, which the client does not read itself.
    public var trustRootsNotAfter: [Date]
    /// The `notAfter` of the certificate each endpoint presented at its latest TLS handshake, by endpoint as
    /// configured (the label calls and errors carry); an endpoint not yet connected to over TLS is absent.
    /// A handshake that failed verification (an expired certificate, an unknown CA) still counts.
    public var serverCertificateNotAfter: [String: Date]

    /// Creates an expiry report.
    public init(
      clientCertificateNotAfter: Date? = nil,
      trustRootsNotAfter: [Date] = [],
      serverCertificateNotAfter: [String: Date] = [:]
    ) {
      self.clientCertificateNotAfter = clientCertificateNotAfter
      self.trustRootsNotAfter = trustRootsNotAfter
      self.serverCertificateNotAfter = serverCertificateNotAfter
    }
  }

  /// How reloading the TLS files went: when they last loaded, how many loads failed, and why the latest did.
  ///
  /// `failedLoads` only grows; `isFailing` says whether the latest load failed, so that new connections use
  /// files older than those on disk.
  public struct TLSFilesState: Sendable, Hashable {
    /// The files watched: CA files, then the client certificate chain and key, as configured.
    public var files: [String]
    /// When the files last loaded (the first time: when the client was made).
    public var lastSuccessfulLoad: Date
    /// How many times the files loaded, the first load included.
    public var successfulLoads: Int
    /// How many loads failed since the client was made (each look at changed or still-failing files that did
    /// not give a context counts once).
    public var failedLoads: Int
    /// Whether the latest load failed: new connections use the last files that loaded.
    public var isFailing: Bool
    /// When a load last failed; nil if none did.
    public var lastFailure: Date?
    /// Why a load last failed (naming the file); kept after the files load again. Nil if none failed.
    public var lastError: String?

    /// Creates a state report.
    public init(
      files: [String],
      lastSuccessfulLoad: Date,
      successfulLoads: Int,
      failedLoads: Int,
      isFailing: Bool,
      lastFailure: Date?,
      lastError: String?
    ) {
      self.files = files
      self.lastSuccessfulLoad = lastSuccessfulLoad
      self.successfulLoads = successfulLoads
      self.failedLoads = failedLoads
      self.isFailing = isFailing
      self.lastFailure = lastFailure
      self.lastError = lastError
    }
  }

  /// When the client's certificates expire: the client certificate and trusted CAs of new connections, and
  /// the certificate each endpoint presented last.
  ///
  /// Cheap enough to call every probe round: a lock, and a `stat` per TLS file when the last look at them is
  /// older than `TLS.reloadCheckInterval` (files that changed are loaded then; see `Configuration.TLS`).
  ///
  /// - Returns: The expiry dates; all empty for a client without TLS.
  public func tlsCertificates() -> TLSCertificateExpiry {
    var expiry = TLSCertificateExpiry()
    if let store = endpoints.tls?.store {
      let material = store.material()
      expiry.clientCertificateNotAfter = material.clientCertificateNotAfter
      expiry.trustRootsNotAfter = material.trustRootsNotAfter
    }
    for connection in endpoints.all {
      if let notAfter = connection.serverCertificateNotAfter {
        expiry.serverCertificateNotAfter[connection.endpoint.description] = notAfter
      }
    }
    return expiry
  }

  /// How reloading the TLS files goes (see `Configuration.TLS`): last successful load, failed loads, last error.
  ///
  /// Looks at the files first when the last look is older than `TLS.reloadCheckInterval`.
  ///
  /// - Returns: The state; nil when the client reads no TLS file (no TLS, system CAs only, or PEM text).
  public func tlsFilesState() -> TLSFilesState? {
    endpoints.tls?.store.filesState()
  }
}
