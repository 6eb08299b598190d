import Foundation

/// Certificates for the TLS tests, made with `openssl` (Debian's openssl 3.0) in a temporary directory.
///
/// - `ca`: the test CA; `server` is signed by it for `IP:127.0.0.1` and `DNS:localhost`; `client` is a client
///   certificate signed by it.
/// - `otherCA`: an unrelated CA; `otherServer` is a server certificate (same names) signed by it.
/// - `wrongName`: signed by `ca`, for `DNS:wrong.example` only.
/// - `expired`: signed by `ca`, same names as `server`, valid only on 1 January 2020. openssl 3.0's `x509` has
///   no way to set a past validity; `openssl ca -startdate -enddate` with a minimal CA configuration does.
struct TestCertificates: Sendable {
  /// A certificate with its private key, as PEM files.
  struct Pair: Sendable {
    let certificate: String
    let key: String
  }

  let directory: String
  let ca: Pair
  let otherCA: Pair
  let server: Pair
  let client: Pair
  let otherServer: Pair
  let wrongName: Pair
  let expired: Pair

  /// Makes every certificate in a new directory.
  init() throws {
    let base = FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm" : NSTemporaryDirectory()
    let directory = base + "/etcd-swift-tls-\(getpid())-\(UUID().uuidString.prefix(8))"
    self.directory = directory
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    func path(_ name: String) -> String { directory + "/" + name }
    func pair(_ name: String) -> Pair { Pair(certificate: path(name + ".crt"), key: path(name + ".key")) }
    ca = pair("ca")
    otherCA = pair("other-ca")
    server = pair("server")
    client = pair("client")
    otherServer = pair("other-server")
    wrongName = pair("wrong-name")
    expired = pair("expired")

    try Self.write(
      """
      [req]
      distinguished_name = dn
      prompt = no
      [dn]
      CN = unused
      [ca_ext]
      basicConstraints = critical,CA:TRUE
      keyUsage = critical,keyCertSign,cRLSign
      subjectKeyIdentifier = hash
      [server_ext]
      subjectAltName = IP:127.0.0.1,DNS:localhost
      extendedKeyUsage = serverAuth,clientAuth
      [wrong_name_ext]
      subjectAltName = DNS:wrong.example
      extendedKeyUsage = serverAuth,clientAuth
      [client_ext]
      extendedKeyUsage = clientAuth

      [ca]
      default_ca = test_ca
      [test_ca]
      database = \(path("ca-index.txt"))
      serial = \(path("ca-serial"))
      new_certs_dir = \(directory)
      default_md = sha256
      policy = any_name
      copy_extensions = none
      [any_name]
      commonName = supplied
      """,
      to: path("openssl.cnf")
    )
    try Self.write("", to: path("ca-index.txt"))
    try Self.write("1000\n", to: path("ca-serial"))
    let config = path("openssl.cnf")

    func selfSigned(_ pair: Pair, name: String) throws {
      try Self.openssl([
        "req", "-x509", "-config", config, "-extensions", "ca_ext", "-newkey", "ec",
        "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", pair.key, "-out", pair.certificate,
        "-days", "3", "-subj", "/CN=\(name)",
      ])
    }
    func request(_ pair: Pair, name: String) throws -> String {
      let csr = pair.certificate + ".csr"
      try Self.openssl([
        "req", "-new", "-config", config, "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
        "-keyout", pair.key, "-out", csr, "-subj", "/CN=\(name)",
      ])
      return csr
    }
    func sign(_ pair: Pair, name: String, by issuer: Pair, extensions: String) throws {
      let csr = try request(pair, name: name)
      try Self.openssl([
        "x509", "-req", "-in", csr, "-CA", issuer.certificate, "-CAkey", issuer.key, "-CAcreateserial",
        "-out", pair.certificate, "-days", "3", "-extfile", config, "-extensions", extensions,
      ])
    }

    try selfSigned(ca, name: "etcd-swift test CA")
    try selfSigned(otherCA, name: "etcd-swift unrelated CA")
    try sign(server, name: "localhost", by: ca, extensions: "server_ext")
    try sign(client, name: "etcd-swift test client", by: ca, extensions: "client_ext")
    try sign(otherServer, name: "localhost", by: otherCA, extensions: "server_ext")
    try sign(wrongName, name: "wrong.example", by: ca, extensions: "wrong_name_ext")
    let expiredRequest = try request(expired, name: "localhost")
    try Self.openssl([
      "ca", "-batch", "-config", config, "-cert", ca.certificate, "-keyfile", ca.key, "-in", expiredRequest,
      "-out", expired.certificate, "-startdate", "20200101000000Z", "-enddate", "20200102000000Z",
      "-extfile", config, "-extensions", "server_ext", "-notext",
    ])
  }

  /// etcd's arguments to serve clients over TLS with `serving`; with `clientCA`, also to require client
  /// certificates signed by it.
  func etcdArguments(serving: Pair, clientCA: Pair? = nil) -> [String] {
    var arguments = ["--cert-file", serving.certificate, "--key-file", serving.key]
    if let clientCA {
      arguments += ["--trusted-ca-file", clientCA.certificate, "--client-cert-auth"]
    }
    return arguments
  }

  /// curl's arguments to present the client certificate in the fixture's health check.
  var clientCurlArguments: [String] { ["--cert", client.certificate, "--key", client.key] }

  /// Removes the directory.
  func remove() {
    try? FileManager.default.removeItem(atPath: directory)
  }

  private static func write(_ text: String, to path: String) throws {
    try text.write(toFile: path, atomically: true, encoding: .utf8)
  }

  private static func openssl(_ arguments: [String]) throws {
    let result = try run(["openssl"] + arguments)
    guard result.status == 0 else {
      throw FixtureError("openssl \(arguments.prefix(2).joined(separator: " ")) failed:\n\(result.output)")
    }
  }
}

/// Runs `body` with fresh test certificates and removes them afterwards.
@discardableResult
func withTestCertificates<T>(_ body: (TestCertificates) async throws -> T) async throws -> T {
  let certificates = try TestCertificates()
  defer { certificates.remove() }
  return try await body(certificates)
}
