import Synchronization

/// The modules `/probe` may use, by name: read by the metrics server's threads, replaced by a reload.
final class ModuleTable: Sendable {
  private let modules: Mutex<[String: ProbeModule]>

  init(_ modules: [String: ProbeModule]) {
    self.modules = Mutex(modules)
  }

  /// The module `name`, or nil.
  subscript(name: String) -> ProbeModule? { modules.withLock { $0[name] } }

  /// Replaces every module.
  func replace(_ modules: [String: ProbeModule]) { self.modules.withLock { $0 = modules } }
}
