/// An exposition format the metrics server can answer with, chosen from a scrape's `Accept` header.
public enum ExpositionFormat: Sendable, Hashable, CaseIterable {
  /// The Prometheus text format 0.0.4, the default.
  case prometheusText0_0_4
  /// OpenMetrics text 1.0.0.
  case openMetrics1_0_0
  /// OpenMetrics text 0.0.1 (the same text as 1.0.0; Prometheus still offers it).
  case openMetrics0_0_1
  /// Prometheus' length-delimited protobuf `MetricFamily` messages: the only format that carries
  /// native histograms.
  case protobufDelimited

  /// The `Content-Type` of a response in this format.
  public var contentType: String {
    switch self {
    case .prometheusText0_0_4: PrometheusTextFormat.contentType
    case .openMetrics1_0_0: OpenMetricsTextFormat.contentType
    case .openMetrics0_0_1: "application/openmetrics-text; version=0.0.1; charset=utf-8"
    case .protobufDelimited: ProtobufFormat.contentType
    }
  }

  /// Encodes families in this format.
  ///
  /// - Parameter families: The families, in the order to write them.
  /// - Returns: The UTF-8 text, or the protobuf messages.
  public func encode(_ families: [MetricFamilySnapshot]) -> [UInt8] {
    switch self {
    case .prometheusText0_0_4: PrometheusTextFormat.encode(families)
    case .openMetrics1_0_0, .openMetrics0_0_1: OpenMetricsTextFormat.encode(families)
    case .protobufDelimited: ProtobufFormat.encode(families)
    }
  }

  /// Picks the best supported format for an `Accept` header.
  ///
  /// Media ranges are tried in order of decreasing `q` (ties keep header order), as client_golang's
  /// `NegotiateIncludingOpenMetrics` does: `application/vnd.google.protobuf` with
  /// `proto=io.prometheus.client.MetricFamily` and `encoding=delimited`,
  /// `application/openmetrics-text` with version `1.0.0`, `0.0.1` or none, and `text/plain` with
  /// version `0.0.4` or none, are supported; ranges with `q=0` are not acceptable. Anything else, a
  /// missing or malformed header included, gives the default, text 0.0.4 (including for a lone
  /// `*/*`). Prometheus started with `--enable-feature=native-histograms` lists protobuf first and
  /// gets it.
  ///
  /// - Parameter accept: The header's value, if the request had one.
  /// - Returns: The format to answer with.
  public static func negotiate(accept: String?) -> ExpositionFormat {
    guard let accept else { return .prometheusText0_0_4 }
    for range in AcceptHeader.parse(accept) where range.quality > 0 {
      let version = range.parameters["version"]
      switch range.mediaType {
      case "application/vnd.google.protobuf":
        if range.parameters["proto"] == "io.prometheus.client.MetricFamily"
          && range.parameters["encoding"] == "delimited"
        {
          return .protobufDelimited
        }
      case "application/openmetrics-text":
        switch version {
        case "1.0.0": return .openMetrics1_0_0
        case "0.0.1", nil: return .openMetrics0_0_1
        default: continue
        }
      case "text/plain":
        if version == nil || version == "0.0.4" { return .prometheusText0_0_4 }
      default:
        continue
      }
    }
    return .prometheusText0_0_4
  }
}

extension MetricsRegistry {
  /// Scrapes the registry and encodes it.
  ///
  /// - Parameter format: The exposition format.
  /// - Returns: The UTF-8 text, or the protobuf messages.
  public func exposition(format: ExpositionFormat) -> [UInt8] {
    var body: [UInt8] = []
    // The latest body's size and a little more: one allocation for a registry that changed little.
    let latest = latestSize(of: format)
    body.reserveCapacity(latest == 0 ? 4096 : latest + latest / 8)
    exposition(format: format, into: &body)
    return body
  }

