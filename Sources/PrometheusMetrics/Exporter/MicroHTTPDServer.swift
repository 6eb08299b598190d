internal import CMicroHTTPD
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Owns one libmicrohttpd daemon: the one place that calls libmicrohttpd (and GnuTLS, which serves
/// its HTTPS).
///
/// The daemon runs `threadCount` internal threads, each with its own epoll loop; each request is
/// handled synchronously on one of them by calling `handler` with the request head and sending the
/// ``ExporterResponse`` it returns. ``stop()`` (also called by `deinit`) waits for those threads.
///
/// With TLS credentials the daemon speaks HTTPS only. When client certificates are checked,
/// libmicrohttpd itself merely requests one and never verifies it; the shim's connection hook
/// makes each TLS session require (or request) a certificate and verify it against the client CA
/// during the handshake, so a client without a valid one never gets to send a request, and each
/// request's connection is checked once more before it is handled.
final class MicroHTTPDServer: Sendable {
  /// What the daemon is tuned with.
  struct Options: Sendable {
    var threadCount: Int
    var maxConnections: Int
    var connectionTimeoutSeconds: Int
    /// The most bytes of memory per connection, which bounds its request head (libmicrohttpd's
    /// `MHD_OPTION_CONNECTION_MEMORY_LIMIT`).
    var connectionMemoryBytes: Int
    /// The head and send deadlines and the per-address bound.
    var deadlines: ConnectionDeadlines.Limits
    /// HTTPS credentials; `nil` serves plain HTTP.
    var tls: TLSCredentials? = nil
  }

  /// The port the listening socket is bound to.
  let port: Int
  /// The daemon, until stopped.
  private let daemon: Mutex<DaemonPointer?>
  /// What the C callback calls; kept alive here for as long as the daemon runs (the daemon only has
  /// an unretained pointer to it).
  private let dispatcher: RequestDispatcher
  /// The C strings the daemon was given for TLS, kept for as long as it runs.
  private let tlsStrings: TLSStrings?
  /// Holds the daemon's connections to their deadlines.
  private let sweeper: ConnectionSweeper

  /// Binds and starts the daemon.
  ///
  /// - Throws: ``MetricsServerError`` with `.invalidAddress` or `.startFailed`, or for TLS
  ///   credentials that do not parse or fit together `.invalidTLSCredentials`.
  /// - Parameters:
  ///   - closed: Counts each connection ended early, by reason.
  init(
    host: String, port: Int, options: Options,
    handler: @escaping @Sendable (ExporterRequest) -> ExporterResponse,
    closed: @escaping @Sendable (ConnectionDeadlines.CloseReason) -> Void = { _ in }
  ) throws(MetricsServerError) {
    guard (0...65535).contains(port) else {
      throw MetricsServerError(code: .invalidAddress, message: "port \(port) is out of range")
    }
    var hints = addrinfo()
    hints.ai_family = AF_UNSPEC
    hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV
    var resolved: UnsafeMutablePointer<addrinfo>? = nil
    let status = getaddrinfo(host, String(port), &hints, &resolved)
    guard status == 0, let address = resolved else {
      let reason = String(cString: gai_strerror(status))
      throw MetricsServerError(
        code: .invalidAddress, message: "cannot resolve \(host):\(port): \(reason)")
    }
    defer { freeaddrinfo(address) }

    var items: [MHD_OptionItem] = [
      .pointer(.SOCK_ADDR, UnsafeMutableRawPointer(address.pointee.ai_addr)),
      .integer(.THREAD_POOL_SIZE, max(options.threadCount, 1)),
      .integer(.CONNECTION_LIMIT, max(options.maxConnections, 1)),
      .integer(.CONNECTION_TIMEOUT, max(options.connectionTimeoutSeconds, 1)),
      .integer(.CONNECTION_MEMORY_LIMIT, options.connectionMemoryBytes),
    ]
    var clientCertificates = CMHD_CLIENT_CERTIFICATES_NONE
    var tlsStrings: TLSStrings? = nil
    if let tls = options.tls {
      let strings = TLSStrings(tls)
      try Self.check(tls, strings)
      items += [
        .pointer(.HTTPS_MEM_CERT, strings.certificate),
        .pointer(.HTTPS_MEM_KEY, strings.privateKey),
        .pointer(.HTTPS_PRIORITIES, strings.priorities),
      ]
      if let clientCA = strings.clientCA {
        items.append(.pointer(.HTTPS_MEM_TRUST, clientCA))
      }
      clientCertificates = MicroHTTPDFlags.clientCertificates(tls.clientAuthentication)
      tlsStrings = strings
    }
    items.append(.end)
    let sweeper = ConnectionSweeper(limits: options.deadlines, record: closed)
    guard sweeper.start() else {
      throw MetricsServerError(
        code: .startFailed, message: "cannot start the connection sweeper thread")
    }
    let dispatcher = RequestDispatcher(
      handler: handler, clientCertificates: clientCertificates, sweeper: sweeper)
    let flags = MicroHTTPDFlags.daemonFlags(
      ipv6: address.pointee.ai_family == AF_INET6, tls: options.tls != nil)
    let started = items.withUnsafeBufferPointer { items in
      cmhd_start_daemon(
        flags, UInt16(port), MicroHTTPDCallbacks.accessHandler,
        Unmanaged.passUnretained(dispatcher).toOpaque(),
        MicroHTTPDCallbacks.connectionNotification, MicroHTTPDCallbacks.requestCompleted,
        MicroHTTPDCallbacks.requestLineReceived, items.baseAddress)
    }
    guard let started else {
      let error = errno
      sweeper.stop()
      throw MetricsServerError(
        code: .startFailed,
        message: "cannot listen on \(host):\(port)\(options.tls == nil ? "" : " with TLS")",
        cause: SystemError(errno: error, description: String(cString: strerror(error))))
    }
    self.port = Int(cmhd_daemon_bound_port(started))
    self.daemon = Mutex(DaemonPointer(pointer: started))
    self.dispatcher = dispatcher
    self.tlsStrings = tlsStrings
    self.sweeper = sweeper
  }

  /// Checks with GnuTLS, as libmicrohttpd will load them, that the certificate chain and key parse
  /// and belong together and that a client-CA bundle holds certificates; libmicrohttpd itself only
  /// fails to start, without saying why.
  ///
  /// - Throws: ``MetricsServerError`` with `.invalidTLSCredentials`, naming the file(s).
  private static func check(_ tls: TLSCredentials, _ strings: TLSStrings)
    throws(MetricsServerError)
  {
    func reason(_ code: Int32) -> String { String(cString: gnutls_strerror(code)) }
    var error: Int32 = 0
    switch cmhd_tls_check_key_pair(strings.certificate, strings.privateKey, &error) {
    case CMHD_TLS_KEY_PAIR_OK:
      break
    case CMHD_TLS_BAD_CERTIFICATE:
      throw MetricsServerError(
        code: .invalidTLSCredentials,
        message: "\(tls.certificate.origin) holds no usable PEM certificate: \(reason(error))")
    case CMHD_TLS_BAD_KEY:
      throw MetricsServerError(
        code: .invalidTLSCredentials,
        message: "\(tls.privateKey.origin) holds no usable unencrypted PEM private key: "
          + reason(error))
    default:
      throw MetricsServerError(
        code: .invalidTLSCredentials,
        message: "\(tls.privateKey.origin) does not belong to the certificate in "
          + "\(tls.certificate.origin): \(reason(error))")
    }
    if let clientCA = tls.clientCA, let clientCAString = strings.clientCA {
      let count = cmhd_tls_certificate_count(clientCAString)
      if count < 0 {
        throw MetricsServerError(
          code: .invalidTLSCredentials,
          message: "\(clientCA.origin) holds no usable PEM certificate: \(reason(count))")
      }
    }
  }

  deinit {
    stop()
  }

  /// Closes the listening socket and connections and waits for the server threads and the
  /// sweeper. Idempotent.
  func stop() {
    daemon.withLock { daemon in
      if let running = daemon {
        MHD_stop_daemon(running.pointer)
        daemon = nil
      }
    }
    sweeper.stop()
  }
}

/// A `struct MHD_Daemon *`.
struct DaemonPointer: @unchecked Sendable {
  // @unchecked Sendable: the pointer is only used inside MicroHTTPDServer's mutex (to stop the
  // daemon once); libmicrohttpd's own threads synchronise their use of the daemon themselves.
  let pointer: OpaquePointer
}

/// NUL-terminated copies of the TLS data the daemon is given as `const char *`: libmicrohttpd keeps
/// the pointers rather than copies, so they live as long as the server that owns this. `deinit`
/// zeroes the private key before it frees it.
final class TLSStrings: @unchecked Sendable {
  // @unchecked Sendable: the buffers are written only in init; afterwards libmicrohttpd only reads
  // them, and deinit runs when the owning MicroHTTPDServer is released, after its deinit stopped
  // the daemon and so every thread that could read them.
  let certificate: UnsafeMutablePointer<CChar>
  let privateKey: UnsafeMutablePointer<CChar>
  let clientCA: UnsafeMutablePointer<CChar>?
  let priorities: UnsafeMutablePointer<CChar>
  private let privateKeyLength: Int

  init(_ tls: TLSCredentials) {
    certificate = Self.copy(tls.certificate.bytes)
    privateKey = Self.copy(tls.privateKey.bytes)
    privateKeyLength = tls.privateKey.bytes.count
    clientCA = tls.clientCA.map { Self.copy($0.bytes) }
    priorities = Self.copy(Array(tls.priorities.utf8))
  }

  deinit {
    // explicit_bzero and memset_s, unlike plain stores, are not dropped as dead before the free.
    #if canImport(Glibc)
    explicit_bzero(privateKey, privateKeyLength)
    #else
    _ = memset_s(privateKey, privateKeyLength, 0, privateKeyLength)
    #endif
    for pointer in [certificate, privateKey, clientCA, priorities] { pointer?.deallocate() }
  }

  private static func copy(_ bytes: [UInt8]) -> UnsafeMutablePointer<CChar> {
    let pointer = UnsafeMutablePointer<CChar>.allocate(capacity: bytes.count + 1)
    for (index, byte) in bytes.enumerated() { pointer[index] = CChar(bitPattern: byte) }
    pointer[bytes.count] = 0
    return pointer
  }
}

/// What the access-handler callback reaches through its context pointer.
final class RequestDispatcher: Sendable {
  let handler: @Sendable (ExporterRequest) -> ExporterResponse
  /// The shim's client-certificate mode (`CMHD_CLIENT_CERTIFICATES_*`).
  let clientCertificates: Int32
  /// Told of each connection's start, requests and close.
  let sweeper: ConnectionSweeper

  init(
    handler: @escaping @Sendable (ExporterRequest) -> ExporterResponse, clientCertificates: Int32,
    sweeper: ConnectionSweeper
  ) {
    self.handler = handler
    self.clientCertificates = clientCertificates
    self.sweeper = sweeper
  }
}

/// The query arguments or header fields of one request, filled by libmicrohttpd's iterator on the
/// calling thread: never shared between threads.
private final class ConnectionValues {
  /// Header fields: names lowercased, and the values of a repeated name joined with `", "`.
  /// Query arguments: names as sent, and the last value of a repeated name kept.
  let areHeaders: Bool
  var values: [String: String] = [:]

  init(areHeaders: Bool) {
    self.areHeaders = areHeaders
  }

  func add(_ key: String, _ value: String) {
    if areHeaders {
      let name = key.lowercased()
      values[name] = values[name].map { $0 + ", " + value } ?? value
    } else {
      values[key] = value
    }
  }
}

/// The C callbacks. A nonisolated type in the library, so they are never inferred `@MainActor`
/// (libmicrohttpd calls them on its own threads).
enum MicroHTTPDCallbacks {
  static let accessHandler: MHD_AccessHandlerCallback = {
    context, connection, url, method, _, _, uploadDataSize, requestContext in
    guard let context, let connection else { return .NO }
    // libmicrohttpd calls again for each chunk of a request body; the response was queued on the
    // first call, so discard the rest.
    if let requestContext, requestContext.pointee != nil {
      uploadDataSize?.pointee = 0
      return .YES
    }
    requestContext?.pointee = context
    let dispatcher = Unmanaged<RequestDispatcher>.fromOpaque(context).takeUnretainedValue()
    let id = ConnectionDeadlines.ID(bitPattern: Int(bitPattern: connection))
    dispatcher.sweeper.headReceived(id)
    // The handshake enforced the client-certificate policy; a connection that fails it here is
    // closed without an answer, as a failed handshake would be.
    if dispatcher.clientCertificates != CMHD_CLIENT_CERTIFICATES_NONE,
      cmhd_check_client_certificate(connection, dispatcher.clientCertificates) != 0
    {
      return .NO
    }
    let headers = values(connection, .header)
    let request = ExporterRequest(
      method: method.map { String(cString: $0) } ?? "",
      path: url.map { String(cString: $0) } ?? "/",
      accept: headers["accept"],
      acceptEncoding: headers["accept-encoding"],
      query: values(connection, .getArgument),
      headers: headers)
    let queued = send(dispatcher.handler(request), on: connection)
    dispatcher.sweeper.responseQueued(id)
    return queued
  }

  /// Tells the sweeper of each connection's start (with its socket and client address) and close;
  /// on an HTTPS daemon that checks client certificates, also sets up the new connection's TLS
  /// session.
  static let connectionNotification: MHD_NotifyConnectionCallback = {
    context, connection, _, code in
    guard let context, let connection else { return }
    let dispatcher = Unmanaged<RequestDispatcher>.fromOpaque(context).takeUnretainedValue()
    let id = ConnectionDeadlines.ID(bitPattern: Int(bitPattern: connection))
    switch code {
    case .CONNECTION_NOTIFY_STARTED:
      if dispatcher.clientCertificates != CMHD_CLIENT_CERTIFICATES_NONE {
        cmhd_configure_client_certificates(connection, dispatcher.clientCertificates)
      }
      var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN) + 1)
      let known = cmhd_connection_client_address(connection, &text, text.count) == 0
      let bytes = text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
      let address = known ? String(decoding: bytes, as: UTF8.self) : ""
      dispatcher.sweeper.connectionStarted(
        id, socket: cmhd_connection_socket(connection), address: address)
    case .CONNECTION_NOTIFY_CLOSED:
      dispatcher.sweeper.connectionClosed(id)
    default:
      break
    }
  }

  /// Tells the sweeper that a request line arrived. Returns no request context, which leaves it to
  /// the access handler.
  static let requestLineReceived:
    @convention(c) (UnsafeMutableRawPointer?, UnsafePointer<CChar>?, OpaquePointer?) ->
      UnsafeMutableRawPointer? = { context, _, connection in
        guard let context, let connection else { return nil }
        let dispatcher = Unmanaged<RequestDispatcher>.fromOpaque(context).takeUnretainedValue()
        dispatcher.sweeper.requestLineReceived(
          ConnectionDeadlines.ID(bitPattern: Int(bitPattern: connection)))
        return nil
      }

  /// Tells the sweeper that a request completed, with the status of the response queued for it
  /// (the handler's, or libmicrohttpd's own answer to a head it refused).
  static let requestCompleted: MHD_RequestCompletedCallback = { context, connection, _, _ in
    guard let context, let connection else { return }
    let dispatcher = Unmanaged<RequestDispatcher>.fromOpaque(context).takeUnretainedValue()
    let status = Int(cmhd_connection_http_status(connection))
    dispatcher.sweeper.requestCompleted(
      ConnectionDeadlines.ID(bitPattern: Int(bitPattern: connection)),
      status: status == 0 ? nil : status)
  }

  /// The header fields (names lowercased) or the query arguments (decoded by libmicrohttpd; an
  /// argument without `=` has an empty value).
  private static func values(_ connection: OpaquePointer, _ kind: MHD_ValueKind) -> [String: String]
  {
    let collected = ConnectionValues(areHeaders: kind == .header)
    let context = Unmanaged.passUnretained(collected).toOpaque()
    withExtendedLifetime(collected) {
      _ = MHD_get_connection_values(
        connection, kind,
        { context, _, key, value in
          guard let context, let key else { return .YES }
          let collected = Unmanaged<ConnectionValues>.fromOpaque(context).takeUnretainedValue()
          collected.add(String(cString: key), value.map { String(cString: $0) } ?? "")
          return .YES
        }, context)
    }
    return collected.values
  }

  private static func send(_ response: ExporterResponse, on connection: OpaquePointer) -> MHD_Result
  {
    let created = response.body.withUnsafeBytes { body in
      MHD_create_response_from_buffer(
        body.count, UnsafeMutableRawPointer(mutating: body.baseAddress), .copy)
    }
    guard let created else { return .NO }
    defer { MHD_destroy_response(created) }
    for header in response.headers {
      guard MHD_add_response_header(created, header.name, header.value) == .YES else { return .NO }
    }
    return MHD_queue_response(connection, UInt32(response.status), created)
  }
}
