import EtcdProcess
import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// A named Linux network namespace (`ip netns add NAME`), and the `ip` commands the network fault fixture
/// runs in it or in the test's own namespace.
///
/// Every command is iproute2's `ip`, run to completion; a failing command throws its output.
struct NetworkNamespace: Sendable, Hashable {
  /// The namespace's name under `/run/netns`.
  let name: String

  /// Creates the namespace, with its loopback interface up.
  ///
  /// - Parameter name: A name no namespace has.
  /// - Throws: `FixtureError` with `ip`'s output when it fails (not root, the name is taken).
  static func create(_ name: String) throws -> NetworkNamespace {
    try Self.ip(["netns", "add", name])
    let namespace = NetworkNamespace(name: name)
    try namespace.ip(["link", "set", "lo", "up"])
    return namespace
  }

  /// Deletes the namespace: its interfaces go, and a veth loses its other end with it. Processes still
  /// inside keep the namespace alive, so stop them first. Errors are ignored (it may be gone already).
  func delete() {
    _ = try? Self.ip(["netns", "delete", name])
  }

  /// Runs `ip -n NAME arguments...`: an `ip` command inside the namespace.
  ///
  /// - Returns: What `ip` printed.
  /// - Throws: `FixtureError` with the output when `ip` exits with a failure.
  @discardableResult
  func ip(_ arguments: [String]) throws -> String {
    try Self.ip(["-n", name] + arguments)
  }

  /// The command that runs a program inside the namespace: `ip netns exec NAME`, which enters the namespace
  /// and then execs the program, so the program keeps the PID that was started.
  var execPrefix: [String] { [Self.ipPath, "netns", "exec", name] }

  /// The PIDs of the processes inside the namespace (`ip netns pids`); empty when there are none or the
  /// namespace is gone.
  var processIDs: [pid_t] {
    let output = (try? Self.ip(["netns", "pids", name])) ?? ""
    return output.split(whereSeparator: \.isNewline).compactMap { pid_t($0) }
  }

  /// The names of every namespace under `/run/netns` (`ip netns list`, whose lines may carry an `(id: N)`).
  static func allNames() throws -> [String] {
    try ip(["netns", "list"]).split(whereSeparator: \.isNewline).compactMap {
      $0.split(separator: " ").first.map(String.init)
    }
  }

  /// Runs `ip arguments...` in the test's own namespace.
  ///
  /// - Returns: What `ip` printed.
  /// - Throws: `FixtureError` with the output when `ip` exits with a failure.
  @discardableResult
  static func ip(_ arguments: [String]) throws -> String {
    let result = try run([ipPath] + arguments)
    guard result.status == 0 else {
      throw FixtureError("`ip \(arguments.joined(separator: " "))` failed (\(result.status)): \(result.output)")
    }
    return result.output
  }

  /// iproute2's `ip`: on `PATH`, else where Debian installs it.
  static let ipPath: String =
    ChildProcess.findExecutable("ip") ?? ["/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"]
    .first { access($0, X_OK) == 0 } ?? "ip"
}
