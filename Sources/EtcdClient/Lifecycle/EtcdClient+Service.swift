public import ServiceLifecycle

extension EtcdClient: Service {
  /// Runs the client as a swift-service-lifecycle `Service`: returns once the client is closed, and closes
  /// it when the service group shuts down gracefully or the running Task is cancelled.
  ///
  /// ```swift
  /// let client = try EtcdClient(configuration: .init(endpoints: ["127.0.0.1:2379"]))
  /// let group = ServiceGroup(services: [client, myService], logger: logger)
  /// try await group.run()   // SIGTERM: myService stops, then the client closes
  /// ```
  /// The client works without `run()` too: its connections, shared streams and endpoint auto-sync belong to
  /// it either way, and `close()` ends them. `run()` ties that end to a service group's or a Task's life.
  public func run() async throws {
    await withGracefulShutdownHandler {
      _ = await closedSignal.wait()
    } onGracefulShutdown: {
      self.closedSignal.fire()
    }
    await close()
  }
}
