import EtcdProcess
import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// A throwaway single-member etcd for a first run: started from the `etcd` on PATH in a temporary directory on
/// free loopback ports, stopped by its PID and removed on exit.
final class LocalEtcdServer {
  let clientPort: Int
  let directory: String
  private let process: EtcdProcess

  /// The client endpoint.
  var endpoint: String { "127.0.0.1:\(clientPort)" }

  /// Starts etcd and waits (at most 20 s) until its client port accepts connections.
  ///
  /// - Throws: `ProbeError` when there is no `etcd` on PATH, or it cannot start or does not listen in time;
  ///   nothing is left running or on disk then.
  init() async throws {
    guard let binary = ChildProcess.findExecutable("etcd") else {
      throw ProbeError("no --endpoints given and no `etcd` binary on PATH to start a local one")
    }
    let base = FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm" : NSTemporaryDirectory()
    let directory = base + "/etcd-probe-\(getpid())"
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    do {
      let clientPort = try LoopbackPorts.allocate()
      var configuration = EtcdMemberConfiguration(
        name: "probe-local",
        dataDirectory: directory + "/data",
        clientURL: "http://127.0.0.1:\(clientPort)",
        peerURL: "http://127.0.0.1:\(try LoopbackPorts.allocate())"
      )
      configuration.executable = binary
      configuration.logFile = directory + "/etcd.log"
      configuration.outputFile = directory + "/stdout.log"
      let process = try configuration.start()
      do {
        try await process.waitUntilHealthy(.acceptsConnections(port: clientPort), timeout: .seconds(20))
      } catch {
        process.stop(gracePeriod: Self.gracePeriod)
        throw error
      }
      self.clientPort = clientPort
      self.directory = directory
      self.process = process
    } catch {
      let logTail = Self.tail(of: directory + "/etcd.log") ?? Self.tail(of: directory + "/stdout.log") ?? ""
      try? FileManager.default.removeItem(atPath: directory)
      let log = logTail.isEmpty ? "" : "; the end of its log:\n" + logTail
      switch error {
      case let error as EtcdProcessError where error.code == .notHealthy:
        throw ProbeError("the local etcd did not start listening within 20 s\(log)")
      case let error as EtcdProcessError where error.code == .exited:
        throw ProbeError("the local etcd exited before it listened\(log)")
      case let error as EtcdProcessError:
        throw ProbeError(error.description)
      default:
        throw error
      }
    }
  }

  /// The last 10 lines of a file, or nil when it is missing or empty: the directory that holds etcd's log
  /// is removed when etcd does not start, so an error quotes the log rather than naming it.
  private static func tail(of file: String) -> String? {
    guard let text = try? String(contentsOfFile: file, encoding: .utf8), !text.isEmpty else { return nil }
    return text.split(separator: "\n").suffix(10).joined(separator: "\n")
  }

  /// How long etcd may take to shut down on SIGTERM before it gets SIGKILL.
  private static let gracePeriod = Duration.seconds(5)

  /// Stops etcd (SIGTERM, then SIGKILL after 5 s) and removes its directory.
  func stop() {
    process.stop(gracePeriod: Self.gracePeriod)
    try? FileManager.default.removeItem(atPath: directory)
  }

  deinit { stop() }
}

/// A probe start-up failure, printed to the operator.
struct ProbeError: Error, CustomStringConvertible {
  let description: String
  init(_ description: String) { self.description = description }
}
