/// What a new configuration changes in the running fleet: the clusters to start, to stop and to restart with
/// new settings; every other cluster keeps running untouched. Pure.
struct FleetPlan: Sendable, Equatable {
  /// Clusters new in the configuration.
  var start: [ClusterSettings] = []
  /// Names of clusters no longer in it.
  var stop: [String] = []
  /// Clusters whose settings changed, with their new settings.
  var restart: [ClusterSettings] = []
  /// Names of clusters that keep running as they are.
  var keep: [String] = []

  /// The plan from the running clusters' settings to `clusters`.
  init(running: [ClusterSettings], target clusters: [ClusterSettings]) {
    let current = Dictionary(running.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
    let wanted = Set(clusters.map(\.name))
    stop = running.map(\.name).filter { !wanted.contains($0) }
    for settings in clusters {
      switch current[settings.name] {
      case nil: start.append(settings)
      case settings?: keep.append(settings.name)
      case _?: restart.append(settings)
      }
    }
  }

  /// The log's summary: `started [a], stopped [b], restarted [], unchanged [c]`.
  var summary: String {
    "started \(start.map(\.name)), stopped \(stop), restarted \(restart.map(\.name)), unchanged \(keep)"
  }
}
