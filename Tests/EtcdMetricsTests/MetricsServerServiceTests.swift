import EtcdMetrics
import Logging
import LoopbackTestSupport
import ServiceLifecycle
import Testing

/// A `MetricsServer` as a swift-service-lifecycle `Service`, through `import EtcdMetrics` alone (the
/// module re-exports PrometheusMetrics).
@Suite("MetricsServer in a ServiceGroup", .serialized)
struct MetricsServerServiceTests {
  @Test(
    "serves in a ServiceGroup and closes its port on graceful shutdown",
    arguments: [false, true])
  func gracefulShutdown(startedBeforeGroup: Bool) async throws {
    let registry = MetricsRegistry()
    registry.makeCounter(name: "service_test_total", help: "Counted once.").increment()
    let server = MetricsServer(
      registry: registry, configuration: .init(host: "127.0.0.1", port: 0))
    // A caller that must handle a bind failure itself starts the server first; run() keeps it.
    if startedBeforeGroup { try server.start() }
    let group = ServiceGroup(
      services: [server], logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }))

    let port = try await withThrowingTaskGroup(of: Void.self) { tasks in
      tasks.addTask { try await group.run() }
      var port: Int? = nil
      for _ in 0..<500 {
        port = server.port
        if port != nil { break }
        try await Task.sleep(for: .milliseconds(10))
      }
      let bound = try #require(port)
      let scrape = try LoopbackHTTP.request(port: bound, path: "/metrics")
      #expect(scrape.status == 200)
      #expect(scrape.text.contains("service_test_total 1\n"))
      await group.triggerGracefulShutdown()
      // The group returns once the server's run() has returned.
      try await tasks.next()
      return bound
    }

    #expect(server.port == nil)
    #expect(throws: (any Error).self) { try LoopbackHTTP.request(port: port, path: "/healthz") }
    // Stopping again is harmless.
    server.stop()
  }
}
