/// Why an etcd process (or a port for one) could not be had: what the caller prints to whoever runs it.
///
/// ```swift
/// do {
///   try await process.waitUntilHealthy(.etcdHealth(port: port), timeout: .seconds(20))
/// } catch let error as EtcdProcessError where error.code == .exited {
///   // etcd refused its flags or its ports: its log says why
/// }
/// ```
package struct EtcdProcessError: Error, Sendable, CustomStringConvertible {
  /// What went wrong. Compare with the static members: `error.code == .notHealthy`.
  package struct Code: Hashable, Sendable, CustomStringConvertible {
    private enum Wrapped: String, Hashable, Sendable {
      case executableNotFound, spawnFailed, exited, notHealthy, noFreePort
    }
    private let wrapped: Wrapped
    private init(_ wrapped: Wrapped) { self.wrapped = wrapped }

    /// The executable is not a path that exists and is not found on `PATH`.
    package static let executableNotFound = Code(.executableNotFound)
    /// `posix_spawn` failed: the message carries its `strerror`.
    package static let spawnFailed = Code(.spawnFailed)
    /// The process ended (by itself, or stopped by another caller) before it became healthy.
    package static let exited = Code(.exited)
    /// The health check did not pass within the time allowed.
    package static let notHealthy = Code(.notHealthy)
    /// No loopback port could be bound, or none that this process had not handed out already.
    package static let noFreePort = Code(.noFreePort)

    /// The code's name, e.g. `notHealthy`.
    package var description: String { wrapped.rawValue }
  }

  /// What went wrong.
  package var code: Code
  /// A sentence for a person: what failed and the detail (a path, an errno text, a bound).
  package var message: String

  /// Creates an error.
  ///
  /// - Parameters:
  ///   - code: What went wrong.
  ///   - message: A sentence for a person.
  package init(_ code: Code, _ message: String) {
    self.code = code
    self.message = message
  }

  /// The message.
  package var description: String { message }
}
