import Foundation
import Testing

@testable import etcd_probe
import EtcdMetrics

@Suite("ProbeMetrics")
struct ProbeMetricsTests {
  private static func exposition(_ registry: MetricsRegistry) -> String {
    String(decoding: registry.exposition(format: .prometheusText0_0_4), as: UTF8.self)
  }

  @Test("a cluster's counters of events not seen yet read 0, and leave with the cluster")
  func clusterSeriesExistFromTheStart() {
    let registry = MetricsRegistry()
    let families = ProbeMetricFamilies(registry: registry)
    _ = ProbeMetrics(families: families, cluster: "prod")
    let text = Self.exposition(registry)
    for name in [
      "etcd_probe_leader_changes_total", "etcd_probe_hash_checks_total", "etcd_probe_hash_check_retries_total",
      "etcd_probe_rounds_total", "etcd_probe_round_overruns_total", "etcd_probe_tls_reload_failures_total",
      "etcd_probe_cluster_members",
    ] {
      #expect(text.contains("\(name){cluster=\"prod\"} 0\n"), "\(name) of cluster prod is missing")
    }
    families.removeCluster("prod")
    #expect(!Self.exposition(registry).contains("cluster=\"prod\""))
  }

  @Test("an endpoint's series leave every family that has the endpoint label")
  func removeEndpointCoversEveryFamily() {
    let registry = MetricsRegistry()
    let metrics = ProbeMetrics(families: ProbeMetricFamilies(registry: registry), cluster: "prod")
    metrics.record(endpoint: "10.0.0.1:2379", op: .put, duration: .milliseconds(3), failure: nil)
    metrics.isLeader.labels("10.0.0.1:2379").set(1)
    metrics.watchResumes.labels("10.0.0.1:2379").increment()
    metrics.record(endpoint: "10.0.0.2:2379", op: .put, duration: .milliseconds(3), failure: nil)
    metrics.removeEndpoint("10.0.0.1:2379")
    let text = Self.exposition(registry)
    #expect(!text.contains("10.0.0.1:2379"))
    #expect(text.contains("10.0.0.2:2379"))
  }
}
