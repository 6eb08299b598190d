import Testing

@testable import PrometheusMetrics

@Suite("Content negotiation")
struct ContentNegotiationTests {
  static let prometheus242 =
    "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,"
    + "text/plain;version=0.0.4;q=0.5,*/*;q=0.1"

  /// What Prometheus 2.42 sends when started with `--enable-feature=native-histograms`
  /// (`scrapeAcceptHeaderWithProtobuf` in its scrape/scrape.go).
  static let prometheus242NativeHistograms =
    "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited,"
    + "application/openmetrics-text;version=1.0.0;q=0.8,"
    + "application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"

  @Test(
    "Accept headers pick the best supported format",
    arguments: [
      (prometheus242, .openMetrics1_0_0),
      (prometheus242NativeHistograms, .protobufDelimited),
      (nil, .prometheusText0_0_4),
      ("", .prometheusText0_0_4),
      ("*/*", .prometheusText0_0_4),
      ("text/plain", .prometheusText0_0_4),
      ("text/plain;version=0.0.4", .prometheusText0_0_4),
      ("application/openmetrics-text", .openMetrics0_0_1),
      ("application/openmetrics-text; version=0.0.1", .openMetrics0_0_1),
      ("application/openmetrics-text; version=\"1.0.0\"; charset=utf-8", .openMetrics1_0_0),
      ("Application/OpenMetrics-Text;Version=1.0.0", .openMetrics1_0_0),
      // Weights beat order.
      (
        "text/plain;version=0.0.4;q=0.5,application/openmetrics-text;version=1.0.0",
        .openMetrics1_0_0
      ),
      ("application/openmetrics-text;version=1.0.0;q=0.2,text/plain;q=0.3", .prometheusText0_0_4),
      // q=0 means "not acceptable"; unsupported versions and types are skipped.
      ("application/openmetrics-text;version=1.0.0;q=0,text/plain", .prometheusText0_0_4),
      (
        "application/openmetrics-text;version=2.0.0,"
          + "application/openmetrics-text;version=0.0.1;q=0.9",
        .openMetrics0_0_1
      ),
      ("text/plain;version=0.0.5,application/openmetrics-text;q=0.1", .openMetrics0_0_1),
      (
        "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;"
          + "encoding=delimited",
        .protobufDelimited
      ),
      (
        "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; "
          + "encoding=delimited; q=0.5, text/plain;q=0.6",
        .prometheusText0_0_4
      ),
      // Other protobuf encodings (text, compact-text) and messages are not supported.
      (
        "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=text,"
          + "application/openmetrics-text;q=0.1",
        .openMetrics0_0_1
      ),
      (
        "application/vnd.google.protobuf;proto=other.Message;encoding=delimited",
        .prometheusText0_0_4
      ),
      ("garbage;;;,,=", .prometheusText0_0_4),
      ("application/openmetrics-text;version=1.0.0;q=abc", .prometheusText0_0_4),
    ] as [(String?, ExpositionFormat)])
  func negotiate(accept: String?, format: ExpositionFormat) {
    #expect(ExpositionFormat.negotiate(accept: accept) == format)
  }

  @Test("every format has a non-empty content type")
  func contentTypes() {
    #expect(
      ExpositionFormat.prometheusText0_0_4.contentType == "text/plain; version=0.0.4; charset=utf-8"
    )
    #expect(
      ExpositionFormat.openMetrics1_0_0.contentType
        == "application/openmetrics-text; version=1.0.0; charset=utf-8")
    #expect(
      ExpositionFormat.openMetrics0_0_1.contentType
        == "application/openmetrics-text; version=0.0.1; charset=utf-8")
    #expect(
      ExpositionFormat.protobufDelimited.contentType
        == "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; "
        + "encoding=delimited")
  }

  @Test(
    "Accept-Encoding",
    arguments: [
      ("gzip", true), ("gzip, deflate, br", true), ("deflate, gzip;q=0.5", true),
      ("GZIP", true), ("gzip;q=0", false), ("deflate", false), ("", false), (nil, false),
      ("*", true), ("*;q=0", false), ("identity, *;q=0.1", true), ("gzip;q=0, *", false),
    ] as [(String?, Bool)])
  func acceptEncoding(header: String?, gzip: Bool) {
    #expect(AcceptHeader.acceptsEncoding(header, "gzip") == gzip)
  }
}
