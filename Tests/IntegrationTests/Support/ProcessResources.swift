import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// What a process holds, read from Linux's /proc: open file descriptors, threads and resident memory.
///
/// For leak tests: sample after a warm-up, run many cycles, sample again (see ``settled(like:pid:within:)``).
struct ProcessResources: CustomStringConvertible {
  /// Entries of /proc/PID/fd (for this process, without the descriptor used to list them).
  var fileDescriptors: Int
  /// `Threads:` of /proc/PID/status.
  var threads: Int
  /// `VmRSS:` of /proc/PID/status, in bytes.
  var residentBytes: Int
  /// Open descriptors by what they are (`socket`, `pipe`, `anon_inode:[eventpoll]`, a path), for a failure.
  var fileDescriptorKinds: [String: Int]
  /// Threads by name (/proc/PID/task/*/comm), to tell NIO's event loops from Dispatch's workers in a failure.
  var threadNames: [String: Int]

  var description: String {
    let names = threadNames.sorted { $0.key < $1.key }.map { "\($0.key)×\($0.value)" }.joined(separator: " ")
    let kinds = fileDescriptorKinds.sorted { $0.key < $1.key }.map { "\($0.key)×\($0.value)" }.joined(separator: " ")
    return "\(fileDescriptors) fds [\(kinds)], \(threads) threads [\(names)], RSS \(String(format: "%.1f", residentMegabytes)) MB"
  }

  var residentMegabytes: Double { Double(residentBytes) / 1_000_000 }

  /// Reads the resources of `pid` (this process when nil).
  static func read(pid: pid_t? = nil) throws -> ProcessResources {
    let directory = pid.map { "/proc/\($0)" } ?? "/proc/self"
    guard let status = try? String(contentsOfFile: directory + "/status", encoding: .utf8) else {
      throw FixtureError("cannot read \(directory)/status")
    }
    func field(_ name: String) -> Int? {
      guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix(name + ":") }) else { return nil }
      return line.split(whereSeparator: { $0 == " " || $0 == "\t" }).dropFirst().first.flatMap { Int($0) }
    }
    guard let threads = field("Threads"), let residentKilobytes = field("VmRSS") else {
      throw FixtureError("no Threads or VmRSS in \(directory)/status")
    }
    var names: [String: Int] = [:]
    for task in try FileManager.default.contentsOfDirectory(atPath: directory + "/task") {
      let comm = (try? String(contentsOfFile: "\(directory)/task/\(task)/comm", encoding: .utf8)) ?? "?"
      names[Self.threadKind(comm.trimmingCharacters(in: .whitespacesAndNewlines)), default: 0] += 1
    }
    let descriptors = try listFileDescriptors(directory + "/fd", excludingOwn: pid == nil)
    var kinds: [String: Int] = [:]
    for descriptor in descriptors {
      let target = (try? FileManager.default.destinationOfSymbolicLink(atPath: "\(directory)/fd/\(descriptor)")) ?? "?"
      let kind = target.hasPrefix("socket:") ? "socket" : target.hasPrefix("pipe:") ? "pipe" : target
      kinds[kind, default: 0] += 1
    }
    return ProcessResources(
      fileDescriptors: descriptors.count,
      threads: threads,
      residentBytes: residentKilobytes * 1024,
      fileDescriptorKinds: kinds,
      threadNames: names
    )
  }

  /// A thread name without its number (`NIO-ELT-0-#1` → `NIO-ELT-0-#`), so threads of one kind count together.
  private static func threadKind(_ name: String) -> String {
    String(name.reversed().drop(while: \.isNumber).reversed())
  }

  private static func listFileDescriptors(_ path: String, excludingOwn: Bool) throws -> [String] {
    guard let directory = opendir(path) else { throw FixtureError("cannot list \(path)") }
    defer { closedir(directory) }
    let own = String(dirfd(directory))
    var names: [String] = []
    while let entry = readdir(directory) {
      let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
      if name == "." || name == ".." || (excludingOwn && name == own) { continue }
      names.append(name)
    }
    return names
  }

  /// A sample to compare with after a run: five samples 50 ms apart, with the fewest descriptors (a scrape's
  /// socket may be closing) and the most threads (Dispatch's workers come and go) of them.
  ///
  /// Taken after a `Task.sleep`, too, because the first sleep of a process makes Dispatch's timer descriptors
  /// (`anon_inode:[timerfd]`), and ``settled(like:pid:threads:within:)`` sleeps.
  static func baseline(pid: pid_t? = nil) async throws -> ProcessResources {
    var samples: [ProcessResources] = []
    for _ in 0..<5 {
      try await Task.sleep(for: .milliseconds(50))
      samples.append(try read(pid: pid))
    }
    var baseline = samples.min { $0.fileDescriptors < $1.fileDescriptors }!
    let most = samples.max { $0.threads < $1.threads }!
    baseline.threads = most.threads
    baseline.threadNames = most.threadNames
    return baseline
  }

  /// Samples until descriptors and threads are back to `baseline`'s (or fewer threads), at most `within`;
  /// with `threads: false`, only descriptors (Go's runtime, for one, keeps the threads it made).
  ///
  /// Closing is asynchronous in places that are not leaks: a peer's socket closes when its FIN arrives, and
  /// Dispatch's worker threads (Swift's cooperative pool on Linux) come and go with load. Waiting for them, with
  /// a bound, keeps the comparison exact without making it flaky; a real leak never settles and is reported.
  static func settled(
    like baseline: ProcessResources, pid: pid_t? = nil, threads: Bool = true,
    within: Duration = .seconds(15)
  ) async throws -> ProcessResources {
    let deadline = ContinuousClock.now + within
    var sample = try read(pid: pid)
    while ContinuousClock.now < deadline {
      if sample.fileDescriptors == baseline.fileDescriptors && (!threads || sample.threads <= baseline.threads) {
        break
      }
      try await Task.sleep(for: .milliseconds(100))
      sample = try read(pid: pid)
    }
    return sample
  }
}
