internal import CZlib
import FuzzSupport
internal import PrometheusMetrics
internal import PrometheusProto
internal import SwiftProtobuf

/// Fuzzes `MetricsRequestHandler`, everything the /metrics server does but I/O: routing by method
/// and path (query strings and odd bytes included), `Accept` negotiation, `Accept-Encoding` and
/// gzip, under each server configuration.
///
/// Checks: the status is one the server documents (200, 404, 405; never 503 when requests come
/// one at a time, so the in-flight count is balanced); exactly one `Content-Type`, no
/// `Content-Length` (the HTTP layer sets it), no CR, LF or NUL in any header; 404 only off the
/// served paths, 405 only for other methods on them and with `Allow`; health answers `ok`; a
/// scrape's body is what its `Content-Type` says (UTF-8 text ending in a newline, `# EOF` for
/// OpenMetrics, length-delimited `MetricFamily` messages that parse, for protobuf), gzipped exactly
/// when `Content-Encoding: gzip` says so and then, unzipped, equal to the identity body; a format
/// or gzip is chosen only when the request's header names it.
@main
enum FuzzMetricsRequest: FuzzTarget {
  static let methods = ["GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "get", "GET "]
  static let paths = [
    "/metrics", "/healthz", "/", "/metrics/", "/metrics?x=1", "/m", "/-/healthy", "//metrics",
    "/metrics%00", "",
  ]
  static let acceptValues = [
    "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited",
    "application/openmetrics-text;version=1.0.0", "application/openmetrics-text;version=0.0.1",
    "text/plain;version=0.0.4", "*/*", "text/plain;q=0.5", "application/openmetrics-text;q=0",
    // What Prometheus 3 sends with native histograms enabled.
    "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;"
      + "q=0.7,application/openmetrics-text;version=1.0.0;q=0.6,text/plain;version=0.0.4;q=0.3,"
      + "*/*;q=0.1",
  ]
  static let encodingValues = [
    "gzip", "gzip;q=0", "*", "*;q=0, gzip", "br, gzip;q=0.5", "identity",
  ]

  /// Handlers for every combination of the switches, each with its own small registry.
  static let handlers:
    [(configuration: MetricsServer.Configuration, handler: MetricsRequestHandler)] =
      (0..<16).map { bits in
        var configuration = MetricsServer.Configuration(host: "127.0.0.1", port: 0)
        configuration.enableGzip = bits & 1 != 0
        configuration.instrumentsItself = bits & 2 != 0
        configuration.maxRequestsInFlight = bits & 4 != 0 ? 1 : 0
        if bits & 8 != 0 {
          configuration.metricsPath = "/m"
          configuration.healthPath = "/-/healthy"
        }
        return (
          configuration,
          MetricsRequestHandler(registry: makeRegistry(), configuration: configuration)
        )
      }

  static func run(_ data: UnsafeRawBufferPointer) {
    var input = FuzzInput(data)
    let (configuration, handler) = input.choose(handlers)
    let request = ExporterRequest(
      method: pick(&input, methods), path: pick(&input, paths),
      accept: pickOptional(&input, acceptValues),
      acceptEncoding: pickOptional(&input, encodingValues))
    let response = handler.handle(request)
    check(response, for: request, configuration: configuration)
    // Without self-instrumentation the registry does not change between scrapes, so the same
    // request without gzip must give the identity body gzip compressed.
    if !configuration.instrumentsItself, response.header("Content-Encoding") == "gzip" {
      var identity = request
      identity.acceptEncoding = nil
      fuzzCheck(
        gunzip(response.body) == handler.handle(identity).body,
        "the gzipped body is not the identity body compressed")
    }
  }

  /// A value from `options`, or (the choice past them) an arbitrary string.
  static func pick(_ input: inout FuzzInput, _ options: [String]) -> String {
    let index = Int(input.byte()) % (options.count + 1)
    return index < options.count ? options[index] : input.string()
  }

  /// No header, or ``pick(_:_:)``.
  static func pickOptional(_ input: inout FuzzInput, _ options: [String]) -> String? {
    input.byte() & 1 == 0 ? nil : pick(&input, options)
  }

  static func check(
    _ response: ExporterResponse, for request: ExporterRequest,
    configuration: MetricsServer.Configuration
  ) {
    fuzzCheck([200, 404, 405].contains(response.status), "status \(response.status)")
    let contentTypes = response.headers.filter { $0.name.lowercased() == "content-type" }
    fuzzCheck(contentTypes.count == 1, "\(contentTypes.count) Content-Type headers")
    fuzzCheck(response.header("Content-Length") == nil, "Content-Length set by the handler")
    for header in response.headers {
      let bytes = Array(header.name.utf8) + Array(header.value.utf8)
      fuzzCheck(
        !bytes.contains { $0 == 0x0D || $0 == 0x0A || $0 == 0 } && !header.name.isEmpty,
        "header \(header) cannot go on the wire")
    }
    let served = [configuration.metricsPath, configuration.healthPath].contains(request.path)
    let isRead = request.method == "GET" || request.method == "HEAD"
    let plain = "text/plain; charset=utf-8"
    switch response.status {
    case 404:
      fuzzCheck(!served, "404 for a served path")
      fuzzCheck(response.header("Content-Type") == plain, "404 is not text")
    case 405:
      fuzzCheck(served && !isRead, "405 for \(request.method) \(request.path)")
      fuzzCheck(response.header("Allow") == "GET, HEAD", "405 without Allow")
    default:
      fuzzCheck(served && isRead, "200 for \(request.method) \(request.path)")
      if request.path == configuration.healthPath {
        fuzzCheck(response.body == Array("ok\n".utf8), "health body")
      } else {
        checkScrape(response, for: request, configuration: configuration)
      }
    }
  }

  static func checkScrape(
    _ response: ExporterResponse, for request: ExporterRequest,
    configuration: MetricsServer.Configuration
  ) {
    let accept = request.accept?.lowercased() ?? ""
    let contentType = response.header("Content-Type") ?? ""
    let encoding = response.header("Content-Encoding")
    let acceptEncoding = request.acceptEncoding?.lowercased() ?? ""
    fuzzCheck(encoding == nil || encoding == "gzip", "Content-Encoding \(encoding ?? "")")
    if encoding == "gzip" {
      fuzzCheck(configuration.enableGzip, "gzip while switched off")
      fuzzCheck(
        acceptEncoding.contains("gzip") || acceptEncoding.contains("*"),
        "gzip that Accept-Encoding does not name")
    } else if configuration.enableGzip && request.acceptEncoding?.lowercased() == "gzip" {
      fuzzCheck(false, "plain `Accept-Encoding: gzip` not honoured")
    }
    let body: [UInt8]
    if encoding == "gzip" {
      guard let unzipped = gunzip(response.body) else {
        fuzzCheck(false, "Content-Encoding: gzip, but the body does not gunzip")
        return
      }
      body = unzipped
    } else {
      body = response.body
    }
    switch contentType {
    case ExpositionFormat.protobufDelimited.contentType:
      fuzzCheck(accept.contains("application/vnd.google.protobuf"), "protobuf not asked for")
      fuzzCheck(parsesAsDelimitedFamilies(body), "the protobuf body does not parse")
    case ExpositionFormat.openMetrics1_0_0.contentType,
      ExpositionFormat.openMetrics0_0_1.contentType:
      fuzzCheck(accept.contains("application/openmetrics-text"), "OpenMetrics not asked for")
      fuzzCheck(isText(body) && body.suffix(6) == Array("# EOF\n".utf8), "OpenMetrics body")
    case ExpositionFormat.prometheusText0_0_4.contentType:
      fuzzCheck(isText(body) && (body.isEmpty || body.last == 0x0A), "text body")
    default:
      fuzzCheck(false, "unknown Content-Type \(contentType)")
    }
  }

  static func isText(_ body: [UInt8]) -> Bool {
    String(validating: body, as: UTF8.self) != nil
  }

  /// Whether `body` is a sequence of varint-length-prefixed `MetricFamily` messages.
  static func parsesAsDelimitedFamilies(_ body: [UInt8]) -> Bool {
    var offset = 0
    var families = 0
    while offset < body.count && families < 1_000 {
      var length = 0
      var shift = 0
      while true {
        guard offset < body.count, shift < 63 else { return false }
        let byte = body[offset]
        offset += 1
        length |= Int(byte & 0x7F) << shift
        shift += 7
        if byte & 0x80 == 0 { break }
      }
      guard length <= body.count - offset,
        (try? Io_Prometheus_Client_MetricFamily(
          serializedBytes: Array(body[offset..<(offset + length)])))
          != nil
      else { return false }
      offset += length
      families += 1
    }
    return offset == body.count
  }

  /// Inflates a gzip member; nil when it is not one, or not whole.
  static func gunzip(_ compressed: [UInt8]) -> [UInt8]? {
    var stream = z_stream()
    guard czlib_inflate_init_gzip(&stream) == Z_OK else {
      return nil
    }
    defer { inflateEnd(&stream) }
    var output: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65_536)
    var input = compressed
    return input.withUnsafeMutableBufferPointer { source -> [UInt8]? in
      stream.next_in = source.baseAddress
      stream.avail_in = uInt(source.count)
      // Each round produces output or ends; a 16 MiB cap bounds it whatever the input.
      for _ in 0..<256 {
        let result = chunk.withUnsafeMutableBufferPointer { destination -> Int32 in
          stream.next_out = destination.baseAddress
          stream.avail_out = uInt(destination.count)
          return inflate(&stream, Z_NO_FLUSH)
        }
        output += chunk[0..<(chunk.count - Int(stream.avail_out))]
        if result == Z_STREAM_END { return stream.avail_in == 0 ? output : nil }
        if result != Z_OK { return nil }
      }
      return nil
    }
  }

