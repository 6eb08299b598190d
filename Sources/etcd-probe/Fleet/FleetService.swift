import ServiceLifecycle
import UnixSignals

/// The fleet as a swift-service-lifecycle `Service`: it runs until the group shuts down (or, with a round
/// limit, until every cluster ran its rounds), reloads the clusters file on SIGHUP, and then stops every
/// cluster, removing its keys and leases.
struct FleetService: Service {
  let fleet: ProbeFleet
  /// Reloads the clusters file; nil when the clusters come from the flags.
  let reloader: FleetReloader?
  /// Whether the clusters run until shut down (no round limit).
  let runsForever: Bool

  func run() async throws {
    await cancelWhenGracefulShutdown {
      await withTaskGroup(of: Void.self) { group in
        if let reloader {
          group.addTask {
            for await _ in await UnixSignalsSequence(trapping: .sighup) { await reloader.reload() }
          }
        }
        if runsForever {
          while !Task.isCancelled { try? await Task.sleep(for: .seconds(3600)) }
        } else {
          await fleet.waitForRounds()
        }
        group.cancelAll()
      }
    }
    await fleet.stopAll()
  }
}
