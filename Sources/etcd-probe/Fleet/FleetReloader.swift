import EtcdMetrics
import Foundation
import Logging

/// Reloads the clusters file into the fleet, on SIGHUP and on `POST /-/reload`: the file is read and checked
/// in full, and the fleet changed, only when all of it is good; a bad file changes nothing and says why in the
/// log, the answer and `etcd_probe_config_last_reload_successful`.
struct FleetReloader: Sendable {
  /// The clusters file.
  let file: String
  /// What clusters take when the file does not say (the flags).
  let defaults: ClusterDefaults
  let fleet: ProbeFleet
  let logger: Logger
  let lastReloadSuccessful: Gauge
  let lastReloadSuccessTimestamp: Gauge
  /// The modules `/probe` uses, replaced on each good reload.
  let modules: ModuleTable

  init(file: String, defaults: ClusterDefaults, fleet: ProbeFleet, logger: Logger, registry: MetricsRegistry,
    modules: ModuleTable)
  {
    self.file = file
    self.defaults = defaults
    self.fleet = fleet
    self.logger = logger
    self.modules = modules
    lastReloadSuccessful = registry.makeGauge(
      name: "etcd_probe_config_last_reload_successful",
      help: "Whether the last load of the clusters file succeeded (1) or not (0).")
    lastReloadSuccessTimestamp = registry.makeGauge(
      name: "etcd_probe_config_last_reload_success_timestamp_seconds",
      help: "When the clusters file was last loaded successfully, in seconds since the epoch.")
  }

  /// Reads and checks the file, and the password files it names.
  ///
  /// - Throws: ``FleetConfigurationError`` naming every problem.
  func read() throws(FleetConfigurationError) -> FleetConfiguration {
    let text = try FleetConfigurationError.readText(of: file)
    var configuration = try FleetConfigurationParser(file: file, defaults: defaults).parse(text)
    // Passwords are read now, so a cluster whose password file changed counts as changed and restarts with it.
    var problems: [String] = []
    for index in configuration.clusters.indices {
      let cluster = configuration.clusters[index]
      guard let passwordFile = cluster.passwordFile else { continue }
      do {
        configuration.clusters[index].password = try cluster.client.resolvedPassword(owner: cluster.name)
      } catch {
        problems.append("\(file): clusters[\(index)] (\(cluster.name)).password_file: cannot read \(passwordFile)")
      }
    }
    guard problems.isEmpty else { throw FleetConfigurationError(problems: problems) }
    return configuration
  }

  /// Loads the file into the fleet.
  ///
  /// - Returns: Whether it was applied, and a one-line account: what changed, or why nothing did.
  @discardableResult
  func reload() async -> (applied: Bool, message: String) {
    let message: String
    do {
      let configuration = try read()
      let plan = try await fleet.apply(configuration)
      modules.replace(configuration.modules)
      lastReloadSuccessful.set(1)
      lastReloadSuccessTimestamp.set(Date().timeIntervalSince1970)
      logger.notice("loaded the clusters file", metadata: ["file": "\(file)", "clusters": "\(plan.summary)"])
      return (true, "loaded \(file): \(plan.summary)")
    } catch let error as FleetConfigurationError {
      message = error.description
    } catch {
      message = "\(error)"
    }
    lastReloadSuccessful.set(0)
    logger.error(
      "the clusters file was not loaded; the probe goes on as it was",
      metadata: ["file": "\(file)", "error": "\(message)"])
    return (false, "not loaded, nothing changed: \(message)")
  }
}
