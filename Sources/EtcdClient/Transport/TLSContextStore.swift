import Foundation
import NIOSSL
import Synchronization

/// The client's current TLS material (NIOSSL context and certificate expiry), reloaded from its files when they
/// change, as `TLSReloadSchedule` decides.
///
/// Thread-safe: the state sits behind one lock. A look at the files and a load run under it, so two callers
/// never load the same files twice; a load reads a few small PEM files and makes one NIOSSL context, on the
/// caller's thread (the event loop, for a new connection).
final class TLSContextStore: Sendable {
  /// The files watched, in `Configuration.TLS.files` order; empty when the configuration reads none.
  let files: [String]
  private let configuration: EtcdClient.Configuration.TLS

  private struct State {
    var material: GRPCConnection.TLS.Material
    var schedule: TLSReloadSchedule
    var lastSuccessfulLoad: Date
    var successfulLoads = 1
    var failedLoads = 0
    var lastFailure: Date?
    var lastError: String?
  }
  private let state: Mutex<State>

  /// Loads the configuration once.
  ///
  /// - Throws: `EtcdError` with code `.invalidConfiguration` when it does not load.
  init(configuration: EtcdClient.Configuration.TLS) throws(EtcdError) {
    self.configuration = configuration
    self.files = configuration.files
    // Stamps before the read: a change during the read shows at the next look.
    let stamps = files.map(TLSFileStamp.of)
    let material = try GRPCConnection.TLS.load(configuration)
    let schedule = TLSReloadSchedule(
      checkInterval: configuration.reloadCheckInterval.map(MonotonicClock.nanoseconds),
      loadedStamps: stamps,
      now: MonotonicClock.now()
    )
    state = Mutex(State(material: material, schedule: schedule, lastSuccessfulLoad: Date()))
  }

  /// The context for a connection about to be made, after looking at the files.
  func contextForNewConnection() -> NIOSSLContext {
    state.withLock { state in
      refresh(&state, .newConnection)
      return state.material.context
    }
  }

  /// The current material, after looking at the files if a look is due for a state read.
  func material() -> GRPCConnection.TLS.Material {
    state.withLock { state in
      refresh(&state, .stateRead)
      return state.material
    }
  }

  /// The reload state, after looking at the files if a look is due for a state read; nil when no file is
  /// watched.
  func filesState() -> EtcdClient.TLSFilesState? {
    guard !files.isEmpty else { return nil }
    return state.withLock { state in
      refresh(&state, .stateRead)
      return EtcdClient.TLSFilesState(
        files: files,
        lastSuccessfulLoad: state.lastSuccessfulLoad,
        successfulLoads: state.successfulLoads,
        failedLoads: state.failedLoads,
        isFailing: state.schedule.lastLoadFailed,
        lastFailure: state.lastFailure,
        lastError: state.lastError
      )
    }
  }

  /// Looks at the files if `trigger` makes a look due, and loads them if they changed or the last load failed.
  private func refresh(_ state: inout State, _ trigger: TLSReloadSchedule.Trigger) {
    let now = MonotonicClock.now()
    guard !files.isEmpty, state.schedule.isCheckDue(trigger, now: now) else { return }
    let stamps = files.map(TLSFileStamp.of)
    guard state.schedule.checked(stamps: stamps, now: now) == .load else { return }
    do {
      state.material = try GRPCConnection.TLS.load(configuration)
      state.schedule.loadSucceeded(stamps: stamps)
      state.successfulLoads += 1
      state.lastSuccessfulLoad = Date()
    } catch {
      state.schedule.loadFailed()
      state.failedLoads += 1
      state.lastFailure = Date()
      state.lastError = error.message
    }
  }
}