  /// A small registry with every kind of series the exposition formats write.
  static func makeRegistry() -> MetricsRegistry {
    let registry = MetricsRegistry()
    let requests = registry.makeCounterFamily(
      name: "etcd_client_requests_total", help: "RPCs by method and code.",
      labelNames: ["method", "code"])
    requests.labels("Range", "OK").increment(by: 41 as UInt64)
    requests.labels("Put \"quoted\"\n", "Unavailable\\").increment()
    registry.makeGauge(name: "etcd_client_connections", help: "Open connections.").set(3)
    let latency = registry.makeHistogramFamily(
      name: "etcd_client_request_duration_seconds", help: "RPC latency.",
      labelNames: ["method"], buckets: [0.001, 0.01, 0.1, 1], native: NativeHistogramOptions())
    for value in [0.0001, 0.003, 0.02, 0.2, 2, 0] { latency.labels("Range").observe(value) }
    _ = latency.labels("Put").observe(0.05, exemplar: ["trace_id": "4bf92f3577b34da6"])
    return registry
  }

  // MARK: - Seeds

  static var seeds: [(name: String, bytes: [UInt8])] {
    func seed(
      _ name: String, handler: Int, method: String, path: String, accept: String? = nil,
      encoding: String? = nil
    ) -> (String, [UInt8]) {
      var writer = FuzzInputWriter()
      writer.choice(handler)
      func write(_ value: String, _ options: [String]) {
        if let index = options.firstIndex(of: value) {
          writer.choice(index)
        } else {
          writer.choice(options.count)
          writer.string(value)
        }
      }
      write(method, methods)
      write(path, paths)
      for (value, options) in [(accept, acceptValues), (encoding, encodingValues)] {
        if let value {
          writer.byte(1)
          write(value, options)
        } else {
          writer.byte(0)
        }
      }
      return (name, writer.bytes)
    }
    let gzipOn = 1
    let instrumented = 3
    let custom = 9
    return [
      seed("get-text", handler: 0, method: "GET", path: "/metrics"),
      seed("head-text", handler: instrumented, method: "HEAD", path: "/metrics"),
      seed(
        "get-protobuf-gzip", handler: gzipOn, method: "GET", path: "/metrics",
        accept: acceptValues[0], encoding: "gzip"),
      seed(
        "get-openmetrics", handler: instrumented, method: "GET", path: "/metrics",
        accept: acceptValues[1]),
      seed(
        "prometheus-accept", handler: 7, method: "GET", path: "/metrics",
        accept: acceptValues[7], encoding: "gzip"),
      seed(
        "accept-quoted", handler: gzipOn, method: "GET", path: "/metrics",
        accept: "application/openmetrics-text; version=\"1.0.0\"; q=\"0.9\", text/plain;q=1e-3",
        encoding: "*;q=0, gzip;q=0.001"),
      seed("healthz", handler: 0, method: "GET", path: "/healthz"),
      seed("post-metrics", handler: 0, method: "POST", path: "/metrics"),
      seed("not-found", handler: 0, method: "GET", path: "/metrics/"),
      seed("query", handler: 0, method: "GET", path: "/metrics?format=json"),
      seed("custom-paths", handler: custom, method: "GET", path: "/m", encoding: "gzip"),
      seed("custom-health", handler: custom, method: "HEAD", path: "/-/healthy"),
      seed("odd-method", handler: 0, method: "BREW", path: "/metrics"),
    ]
  }
}