  /// Scrapes the registry and encodes it into a buffer the caller keeps between scrapes.
  ///
  /// Each family keeps its series' names and labels rendered until series come or go, so a scrape
  /// writes current values around ready-made bytes and, once `buffer` has grown to the body's size,
  /// allocates nothing for families of counters, gauges and classic histograms.
  ///
  /// - Parameters:
  ///   - format: The exposition format.
  ///   - buffer: Emptied (keeping its capacity), then filled with the UTF-8 text or the protobuf
  ///     messages.
  public func exposition(format: ExpositionFormat, into buffer: inout [UInt8]) {
    buffer.removeAll(keepingCapacity: true)
    // Each encoder takes over the buffer's storage and hands it back, so it is never copied.
    switch format {
    case .prometheusText0_0_4:
      var encoder = PrometheusTextFormat.Encoder(writer: ExpositionWriter(continuing: buffer))
      buffer = []
      expose(into: &encoder)
      buffer = encoder.writer.bytes
    case .openMetrics1_0_0, .openMetrics0_0_1:
      var encoder = OpenMetricsTextFormat.Encoder(writer: ExpositionWriter(continuing: buffer))
      buffer = []
      expose(into: &encoder)
      buffer = encoder.writer.bytes
    case .protobufDelimited:
      var encoder = ProtobufFormat.Encoder(writer: ExpositionWriter(continuing: buffer))
      buffer = []
      expose(into: &encoder)
      buffer = encoder.writer.bytes
    }
    setLatestSize(buffer.count, of: format)
  }
}

/// Parsing of `Accept` and `Accept-Encoding` headers (RFC 9110 §12.5.1, §12.5.3).
enum AcceptHeader {
  /// One media range of an `Accept` header.
  struct MediaRange: Equatable {
    /// `type/subtype`, lowercased.
    var mediaType: String
    /// Parameters other than `q`, names lowercased, values unquoted.
    var parameters: [String: String]
    /// The `q` weight, 1 when absent; 0 when malformed.
    var quality: Double
  }

  /// Splits a header into media ranges, sorted by decreasing quality (stable).
  static func parse(_ header: String) -> [MediaRange] {
    var ranges: [MediaRange] = []
    for element in splitOutsideQuotes(header, separator: ",") {
      let parts = splitOutsideQuotes(element, separator: ";")
      guard let first = parts.first else { continue }
      let mediaType = trim(first).lowercased()
      guard !mediaType.isEmpty else { continue }
      var parameters: [String: String] = [:]
      var quality = 1.0
      for parameter in parts.dropFirst() {
        guard let equals = parameter.firstIndex(of: "=") else { continue }
        let name = trim(parameter[..<equals]).lowercased()
        var value = trim(parameter[parameter.index(after: equals)...])
        if value.count >= 2, value.hasPrefix("\""), value.hasSuffix("\"") {
          value = String(value.dropFirst().dropLast()).replacingBackslashEscapes()
        }
        if name == "q" {
          quality = Double(value).flatMap { (0...1).contains($0) ? $0 : nil } ?? 0
        } else {
          parameters[name] = value
        }
      }
      ranges.append(MediaRange(mediaType: mediaType, parameters: parameters, quality: quality))
    }
    // A stable sort by decreasing quality.
    return ranges.enumerated()
      .sorted {
        $0.element.quality != $1.element.quality
          ? $0.element.quality > $1.element.quality : $0.offset < $1.offset
      }
      .map(\.element)
  }

  /// Whether an `Accept-Encoding` header accepts `coding` (with a non-zero `q`, or through `*`).
  static func acceptsEncoding(_ header: String?, _ coding: String) -> Bool {
    guard let header else { return false }
    var wildcard: Bool? = nil
    for range in parse(header) {
      if range.mediaType == coding { return range.quality > 0 }
      if range.mediaType == "*", wildcard == nil { wildcard = range.quality > 0 }
    }
    return wildcard ?? false
  }

  private static func trim(_ text: some StringProtocol) -> String {
    String(
      text.drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }
        .reversed())
  }

  private static func splitOutsideQuotes(_ text: some StringProtocol, separator: Character)
    -> [String]
  {
    var parts: [String] = []
    var current = ""
    var inQuotes = false
    var escaped = false
    for character in text {
      if escaped {
        escaped = false
      } else if inQuotes && character == "\\" {
        escaped = true
      } else if character == "\"" {
        inQuotes.toggle()
      } else if character == separator && !inQuotes {
        parts.append(current)
        current = ""
        continue
      }
      current.append(character)
    }
    parts.append(current)
    return parts
  }
}

extension String {
  /// Removes the backslashes of quoted-pair escapes.
  fileprivate func replacingBackslashEscapes() -> String {
    var result = ""
    var escaped = false
    for character in self {
      if !escaped && character == "\\" {
        escaped = true
        continue
      }
      escaped = false
      result.append(character)
    }
    return result
  }
}
