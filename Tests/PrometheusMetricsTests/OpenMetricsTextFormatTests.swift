import Testing

@testable import PrometheusMetrics

@Suite("OpenMetrics text format 1.0")
struct OpenMetricsTextFormatTests {
  @Test("golden output")
  func golden() {
    let expected = #"""
      # HELP etcd_requests Requests by method and code.
      # TYPE etcd_requests counter
      etcd_requests_total{method="Put",code="OK"} 2.0
      etcd_requests_created{method="Put",code="OK"} 1.70000000025e+09
      etcd_requests_total{method="Range",code="OK"} 1027.0
      etcd_requests_created{method="Range",code="OK"} 1.7e+09
      # HELP queue_depth A gauge with \"quotes\", a back\\slash and a\nnewline.
      # TYPE queue_depth gauge
      queue_depth{path="C:\\dir",note="say \"hi\"\nbye"} -3.5
      # HELP rpc_duration_seconds RPC latency.
      # TYPE rpc_duration_seconds histogram
      rpc_duration_seconds_bucket{method="Range",le="0.005"} 1
      rpc_duration_seconds_bucket{method="Range",le="0.1"} 3
      rpc_duration_seconds_bucket{method="Range",le="1.0"} 4
      rpc_duration_seconds_bucket{method="Range",le="+Inf"} 5
      rpc_duration_seconds_sum{method="Range"} 12.5
      rpc_duration_seconds_count{method="Range"} 5
      rpc_duration_seconds_created{method="Range"} 1.7000000005e+09
      # TYPE tiny gauge
      tiny 1e-05
      # HELP up_seconds A counter without the _total suffix.
      # TYPE up_seconds counter
      up_seconds_total 1.234567e+06
      # EOF

      """#
    #expect(OpenMetricsTextFormat.encode(ExpositionFixtures.families).text == expected)
  }

  @Test("an empty registry is just # EOF")
  func empty() {
    #expect(OpenMetricsTextFormat.encode([]).text == "# EOF\n")
  }

  @Test("a registry's output ends with # EOF and has _created for counters and histograms")
  func fromRegistry() {
    let text = ExpositionFixtures.populatedRegistry().exposition(format: .openMetrics1_0_0).text
    #expect(text.hasSuffix("\n# EOF\n"))
    #expect(text.contains("# TYPE etcd_client_requests counter\n"))
    #expect(text.contains("etcd_client_requests_total{method=\"Range\",code=\"OK\"} 41.0\n"))
    #expect(text.contains("etcd_client_requests_created{method=\"Range\",code=\"OK\"} "))
    #expect(text.contains("etcd_client_request_duration_seconds_created{method=\"Range\"} "))
    #expect(!text.contains("etcd_client_connections_created"))
  }
}
