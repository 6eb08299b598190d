/// When to look at the TLS files again, and whether what was seen calls for loading them. Pure: the file stamps
/// and the time (`MonotonicClock` nanoseconds) are passed in; `TLSContextStore` does the `stat`s and the loads.
///
/// - A new connection always looks (`stat` of each file, no read).
/// - Reading the client's TLS state looks when the last look is at least `checkInterval` old; with no interval,
///   only new connections look.
/// - A look loads the files when their stamps differ from those of the last successful load, or when the
///   previous load failed: a rotation written in two steps (certificate, then key) fails in between, and a
///   failure whose stamps did not move (a permission fixed, a read error) is worth trying again.
struct TLSReloadSchedule: Sendable, Equatable {
  /// Why the files are being looked at.
  enum Trigger: Sendable, Equatable {
    /// A connection is about to be made.
    case newConnection
    /// Someone reads the TLS state (`EtcdClient.tlsCertificates()`, `tlsFilesState()`).
    case stateRead
  }

  /// What to do after a look.
  enum Action: Sendable, Equatable {
    /// Keep the current context: the files are those loaded.
    case keep
    /// Load the files: they changed, or the last load failed.
    case load
  }

  /// The least time between looks caused by `stateRead`, in nanoseconds; nil for no such looks.
  let checkInterval: Int64?
  /// The stamps of the files at the last successful load, in the files' order (nil: `stat` failed).
  private(set) var loadedStamps: [TLSFileStamp?]
  /// When the files were last looked at.
  private(set) var lastCheck: Int64
  /// Whether the latest load failed (the current context is from older files).
  private(set) var lastLoadFailed = false

  /// A schedule after the first, successful load at `now`.
  init(checkInterval: Int64?, loadedStamps: [TLSFileStamp?], now: Int64) {
    self.checkInterval = checkInterval
    self.loadedStamps = loadedStamps
    self.lastCheck = now
  }

  /// Whether to look at the files now.
  func isCheckDue(_ trigger: Trigger, now: Int64) -> Bool {
    switch trigger {
    case .newConnection:
      return true
    case .stateRead:
      guard let checkInterval else { return false }
      return now &- lastCheck >= checkInterval
    }
  }

  /// The files were looked at, at `now`, and had `stamps`.
  mutating func checked(stamps: [TLSFileStamp?], now: Int64) -> Action {
    lastCheck = now
    return lastLoadFailed || stamps != loadedStamps ? .load : .keep
  }

  /// The files with `stamps` (taken before reading them) loaded.
  mutating func loadSucceeded(stamps: [TLSFileStamp?]) {
    loadedStamps = stamps
    lastLoadFailed = false
  }

  /// A load failed; the current context stays.
  mutating func loadFailed() {
    lastLoadFailed = true
  }
}
