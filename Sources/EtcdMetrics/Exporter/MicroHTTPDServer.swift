internal import CMicroHTTPD
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Owns one libmicrohttpd daemon: the one place that calls libmicrohttpd.
///
/// The daemon runs `threadCount` internal threads, each with its own epoll loop; each request is
/// handled synchronously on one of them by calling `handler` with the request head and sending the
/// ``ExporterResponse`` it returns. ``stop()`` (also called by `deinit`) waits for those threads.
final class MicroHTTPDServer: Sendable {
  /// What the daemon is tuned with.
  struct Options: Sendable {
    var threadCount: Int
    var maxConnections: Int
    var connectionTimeoutSeconds: Int
  }

  /// The port the listening socket is bound to.
  let port: Int
  /// The daemon, until stopped.
  private let daemon: Mutex<DaemonPointer?>
  /// What the C callback calls; kept alive here for as long as the daemon runs (the daemon only has
  /// an unretained pointer to it).
  private let dispatcher: RequestDispatcher

  /// Binds and starts the daemon.
  ///
  /// - Throws: ``MetricsServerError`` with `.invalidAddress` or `.startFailed`.
  init(
    host: String, port: Int, options: Options,
    handler: @escaping @Sendable (ExporterRequest) -> ExporterResponse
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

    let dispatcher = RequestDispatcher(handler: handler)
    let options: [MHD_OptionItem] = [
      .pointer(.SOCK_ADDR, UnsafeMutableRawPointer(address.pointee.ai_addr)),
      .integer(.THREAD_POOL_SIZE, max(options.threadCount, 1)),
      .integer(.CONNECTION_LIMIT, max(options.maxConnections, 1)),
      .integer(.CONNECTION_TIMEOUT, max(options.connectionTimeoutSeconds, 1)),
      .end,
    ]
    let flags = MicroHTTPDFlags.daemonFlags(ipv6: address.pointee.ai_family == AF_INET6)
    let started = options.withUnsafeBufferPointer { items in
      cmhd_start_daemon(
        flags, UInt16(port), MicroHTTPDCallbacks.accessHandler,
        Unmanaged.passUnretained(dispatcher).toOpaque(), items.baseAddress)
    }
    guard let started else {
      let error = errno
      throw MetricsServerError(
        code: .startFailed, message: "cannot listen on \(host):\(port)",
        cause: SystemError(errno: error, description: String(cString: strerror(error))))
    }
    self.port = Int(cmhd_daemon_bound_port(started))
    self.daemon = Mutex(DaemonPointer(pointer: started))
    self.dispatcher = dispatcher
  }

  deinit {
    stop()
  }

  /// Closes the listening socket and connections and waits for the server threads. Idempotent.
  func stop() {
    daemon.withLock { daemon in
      if let running = daemon {
        MHD_stop_daemon(running.pointer)
        daemon = nil
      }
    }
  }
}

/// A `struct MHD_Daemon *`.
struct DaemonPointer: @unchecked Sendable {
  // @unchecked Sendable: the pointer is only used inside MicroHTTPDServer's mutex (to stop the
  // daemon once); libmicrohttpd's own threads synchronise their use of the daemon themselves.
  let pointer: OpaquePointer
}

/// What the access-handler callback reaches through its context pointer.
final class RequestDispatcher: Sendable {
  let handler: @Sendable (ExporterRequest) -> ExporterResponse

  init(handler: @escaping @Sendable (ExporterRequest) -> ExporterResponse) {
    self.handler = handler
  }
}

/// The query arguments of one request, filled by libmicrohttpd's iterator on the calling thread: never
/// shared between threads.
private final class QueryArguments {
  var values: [String: String] = [:]
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
    let request = ExporterRequest(
      method: method.map { String(cString: $0) } ?? "",
      path: url.map { String(cString: $0) } ?? "/",
      accept: header(connection, "Accept"),
      acceptEncoding: header(connection, "Accept-Encoding"),
      query: arguments(connection))
    return send(dispatcher.handler(request), on: connection)
  }

  /// The query arguments, decoded by libmicrohttpd; an argument without `=` has an empty value.
  private static func arguments(_ connection: OpaquePointer) -> [String: String] {
    let collected = QueryArguments()
    let context = Unmanaged.passUnretained(collected).toOpaque()
    withExtendedLifetime(collected) {
      _ = MHD_get_connection_values(
        connection, .getArgument,
        { context, _, key, value in
          guard let context, let key else { return .YES }
          let collected = Unmanaged<QueryArguments>.fromOpaque(context).takeUnretainedValue()
          collected.values[String(cString: key)] = value.map { String(cString: $0) } ?? ""
          return .YES
        }, context)
    }
    return collected.values
  }

  private static func header(_ connection: OpaquePointer, _ name: String) -> String? {
    MHD_lookup_connection_value(connection, .header, name).map { String(cString: $0) }
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
