import Foundation

/// Certificates for HTTPS tests, made with the `openssl` CLI in a fresh temporary directory: a CA
/// and a server certificate for 127.0.0.1 and localhost signed by it; a client CA and a client
/// certificate signed by that; a self-signed client certificate nobody trusts; and a key that
/// belongs to no certificate. All keys are P-256.
struct TLSTestFixtures {
  static let openssl = "/usr/bin/openssl"
  static let curl = "/usr/bin/curl"
  /// Whether `openssl` and `curl` are installed (Debian: openssl, curl).
  static var available: Bool {
    FileManager.default.isExecutableFile(atPath: openssl)
      && FileManager.default.isExecutableFile(atPath: curl)
  }

  let directory: String
  var caCertificate: String { directory + "/ca.crt" }
  var serverCertificate: String { directory + "/server.crt" }
  var serverKey: String { directory + "/server.key" }
  var clientCACertificate: String { directory + "/client-ca.crt" }
  var clientCertificate: String { directory + "/client.crt" }
  var clientKey: String { directory + "/client.key" }
  var untrustedClientCertificate: String { directory + "/untrusted.crt" }
  var untrustedClientKey: String { directory + "/untrusted.key" }
  var strayKey: String { directory + "/stray.key" }

  init() throws {
    directory =
      FileManager.default.temporaryDirectory
      .appendingPathComponent("metrics-server-tls-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
    let caExtensions = [
      "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign",
    ]
    for (name, subject) in [("ca", "/CN=metrics test CA"), ("client-ca", "/CN=metrics client CA")] {
      try openssl(
        ["req", "-x509"] + ec + ["-keyout", "\(name).key", "-out", "\(name).crt", "-days", "2"]
          + ["-subj", subject] + caExtensions)
    }
    try write(
      "server.ext",
      "basicConstraints=CA:FALSE\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n"
        + "extendedKeyUsage=serverAuth\n")
    try write("client.ext", "basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n")
    for (name, ca, serial) in [("server", "ca", "2"), ("client", "client-ca", "3")] {
      try openssl(
        ["req"] + ec + ["-keyout", "\(name).key", "-out", "\(name).csr", "-subj", "/CN=\(name)"])
      try openssl([
        "x509", "-req", "-in", "\(name).csr", "-CA", "\(ca).crt", "-CAkey", "\(ca).key",
        "-set_serial", serial, "-days", "2", "-extfile", "\(name).ext", "-out", "\(name).crt",
      ])
    }
    try openssl(
      ["req", "-x509"] + ec
        + [
          "-keyout", "untrusted.key", "-out", "untrusted.crt", "-days", "2", "-subj", "/CN=nobody",
        ]
        + ["-addext", "extendedKeyUsage=clientAuth"])
    try openssl([
      "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", "stray.key",
    ])
  }

  /// Deletes the directory.
  func remove() {
    try? FileManager.default.removeItem(atPath: directory)
  }

  /// The contents of a file in the directory.
  func contents(_ path: String) throws -> String {
    try String(contentsOfFile: path, encoding: .utf8)
  }

  private func write(_ name: String, _ text: String) throws {
    try text.write(toFile: directory + "/" + name, atomically: true, encoding: .utf8)
  }

  private func openssl(_ arguments: [String]) throws {
    let result = try Self.run(Self.openssl, arguments, in: directory)
    guard result.status == 0 else {
      throw LoopbackTestFailure("openssl \(arguments.joined(separator: " ")): \(result.output)")
    }
  }

  /// Runs a program to its end; returns its exit status and its output and error output together.
  static func run(_ executable: String, _ arguments: [String], in directory: String? = nil) throws
    -> (status: Int32, output: String)
  {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
    let output = Pipe()
    process.standardOutput = output
    process.standardError = output
    try process.run()
    let printed = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: printed, as: UTF8.self))
  }

  /// What `curl` made of one request.
  struct CurlResult {
    /// curl's exit code: 0 when it got a response (of any status).
    var exitCode: Int32
    /// The response's status code; `nil` when there was no response.
    var status: Int?
    /// The response body.
    var body: String
    /// curl's messages.
    var output: String
  }

  /// Fetches `url` with `curl`, trusting ``caCertificate``, plus further `arguments`.
  func curl(_ url: String, _ arguments: [String] = []) throws -> CurlResult {
    let bodyFile = directory + "/body-\(UUID().uuidString)"
    defer { try? FileManager.default.removeItem(atPath: bodyFile) }
    let result = try Self.run(
      Self.curl,
      ["-sS", "--max-time", "10", "--cacert", caCertificate, "-o", bodyFile, "-w", "%{http_code}"]
        + arguments + [url])
    // With -w, curl prints the status last (000 without a response), after any error message.
    let status = Int(result.output.suffix(3)).flatMap { $0 == 0 ? nil : $0 }
    let body = (try? String(contentsOfFile: bodyFile, encoding: .utf8)) ?? ""
    return CurlResult(exitCode: result.status, status: status, body: body, output: result.output)
  }
}

/// A step of a test fixture that failed.
struct LoopbackTestFailure: Error, CustomStringConvertible {
  var description: String

  init(_ description: String) {
    self.description = description
  }
}
