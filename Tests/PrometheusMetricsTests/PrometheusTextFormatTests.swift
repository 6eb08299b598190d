import Testing

@testable import PrometheusMetrics

@Suite("Prometheus text format 0.0.4")
struct PrometheusTextFormatTests {
  @Test("golden output")
  func golden() {
    let expected = #"""
      # HELP etcd_requests_total Requests by method and code.
      # TYPE etcd_requests_total counter
      etcd_requests_total{method="Put",code="OK"} 2
      etcd_requests_total{method="Range",code="OK"} 1027
      # HELP queue_depth A gauge with "quotes", a back\\slash and a\nnewline.
      # TYPE queue_depth gauge
      queue_depth{path="C:\\dir",note="say \"hi\"\nbye"} -3.5
      # HELP rpc_duration_seconds RPC latency.
      # TYPE rpc_duration_seconds histogram
      rpc_duration_seconds_bucket{method="Range",le="0.005"} 1
      rpc_duration_seconds_bucket{method="Range",le="0.1"} 3
      rpc_duration_seconds_bucket{method="Range",le="1"} 4
      rpc_duration_seconds_bucket{method="Range",le="+Inf"} 5
      rpc_duration_seconds_sum{method="Range"} 12.5
      rpc_duration_seconds_count{method="Range"} 5
      # TYPE tiny gauge
      tiny 1e-05
      # HELP up_seconds A counter without the _total suffix.
      # TYPE up_seconds counter
      up_seconds 1.234567e+06

      """#
    #expect(PrometheusTextFormat.encode(ExpositionFixtures.families).text == expected)
  }

  @Test("an empty registry encodes to nothing")
  func empty() {
    #expect(PrometheusTextFormat.encode([]).isEmpty)
  }

  @Test(
    "floats are formatted as Go's strconv 'g' shortest",
    arguments: [
      (0.0, "0"), (1, "1"), (-1, "-1"), (0.5, "0.5"), (12.5, "12.5"), (100_000, "100000"),
      (1_000_000, "1e+06"), (1_234_567, "1.234567e+06"), (0.0001, "0.0001"), (0.00001, "1e-05"),
      (0.000123, "0.000123"), (1.5e-7, "1.5e-07"), (123_456.7, "123456.7"),
      (1e21, "1e+21"), (1.7976931348623157e308, "1.7976931348623157e+308"),
      (Double.leastNonzeroMagnitude, "5e-324"), (0.1 + 0.2, "0.30000000000000004"),
      (-2.5e-5, "-2.5e-05"),
      (.infinity, "+Inf"), (-.infinity, "-Inf"), (.nan, "NaN"),
      (1_700_000_000.25, "1.70000000025e+09"),
    ] as [(Double, String)])
  func floats(value: Double, text: String) {
    #expect(ExpositionFloat.text(value) == text)
  }

  @Test(
    "OpenMetrics floats always show a fraction or exponent",
    arguments: [
      (0.0, "0.0"), (1, "1.0"), (-1, "-1.0"), (100_000, "100000.0"), (0.5, "0.5"),
      (1e6, "1e+06"), (.infinity, "+Inf"), (.nan, "NaN"),
    ] as [(Double, String)])
  func openMetricsFloats(value: Double, text: String) {
    #expect(ExpositionFloat.openMetrics(value) == text)
  }
}
