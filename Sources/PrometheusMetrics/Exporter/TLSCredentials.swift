#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The PEM data of a ``MetricsServer/Configuration/TLS`` setting, read from its files when the
/// server starts, each piece with a name of where it came from for error messages.
struct TLSCredentials: Sendable {
  /// One piece of PEM data.
  struct PEM: Sendable {
    /// The bytes, without a NUL (libmicrohttpd takes them as a C string).
    var bytes: [UInt8]
    /// What it is and where it came from, e.g. `the certificate file /etc/tls.crt`.
    var origin: String
  }

  /// The server's certificate chain.
  var certificate: PEM
  /// Its private key.
  var privateKey: PEM
  /// The CAs client certificates must chain to, if client certificates are checked.
  var clientCA: PEM?
  /// Whether client certificates are asked for, and required.
  var clientAuthentication: MetricsServer.Configuration.TLS.ClientAuthentication
  /// The GnuTLS priority string.
  var priorities: String

  /// The most bytes read from one file: PEM files are a few KiB, and a path to something endless
  /// (a FIFO, `/dev/zero`) must not hang the start.
  static let maxFileSize = 1 << 20

  /// Reads the files of `tls`.
  ///
  /// - Throws: ``MetricsServerError`` with `.tlsFileUnreadable` (the message names the file, the
  ///   cause carries `errno`) or `.invalidTLSCredentials` (a NUL byte, or more than
  ///   ``maxFileSize`` bytes).
  init(loading tls: MetricsServer.Configuration.TLS) throws(MetricsServerError) {
    certificate = try Self.pem(tls.certificate, role: "certificate")
    privateKey = try Self.pem(tls.privateKey, role: "private key")
    clientCA = try tls.clientCA.map { (source) throws(MetricsServerError) in
      try Self.pem(source, role: "client CA")
    }
    clientAuthentication = tls.clientAuthentication
    priorities = tls.gnutlsPriorities
  }

  private static func pem(
    _ source: MetricsServer.Configuration.TLS.Source, role: String
  ) throws(MetricsServerError) -> PEM {
    let pem: PEM
    switch source.storage {
    case .bytes(let bytes):
      pem = PEM(bytes: bytes, origin: "the \(role) (PEM given inline)")
    case .file(let path):
      let origin = "the \(role) file \(path)"
      pem = PEM(bytes: try readFile(path, origin: origin), origin: origin)
    }
    if pem.bytes.contains(0) {
      throw MetricsServerError(
        code: .invalidTLSCredentials, message: "\(pem.origin) contains a NUL byte: it is not PEM")
    }
    return pem
  }

  private static func readFile(_ path: String, origin: String) throws(MetricsServerError)
    -> [UInt8]
  {
    let descriptor = open(path, O_RDONLY | O_CLOEXEC)
    guard descriptor >= 0 else { throw unreadable(origin, errno: errno) }
    defer { close(descriptor) }
    var contents: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 16_384)
    while true {
      let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
      if count == 0 { return contents }
      if count < 0 {
        if errno == EINTR { continue }
        throw unreadable(origin, errno: errno)
      }
      contents += chunk[..<count]
      if contents.count > maxFileSize {
        throw MetricsServerError(
          code: .invalidTLSCredentials,
          message: "\(origin) is larger than \(maxFileSize) bytes: it is not PEM")
      }
    }
  }

  private static func unreadable(_ origin: String, errno error: Int32) -> MetricsServerError {
    let reason = String(cString: strerror(error))
    return MetricsServerError(
      code: .tlsFileUnreadable, message: "cannot read \(origin): \(reason)",
      cause: SystemError(errno: error, description: "open/read: \(reason)"))
  }
}
