#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Starting child processes with `posix_spawn`, and finding their executables.
package enum ChildProcess {
  /// Starts `arguments[0]` (a path, or a name looked up on `PATH`) with stdin from `/dev/null` and stdout
  /// and stderr appended to `outputFile`.
  ///
  /// The caller owns the child: it must reap it (`waitpid`) by the PID returned.
  ///
  /// - Parameters:
  ///   - arguments: The command line, the executable first.
  ///   - outputFile: Receives stdout and stderr; created when missing.
  /// - Returns: The child's PID.
  /// - Throws: `EtcdProcessError` `.spawnFailed` with `posix_spawnp`'s error.
  package static func spawn(_ arguments: [String], outputFile: String) throws(EtcdProcessError) -> Int32 {
    precondition(!arguments.isEmpty, "a command line needs an executable")
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 1, outputFile, O_WRONLY | O_CREAT | O_APPEND, 0o644)
    posix_spawn_file_actions_adddup2(&actions, 1, 2)
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
    defer { for pointer in argv { free(pointer) } }
    var pid: pid_t = 0
    let result = posix_spawnp(&pid, arguments[0], &actions, nil, &argv, environ)
    guard result == 0 else {
      throw EtcdProcessError(.spawnFailed, "cannot start \(arguments[0]): \(String(cString: strerror(result)))")
    }
    return pid
  }

  /// The path of an executable: `name` itself when it holds a `/`, else the first executable
  /// `directory/name` of `PATH` (`/usr/local/bin:/usr/bin:/bin` when `PATH` is unset).
  ///
  /// - Parameter name: A path, or a bare name such as `etcd`.
  /// - Returns: The path, or nil when there is none.
  package static func findExecutable(_ name: String) -> String? {
    let path = getenv("PATH").map { String(cString: $0) } ?? "/usr/local/bin:/usr/bin:/bin"
    return findExecutable(name, searchPath: path) { access($0, X_OK) == 0 }
  }

  /// ``findExecutable(_:)`` over a given `PATH` value, with `isExecutable` telling which files qualify.
  static func findExecutable(
    _ name: String,
    searchPath: String,
    isExecutable: (String) -> Bool
  ) -> String? {
    if name.contains("/") { return isExecutable(name) ? name : nil }
    for directory in searchPath.split(separator: ":") {
      let candidate = "\(directory)/\(name)"
      if isExecutable(candidate) { return candidate }
    }
    return nil
  }

  /// The state letter of a process from `/proc/PID/stat` (`R`, `S`, `T` when stopped, ...), or nil where
  /// there is no such file.
  static func state(of pid: Int32) -> Character? {
    let fd = open("/proc/\(pid)/stat", O_RDONLY)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var buffer = [UInt8](repeating: 0, count: 4096)
    let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
    guard count > 0 else { return nil }
    return state(statLine: String(decoding: buffer[..<count], as: UTF8.self))
  }

  /// The state letter of a `/proc/PID/stat` line: `pid (comm) S ...`.
  static func state(statLine: String) -> Character? {
    // The state follows the command name, which may itself hold spaces or parentheses: the last `)` ends it.
    guard let close = statLine.lastIndex(of: ")") else { return nil }
    return statLine[close...].dropFirst().first { $0 != " " }
  }
}
