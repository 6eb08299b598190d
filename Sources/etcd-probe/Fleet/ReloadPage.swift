import EtcdMetrics
import Foundation
import Synchronization

/// `POST /-/reload`: reloads the clusters file and answers 200 with what changed, or 500 with why nothing did
/// (as Prometheus answers its own); 400 when the probe runs without a clusters file.
enum ReloadPage {
  static func page(reloader: FleetReloader?) -> MetricsServer.Page {
    .init(path: "/-/reload", methods: [.post]) { _ in
      guard let reloader else {
        return .init(status: 400, body: "etcd-probe runs without --config.file: there is nothing to reload\n")
      }
      let outcome = waitOnServerThread { await reloader.reload() }
      return .init(status: outcome.applied ? 200 : 500, body: outcome.message + "\n")
    }
  }
}

/// Runs `body` as a task and blocks the calling thread (a metrics server thread, never a concurrency pool
/// thread) until it returns.
func waitOnServerThread<T: Sendable>(_ body: @escaping @Sendable () async -> T) -> T {
  let done = DispatchSemaphore(value: 0)
  let result = Mutex<T?>(nil)
  Task {
    let value = await body()
    result.withLock { $0 = value }
    done.signal()
  }
  while true {
    done.wait()
    if let value = result.withLock({ $0 }) { return value }
  }
}
