import EtcdMetrics
import Foundation
import Testing
import LoopbackTestSupport

#if canImport(Glibc)
  import Glibc
#endif

@testable import EtcdClient

/// Parses Prometheus text exposition into `series → value` (`name{labels}` exactly as exposed).
func parseExposition(_ text: String) -> [String: Double] {
  var samples: [String: Double] = [:]
  for line in text.split(separator: "\n") where !line.hasPrefix("#") {
    guard let space = line.lastIndex(of: " ") else { continue }
    samples[String(line[..<space])] = Double(line[line.index(after: space)...])
  }
  return samples
}

@Suite("Per-RPC metrics against a real etcd", .serialized)
struct RPCMetricsTests {
  @Test func countsCodesSizesAndLatenciesMatchWhatWasDone() async throws {
    try await withEtcd { etcd in
      let registry = MetricsRegistry()
      var configuration = EtcdClient.Configuration(endpoints: etcd.endpoints)
      configuration.interceptors = [RPCMetricsInterceptor(registry: registry)]
      let client = try EtcdClient(configuration: configuration)
      defer { Task { await client.close() } }
      let server = MetricsServer(registry: registry, configuration: .init(host: "127.0.0.1", port: 0))
      try server.start()
      defer { server.stop() }
      let port = try #require(server.port)
      let endpoint = etcd.endpoints[0]

      // 25 puts of 3000-byte values: each PutRequest is 3000 + a few bytes, in the (1024, 4096] bucket.
      for index in 0..<25 {
        try await client.put("m/\(index)", [UInt8](repeating: 0x6d, count: 3000))
      }
      for _ in 0..<5 { _ = try await client.get("m/0") }
      await expectEtcdError(.emptyKey) { _ = try await client.get("") }
      etcd.members[0].signal(SIGSTOP)
      await expectEtcdError(.deadlineExceeded) { _ = try await client.get("m/0", timeout: .milliseconds(200)) }
      etcd.members[0].signal(SIGCONT)

      let scrape = try run(["curl", "-s", "http://127.0.0.1:\(port)/metrics"])
      #expect(scrape.status == 0)
      let samples = parseExposition(scrape.output)
      let put = "grpc_type=\"unary\",grpc_service=\"etcdserverpb.KV\",grpc_method=\"Put\",etcd_endpoint=\"\(endpoint)\""
      let range = "grpc_type=\"unary\",grpc_service=\"etcdserverpb.KV\",grpc_method=\"Range\",etcd_endpoint=\"\(endpoint)\""

      #expect(samples["grpc_client_started_total{\(put)}"] == 25)
      #expect(samples["grpc_client_handled_total{\(put),grpc_code=\"OK\",etcd_error=\"\"}"] == 25)
      #expect(samples["grpc_client_msg_sent_total{\(put)}"] == 25)
      #expect(samples["grpc_client_msg_received_total{\(put)}"] == 25)
      #expect(samples["grpc_client_msg_sent_bytes_bucket{\(put),le=\"1024\"}"] == 0)
      #expect(samples["grpc_client_msg_sent_bytes_bucket{\(put),le=\"4096\"}"] == 25)
      #expect(samples["grpc_client_msg_sent_bytes_count{\(put)}"] == 25)
      let sentSum = try #require(samples["grpc_client_msg_sent_bytes_sum{\(put)}"])
      #expect(sentSum > 25 * 3000 && sentSum < 25 * 3020)
      #expect(samples["grpc_client_handling_seconds_count{\(put),grpc_code=\"OK\"}"] == 25)
      let putSeconds = try #require(samples["grpc_client_handling_seconds_sum{\(put),grpc_code=\"OK\"}"])
      #expect(putSeconds > 0 && putSeconds < 25)

      #expect(samples["grpc_client_started_total{\(range)}"] == 7)
      #expect(samples["grpc_client_handled_total{\(range),grpc_code=\"OK\",etcd_error=\"\"}"] == 5)
      #expect(samples["grpc_client_handled_total{\(range),grpc_code=\"InvalidArgument\",etcd_error=\"empty_key\"}"] == 1)
      #expect(samples["grpc_client_handled_total{\(range),grpc_code=\"DeadlineExceeded\",etcd_error=\"deadline_exceeded\"}"] == 1)
      let slow = try #require(samples["grpc_client_handling_seconds_sum{\(range),grpc_code=\"DeadlineExceeded\"}"])
      #expect(slow >= 0.2)
      #expect(samples["etcd_client_calls_in_flight{\(put)}"] == 0)

      // gRFC A66's view.
      #expect(samples["grpc_client_attempt_started_total{grpc_method=\"etcdserverpb.KV/Put\",grpc_target=\"\(endpoint)\"}"] == 25)
      #expect(samples["grpc_client_call_duration_seconds_count{grpc_method=\"etcdserverpb.KV/Put\",grpc_target=\"etcd\",grpc_status=\"OK\"}"] == 25)
      #expect(samples["grpc_client_attempt_duration_seconds_count{grpc_method=\"etcdserverpb.KV/Range\",grpc_target=\"\(endpoint)\",grpc_status=\"DEADLINE_EXCEEDED\"}"] == 1)
      #expect(samples["grpc_client_attempt_sent_total_compressed_message_size_bytes_bucket{grpc_method=\"etcdserverpb.KV/Put\",grpc_target=\"\(endpoint)\",grpc_status=\"OK\",le=\"4096\"}"] == 25)

      // The output passes promtool.
      let file = NSTemporaryDirectory() + "rpc-metrics-\(getpid()).prom"
      try scrape.output.write(toFile: file, atomically: true, encoding: .utf8)
      defer { try? FileManager.default.removeItem(atPath: file) }
      let check = try run(["sh", "-c", "promtool check metrics < \(file)"])
      #expect(check.status == 0, "\(check.output)")
    }
  }

