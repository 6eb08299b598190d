// etcd-bench watch: watch fan-out on one EtcdClient, as ../shared/anchors/gowatch does on Go's clientv3.
//
// --watchers plain Tasks (default executor) each watch the prefix --prefix from the revision after a `get`;
// one writer puts --total values under the prefix (key prefix + i % 100), one every --interval (0: back to
// back). Each value starts with the writer's send time (wall clock, UnixNano, 8 bytes little-endian) and is
// padded to --val-size, so every delivered event gives a put->event latency. Ends when every watcher has seen
// --total events, or --timeout.
//
// The writer starts once every watcher is created on the server: gowatch waits for each watcher's `created`
// response; this client does not hand that response to its consumer, so the bench asks the server for progress
// notifications (`requestWatchProgress`) until every watcher has received one, which etcd sends only to
// watchers it has created.
//
// The RESULT line has gowatch's fields in gowatch's order (CPU: getrusage(RUSAGE_SELF) from the first put to
// the last delivery), then the resident memory: idle (connected, one get done), with every watcher created,
// and at the end. `--memory` only opens the watchers and reports the memory (op=watch-memory), as
// Benchmarks/go/gowatchmem does for Go.

import ArgumentParser
import EtcdClient
import Foundation
import NIOCore
import NIOPosix
import Synchronization

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

struct WatchCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "watch",
    abstract: "Watch fan-out: N watchers on one prefix over one client, one writer (as gowatch)"
  )

  @Option(help: "etcd endpoint host:port")
  var endpoint: String = "127.0.0.1:23790"

  @Option(help: "Watchers on the prefix")
  var watchers: Int = 1

  @Option(help: "Puts under the prefix")
  var total: Int = 10000

  @Option(help: "Value size (at least 8)")
  var valSize: Int = 256

  @Option(help: "Watched prefix")
  var prefix: String = "fanout/"

  @Option(help: "Pause between puts, a Go duration (0, 500us, 1ms, 2s)")
  var interval: String = "0"

  @Option(help: "Give up after, a Go duration")
  var timeout: String = "120s"

  @Option(help: "Label in the RESULT line")
  var label: String = "etcd-swift"

  @Flag(help: "Only open the watchers and report resident memory idle and with every watcher created")
  var memory: Bool = false

  @Option(help: "Where the watchers and the writer run: `pool`, `eventloop` or `nio`, as for put and range")
  var executor: ExecutorChoice = .pool

  func validate() throws {
    guard watchers >= 1 else { throw ValidationError("--watchers must be at least 1") }
    guard total >= 1 else { throw ValidationError("--total must be at least 1") }
    guard parseGoDuration(interval) != nil else { throw ValidationError("--interval: not a duration: \(interval)") }
    guard let t = parseGoDuration(timeout), t > .zero else {
      throw ValidationError("--timeout: not a positive duration: \(timeout)")
    }
  }

  func run() async throws {
    let interval = parseGoDuration(self.interval) ?? .zero
    let timeout = parseGoDuration(self.timeout) ?? .seconds(120)
    let deadline = ContinuousClock.now + timeout
    if executor == .nio {
      guard NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor() else {
        throw ValidationError("--executor nio: NIO could not install its event loops as the global executor")
      }
    }
    let client = try EtcdClient(configuration: .init(endpoints: [endpoint]))
    let preference: (any TaskExecutor)? = executor == .eventloop ? client.taskExecutor : nil
    let start: GetResponse
    do {
      start = try await client.get("gowatch-start")
    } catch {
      await client.close()
      throw ValidationError("get from \(endpoint) failed: \(error)")
    }
    let rssIdle = residentBytes()
    let from = start.header.revision + 1

    let state = FanOutState()
    let total = self.total
    var options = WatchOptions.prefix
    options.startRevision = from
    options.requireLeader = true
    let prefix = self.prefix
    // --memory keeps no latencies, so the watchers' memory is the client's alone.
    let reserve = memory ? 0 : total
    var tasks: [Task<WatcherOutcome, Never>] = []
    tasks.reserveCapacity(watchers)
    for _ in 0..<watchers {
      let sequence = client.watch(prefix, options: options)
      tasks.append(
        Task(executorPreference: preference) {
          await watchUntil(total: total, reserve: reserve, sequence: sequence, state: state)
        })
    }
    // Every watcher is cancelled at the deadline, which bounds the whole run.
    let handles = tasks
    let timer = Task {
      try? await Task.sleep(until: deadline, clock: .continuous)
      for task in handles { task.cancel() }
    }
    let ready = await awaitReady(client: client, state: state, watchers: watchers, deadline: deadline)
    let rssReady = residentBytes()

    if memory {
      timer.cancel()
      for task in tasks { task.cancel() }
      for task in tasks { _ = await task.value }
      await client.close()
      let perWatcherKB = Double(rssReady - rssIdle) / 1024 / Double(watchers)
      print(
        "RESULT tool=\(label) op=watch-memory watchers=\(watchers) ready=\(ready)"
          + String(
            format: " rss_mb_idle=%.1f rss_mb_watchers=%.1f kb_per_watcher=%.1f", mb(rssIdle), mb(rssReady),
            perWatcherKB))
      return
    }

    let usage0 = resourceUsage()
    let t0 = wallNanos()
    var value = [UInt8](repeating: 0, count: max(8, valSize))
    var errors = 0
    await withTaskExecutorPreference(preference) {
      for i in 0..<total {
        if ContinuousClock.now >= deadline { break }
        withUnsafeBytes(of: UInt64(wallNanos()).littleEndian) { value.replaceSubrange(0..<8, with: $0) }
        do {
          try await client.put(prefix + String(i % 100), value)
        } catch {
          errors += 1
        }
        if interval > .zero { try? await Task.sleep(for: interval) }
      }
    }
    var outcomes: [WatcherOutcome] = []
    outcomes.reserveCapacity(watchers)
    for task in tasks { outcomes.append(await task.value) }
    let usage1 = resourceUsage()
    let rssEnd = residentBytes()
    timer.cancel()
    await client.close()

    let last = outcomes.map(\.finishedAt).max() ?? t0
    let elapsed = Double(Int64(bitPattern: last &- t0)) / 1e9
    var all: [Double] = []
    all.reserveCapacity(outcomes.reduce(0) { $0 + $1.latencies.count })
    for outcome in outcomes { all += outcome.latencies }
    all.sort()
    // gowatch's percentile: the element at floor(p * (n - 1)).
    func pct(_ p: Double) -> Double { all.isEmpty ? 0 : all[Int(p * Double(all.count - 1))] }
    let cpu = (usage1.user + usage1.sys) - (usage0.user + usage0.sys)
    let n = Double(all.count)
    let watchErrors = outcomes.filter { $0.failed }.count
    print(
      "RESULT tool=\(label) op=watch watchers=\(watchers) total=\(total) errors=\(errors) delivered=\(all.count) "
        + String(
          format: "secs=%.3f events_per_s=%.0f p50_ms=%.3f p99_ms=%.3f max_ms=%.3f cpu_us_per_event=%.2f",
          elapsed, n / elapsed, pct(0.50), pct(0.99), pct(1.0), cpu * 1e6 / n)
        + " ready=\(ready) watch_errors=\(watchErrors)"
        + String(
          format: " rss_mb_idle=%.1f rss_mb_ready=%.1f rss_mb_end=%.1f", mb(rssIdle), mb(rssReady), mb(rssEnd)))
  }
}

/// What one watcher saw.
struct WatcherOutcome: Sendable {
  /// Put->event latency of each delivered event, in milliseconds.
  var latencies: [Double]
  /// Wall clock (UnixNano) when the watcher stopped.
  var finishedAt: UInt64
  /// Whether its sequence ended with an error (cancellation at the timeout included).
  var failed: Bool
}

/// The watchers' shared count of those created on the server.
final class FanOutState: Sendable {
  let ready = Atomic<Int>(0)
}

/// Consumes `sequence` until `total` events, with room for `reserve` latencies made up front: the first empty response (a progress notification) counts the
/// watcher as created; every event's latency is its receipt time minus the send time in its value's first 8
/// bytes.
func watchUntil(total: Int, reserve: Int, sequence: WatchSequence, state: FanOutState) async -> WatcherOutcome {
  var latencies: [Double] = []
  latencies.reserveCapacity(reserve)
  var counted = false
  var got = 0
  var failed = false
  do {
    for try await response in sequence {
      if response.events.isEmpty {
        if !counted {
          counted = true
          state.ready.add(1, ordering: .relaxed)
        }
        continue
      }
      let now = Int64(bitPattern: wallNanos())
      for event in response.events {
        let sent = event.kv.value.count >= 8 ? Int64(littleEndianBytes: event.kv.value) : now
        latencies.append(Double(now - sent) / 1e6)
        got += 1
      }
      if got >= total { break }
    }
  } catch {
    failed = true
  }
  return WatcherOutcome(latencies: latencies, finishedAt: wallNanos(), failed: failed)
}

/// Asks for progress notifications until every watcher has had one (so every watcher is created on the
/// server), or the deadline. Returns how many are ready.
func awaitReady(client: EtcdClient, state: FanOutState, watchers: Int, deadline: ContinuousClock.Instant) async
  -> Int
{
  while state.ready.load(ordering: .relaxed) < watchers && ContinuousClock.now < deadline {
    try? await client.requestWatchProgress()
    try? await Task.sleep(for: .milliseconds(20))
  }
  return state.ready.load(ordering: .relaxed)
}

extension Int64 {
  /// The first 8 bytes of `bytes`, little-endian (the caller checks there are 8).
  init(littleEndianBytes bytes: [UInt8]) {
    var x: UInt64 = 0
    for i in 0..<8 { x |= UInt64(bytes[i]) << (8 * UInt64(i)) }
    self.init(bitPattern: x)
  }
}

/// Wall-clock nanoseconds since 1970 (Go's time.Now().UnixNano()).
func wallNanos() -> UInt64 {
  var ts = timespec()
  clock_gettime(CLOCK_REALTIME, &ts)
  return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
}

func mb(_ bytes: Int) -> Double { Double(bytes) / 1_048_576 }

/// A Go duration string (`0`, `250us`, `1.5ms`, `2s`, `1m`): a number and one unit; nil when it is not one.
func parseGoDuration(_ text: String) -> Duration? {
  if text == "0" { return .zero }
  let units: [(String, Double)] = [
    ("ns", 1), ("us", 1e3), ("µs", 1e3), ("ms", 1e6), ("s", 1e9), ("m", 60e9), ("h", 3600e9),
  ]
  for (suffix, nanos) in units where text.hasSuffix(suffix) {
    guard let number = Double(text.dropLast(suffix.count)), number >= 0 else { continue }
    return .nanoseconds(Int64(number * nanos))
  }
  return nil
}