  @Test func aStoppedEtcdCountsAsUnavailable() async throws {
    let registry = MetricsRegistry()
    let port = try freeLoopbackPort()
    var configuration = EtcdClient.Configuration(endpoints: ["127.0.0.1:\(port)"])
    configuration.interceptors = [RPCMetricsInterceptor(registry: registry, options: .init(endpointLabel: false))]
    let client = try EtcdClient(configuration: configuration)
    for _ in 0..<3 {
      await expectEtcdError(.connectionFailed) { try await client.put("k", "v", timeout: .milliseconds(300)) }
    }
    await client.close()
    let samples = parseExposition(String(decoding: registry.exposition(format: .prometheusText0_0_4), as: UTF8.self))
    let put = "grpc_type=\"unary\",grpc_service=\"etcdserverpb.KV\",grpc_method=\"Put\""
    #expect(samples["grpc_client_handled_total{\(put),grpc_code=\"Unavailable\",etcd_error=\"connection_failed\"}"] == 3)
    #expect(samples["grpc_client_started_total{\(put)}"] == 3)
  }
}

import ServiceContextModule

/// A trace id a tracer would put in the task's context.
private enum TraceIDKey: ServiceContextKey {
  typealias Value = String
}

@Suite("Per-RPC metrics: retries and exemplars", .serialized)
struct RPCMetricsRetryAndExemplarTests {
  @Test func aReadRetriedOnAnotherEndpointIsCountedAsTwoAttemptsAndOneRetry() async throws {
    try await withEtcd(size: 3) { etcd in
      let registry = MetricsRegistry()
      var configuration = EtcdClient.Configuration(endpoints: etcd.endpoints)
      configuration.interceptors = [RPCMetricsInterceptor(registry: registry)]
      let client = try EtcdClient(configuration: configuration)
      defer { Task { await client.close() } }
      try await client.put("k", "v")
      let dead = etcd.members[1]
      dead.kill()
      // Round robin sends one of the next calls to the dead member first; each is retried elsewhere.
      for _ in 0..<3 { _ = try await client.get("k", timeout: .seconds(5)) }
      let samples = parseExposition(
        String(decoding: registry.exposition(format: .prometheusText0_0_4), as: UTF8.self))
      let range = "grpc_method=\"etcdserverpb.KV/Range\""
      let retries = samples["grpc_client_call_retries_count{\(range),grpc_target=\"etcd\"}"] ?? 0
      #expect(retries >= 1)
      let failedAttempts = samples.filter { key, _ in
        key.hasPrefix("grpc_client_attempt_duration_seconds_count{\(range),grpc_target=\"\(dead.endpoint)\",grpc_status=\"UNAVAILABLE\"")
      }.values.reduce(0, +)
      #expect(failedAttempts >= 1)
      #expect(samples["grpc_client_call_duration_seconds_count{\(range),grpc_target=\"etcd\",grpc_status=\"OK\"}"] == 3)
    }
  }

  @Test func aTraceIDInTheServiceContextBecomesAnExemplar() async throws {
    try await withEtcd { etcd in
      let registry = MetricsRegistry()
      var configuration = EtcdClient.Configuration(endpoints: etcd.endpoints)
      configuration.interceptors = [
        RPCMetricsInterceptor(
          registry: registry, options: .init(exemplars: .serviceContext(TraceIDKey.self)))
      ]
      let client = try EtcdClient(configuration: configuration)
      defer { Task { await client.close() } }
      var context = ServiceContext.topLevel
      context[TraceIDKey.self] = "4bf92f3577b34da6a3ce929d0e0e4736"
      try await ServiceContext.withValue(context) {
        _ = try await client.put("traced", "v")
      }
      let text = String(decoding: registry.exposition(format: .openMetrics1_0_0), as: UTF8.self)
      let exemplarLines = text.split(separator: "\n").filter {
        $0.hasPrefix("grpc_client_handling_seconds_bucket") && $0.contains("# {trace_id=\"4bf92f3577b34da6a3ce929d0e0e4736\"}")
      }
      #expect(exemplarLines.count == 1, "\(text.split(separator: "\n").filter { $0.contains("trace_id") })")
    }
  }
}
