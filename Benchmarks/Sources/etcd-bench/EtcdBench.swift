// etcd-bench: etcd's tools/benchmark `put` and `range`, on this package's EtcdClient.
//
// Same flags and the same report as `benchmark put` / `benchmark range KEY` (etcd v3.4), plus `--metrics on|off`
// and a last `RESULT ...` line in the format of ../shared/anchors/gobench, so run-anchors.sh can tabulate it.
//
// --conns EtcdClient instances (each with its own connection), --clients workers (one Task each, assigned round
// robin to the clients), --total requests handed out by one atomic counter: every worker loops until the counter
// passes --total. Client CPU is getrusage(RUSAGE_SELF) user+sys around the timed loop only.

import ArgumentParser
import EtcdClient
import EtcdMetrics
import Foundation
import InMemoryTracing
import NIOCore
import NIOPosix
import Synchronization
import Tracing

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

@main
struct EtcdBench: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "etcd-bench",
    abstract: "A low-level benchmark tool for etcd3 on etcd-swift's EtcdClient (as etcd's tools/benchmark).",
    subcommands: [PutCommand.self, RangeCommand.self, WatchCommand.self]
  )
}

// MARK: - Flags shared by the commands (etcd's root flags, plus --metrics)

enum OnOff: String, ExpressibleByArgument, CaseIterable, Sendable {
  case on, off
}

/// What `--tracing` gives the clients.
enum TracingChoice: String, ExpressibleByArgument, CaseIterable, Sendable {
  /// No tracer: `Configuration.tracer` is nil.
  case off
  /// swift-distributed-tracing's `NoOpTracer`: spans that record nothing.
  case noop
  /// An `InMemoryTracer`, which records every span.
  case memory
}

enum Consistency: String, ExpressibleByArgument, CaseIterable, Sendable {
  case l, s
}

enum ExecutorChoice: String, ExpressibleByArgument, CaseIterable, Sendable {
  /// Workers run on Swift's default (cooperative pool) executor.
  case pool
  /// Workers prefer their client's `taskExecutor`, the event loop its connection runs on.
  case eventloop
  /// Workers run on Swift's default executor with NIO's singleton event loops installed as that executor
  /// (`NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()`), which the
  /// clients' connections also run on: a task resumed by a response stays on its connection's loop.
  case nio
}

struct GlobalOptions: ParsableArguments {
  @Option(help: "gRPC endpoints, comma separated (host:port, http://host:port)")
  var endpoints: String = "127.0.0.1:2379"

  @Option(help: "Total number of gRPC connections (EtcdClient instances)")
  var conns: Int = 1

  @Option(help: "Total number of concurrent clients (one Task each, round robin over the connections)")
  var clients: Int = 1

  @Option(help: "With `on`, every EtcdClient has an RPCMetricsInterceptor on one shared MetricsRegistry")
  var metrics: OnOff = .off

  @Option(help: "`off`: no tracer; `noop`: NoOpTracer; `memory`: an InMemoryTracer that keeps every span")
  var tracing: TracingChoice = .off

  @Option(help: "Per-request deadline in seconds; 0: none (as etcd's tool, which uses context.Background())")
  var requestTimeout: Double = 0

  @Option(help: "Label in the RESULT line")
  var label: String = "etcd-swift"

  @Option(
    help: """
      Where workers run: `pool` (Swift's default executor), `eventloop` (their client's taskExecutor) or `nio` \
      (the default executor, with NIO's singleton event loops installed as Swift's global executor)
      """)
  var executor: ExecutorChoice = .pool

  @Option(
    help: """
      Read the resident memory when this many requests have been handed out, and again at the end \
      (rss_mb_checkpoint, rss_mb_end in the RESULT line); 0: at a tenth of --total
      """)
  var rssCheckpoint: Int = 0

  func validate() throws {
    guard conns >= 1 else { throw ValidationError("--conns must be at least 1") }
    guard clients >= 1 else { throw ValidationError("--clients must be at least 1") }
    guard requestTimeout >= 0 else { throw ValidationError("--request-timeout must not be negative") }
    guard !endpointList.isEmpty else { throw ValidationError("--endpoints is empty") }
  }

  var endpointList: [String] {
    endpoints.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
  }
}

// MARK: - put

struct PutCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(commandName: "put", abstract: "Benchmark put")

  @OptionGroup var global: GlobalOptions

  @Option(help: "Total number of put requests")
  var total: Int = 10000

  @Option(help: "Key size of put request")
  var keySize: Int = 8

  @Option(help: "Value size of put request")
  var valSize: Int = 8

  @Option(help: "Maximum possible keys")
  var keySpaceSize: Int = 1

  @Flag(help: "Use sequential keys")
  var sequentialKeys: Bool = false

  func validate() throws {
    guard total >= 1 else { throw ValidationError("--total must be at least 1") }
    guard keySpaceSize >= 1 else { throw ValidationError("--key-space-size must be at least 1") }
    guard valSize >= 0 else { throw ValidationError("--val-size must not be negative") }
    // Go's binary.PutVarint panics when the key is too short for the varint; say so instead.
    let needed = varintLength(Int64(keySpaceSize - 1))
    guard keySize >= needed else {
      throw ValidationError("--key-size \(keySize) is too small for --key-space-size \(keySpaceSize) (needs \(needed))")
    }
  }

  func run() async throws {
    // Random bytes, as gobench's crypto/rand value (one getrandom for the seed, not one per byte).
    var seeded = Xoshiro256(seed: UInt64.random(in: .min ... .max))
    let value = (0..<valSize).map { _ in UInt8(truncatingIfNeeded: seeded.next()) }
    let keySize = self.keySize, keySpace = self.keySpaceSize, sequential = self.sequentialKeys
    try await runBenchmark(global: global, op: "put", cons: "-", total: total) { client, worker, n, rng in
      // As gobench (and etcd's tool): key-size bytes, zero, then binary.PutVarint of the key number.
      var key = [UInt8](repeating: 0, count: keySize)
      let number = sequential ? Int64(n % keySpace) : Int64(Int.random(in: 0..<keySpace, using: &rng))
      putVarint(&key, number)
      try await client.put(key, value)
    }
  }
}

// MARK: - range

struct RangeCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "range",
    abstract: "Benchmark range",
    usage: "etcd-bench range <key> [<end-range>] [options]"
  )

  @OptionGroup var global: GlobalOptions

  @Argument(help: "The key to range")
  var key: String

  @Argument(help: "The end of the range (exclusive); omitted: the key alone")
  var endRange: String?

  @Option(help: "Total number of range requests")
  var total: Int = 10000

  @Option(help: "Linearizable (l) or serializable (s)")
  var consistency: Consistency = .l

  func validate() throws {
    guard total >= 1 else { throw ValidationError("--total must be at least 1") }
  }

  func run() async throws {
    let key = Array(self.key.utf8)
    var options = GetOptions(serializable: consistency == .s)
    if let endRange { options.range = .end(Array(endRange.utf8)) }
    let getOptions = options
    try await runBenchmark(global: global, op: "range", cons: consistency.rawValue, total: total) { client, _, _, _ in
      _ = try await client.get(key, options: getOptions)
    }
  }
}

// MARK: - The loop

typealias Request = @Sendable (EtcdClient, Int, Int, inout Xoshiro256) async throws -> Void

struct WorkerResult: Sendable {
  var errors: [String: Int] = [:]
}

/// The latency of each request, in nanoseconds, by request number.
///
/// `@unchecked Sendable`: every slot is written by exactly one worker (the one that drew that request number
/// from the atomic counter), and read only after the task group that holds the workers has finished.
final class LatencyTable: @unchecked Sendable {
  private let slots: UnsafeMutableBufferPointer<UInt64>

  init(count: Int) {
    slots = .allocate(capacity: count)
    slots.initialize(repeating: 0)
  }

  subscript(index: Int) -> UInt64 {
    get { slots[index] }
    set { slots[index] = newValue }
  }

  deinit { slots.deallocate() }
}

final class Counter: Sendable {
  let next = Atomic<Int>(0)
  /// Resident memory in bytes when the checkpoint request was handed out.
  let rssAtCheckpoint = Atomic<Int>(0)
}

/// The process's resident memory in bytes, from /proc/self/statm (0 where there is none).
func residentBytes() -> Int {
  guard let statm = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
  let fields = statm.split(separator: " ")
  guard fields.count > 1, let pages = Int(fields[1]) else { return 0 }
  return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
}

func runBenchmark(global: GlobalOptions, op: String, cons: String, total: Int, request: @escaping Request)
  async throws
{
  if global.executor == .nio {
    guard NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor() else {
      throw ValidationError("--executor nio: NIO could not install its event loops as the global executor")
    }
  }
  var configuration = EtcdClient.Configuration(endpoints: global.endpointList)
  configuration.defaultRequestTimeout =
    global.requestTimeout > 0 ? .nanoseconds(Int64(global.requestTimeout * 1e9)) : nil
  let registry = MetricsRegistry()
  if global.metrics == .on {
    configuration.interceptors = [RPCMetricsInterceptor(registry: registry)]
  }
  switch global.tracing {
  case .off: break
  case .noop: configuration.tracer = NoOpTracer()
  case .memory: configuration.tracer = InMemoryTracer()
  }

  var clients: [EtcdClient] = []
  for _ in 0..<global.conns {
    let client = try EtcdClient(configuration: configuration)
    clients.append(client)
    // Connect outside the timed loop, as gobench does.
    do {
      _ = try await client.get("warmup")
    } catch {
      for c in clients { await c.close() }
      throw ValidationError("warm-up request to \(global.endpoints) failed: \(error)")
    }
  }

  let counter = Counter()
  // One slot per request, written in full before the loop, so the resident memory the loop adds is the
  // client's and not this table's.
  let latencies = LatencyTable(count: total)
  let conns = clients
  let workers = global.clients
  let checkpoint = global.rssCheckpoint > 0 ? global.rssCheckpoint : max(1, total / 10)

  let usage0 = resourceUsage()
  let start = monotonicNanos()
  let results = await withTaskGroup(of: WorkerResult.self, returning: [WorkerResult].self) { group in
    for w in 0..<workers {
      let client = conns[w % conns.count]
      let preference: (any TaskExecutor)? = global.executor == .eventloop ? client.taskExecutor : nil
      group.addTask(executorPreference: preference) {
        var result = WorkerResult()
        var rng = Xoshiro256(seed: UInt64(w) + 1)
        while true {
          let n = counter.next.wrappingAdd(1, ordering: .relaxed).oldValue
          if n >= total { break }
          if n == checkpoint { counter.rssAtCheckpoint.store(residentBytes(), ordering: .relaxed) }
          let t0 = monotonicNanos()
          do {
            try await request(client, w, n, &rng)
          } catch {
            result.errors["\(error)", default: 0] += 1
          }
          latencies[n] = monotonicNanos() &- t0
        }
        return result
      }
    }
    var all: [WorkerResult] = []
    for await r in group { all.append(r) }
    return all
  }
  let end = monotonicNanos()
  let usage1 = resourceUsage()
  let rssEnd = residentBytes()
  let rssCheckpoint = counter.rssAtCheckpoint.load(ordering: .relaxed)

  for c in clients { await c.close() }

  var lats: [Double] = []
  lats.reserveCapacity(total)
  var errors: [String: Int] = [:]
  for index in 0..<total { lats.append(Double(latencies[index]) / 1e9) }
  for r in results {
    for (k, v) in r.errors { errors[k, default: 0] += v }
  }
  lats.sort()
  let wall = Double(end &- start) / 1e9
  let user = usage1.user - usage0.user
  let sys = usage1.sys - usage0.sys

  print(Report(lats: lats, total: wall, errors: errors).description, terminator: "")
  if global.metrics == .on {
    print("\nMetrics: on (RPCMetricsInterceptor on one shared MetricsRegistry)")
  }

  // gobench's RESULT line, field for field, plus client_cpu_us_per_req (the same figure) as the issue names it.
  let n = lats.count
  func pct(_ p: Double) -> Double { n == 0 ? 0 : lats[Int(p / 100 * Double(n - 1) + 0.5)] * 1000 }
  let mean = n == 0 ? 0 : lats.reduce(0, +) / Double(n) * 1000
  let errorCount = errors.values.reduce(0, +)
  let cpuPerReq = n == 0 ? 0 : (user + sys) / Double(n) * 1e6
  let prefix = "RESULT tool=\(global.label) op=\(op) cons=\(cons) conns=\(global.conns) clients=\(global.clients) "
    + "total=\(n) errors=\(errorCount) "
  let figures = String(
    format: "wall_s=%.3f rps=%.0f p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f max_ms=%.3f "
      + "loop_user_s=%.3f loop_sys_s=%.3f loop_cpu_us_per_req=%.1f mean_ms=%.3f",
    wall, Double(n) / wall, pct(50), pct(90), pct(99), pct(100), user, sys, cpuPerReq, mean
  )
  let memory = String(
    format: " rss_checkpoint_req=%d rss_mb_checkpoint=%.1f rss_mb_end=%.1f", checkpoint,
    Double(rssCheckpoint) / 1_048_576, Double(rssEnd) / 1_048_576)
  print(
    prefix + figures + " metrics=\(global.metrics.rawValue) executor=\(global.executor.rawValue)" + String(format: " client_cpu_us_per_req=%.1f", cpuPerReq)
      + memory)
}

// MARK: - etcd's pkg/report, as `benchmark` prints it (precision %4.4f)

struct Report: CustomStringConvertible {
  let lats: [Double]  // sorted, seconds
  let total: Double
  let errors: [String: Int]

  static let percentiles: [Double] = [10, 25, 50, 75, 90, 95, 99, 99.9]

  var description: String {
    var s = ""
    if !lats.isEmpty {
      let fastest = lats.first!, slowest = lats.last!
      let average = lats.reduce(0, +) / Double(lats.count)
      let variance = lats.reduce(0) { $0 + ($1 - average) * ($1 - average) } / Double(lats.count)
      s += "\nSummary:\n"
      s += "  Total:\t\(f(total)) secs.\n"
      s += "  Slowest:\t\(f(slowest)) secs.\n"
      s += "  Fastest:\t\(f(fastest)) secs.\n"
      s += "  Average:\t\(f(average)) secs.\n"
      s += "  Stddev:\t\(f(variance.squareRoot())) secs.\n"
      s += "  Requests/sec:\t\(f(Double(lats.count) / total))\n"
      s += histogram(fastest: fastest, slowest: slowest)
      s += latencies()
    }
    if !errors.isEmpty {
      s += "\nError distribution:\n"
      for (message, count) in errors.sorted(by: { $0.value > $1.value }) {
        s += "  [\(count)]\t\(message)\n"
      }
    }
    return s
  }

  private func f(_ x: Double) -> String { String(format: "%4.4f", x) }

  private func histogram(fastest: Double, slowest: Double) -> String {
    let bc = 10
    var buckets = [Double](repeating: 0, count: bc + 1)
    var counts = [Int](repeating: 0, count: bc + 1)
    let bs = (slowest - fastest) / Double(bc)
    for i in 0..<bc { buckets[i] = fastest + bs * Double(i) }
    buckets[bc] = slowest
    var bi = 0, maxCount = 0, i = 0
    while i < lats.count {
      if lats[i] <= buckets[bi] {
        i += 1
        counts[bi] += 1
        maxCount = max(maxCount, counts[bi])
      } else if bi < buckets.count - 1 {
        bi += 1
      } else {
        break  // cannot happen: buckets[bc] is the slowest
      }
    }
    var s = "\nResponse time histogram:\n"
    for i in buckets.indices {
      let barLen = maxCount > 0 ? counts[i] * 40 / maxCount : 0
      s += "  \(f(buckets[i])) [\(counts[i])]\t|\(String(repeating: "∎", count: barLen))\n"
    }
    return s
  }

  private func latencies() -> String {
    // etcd's percentiles(): the first latency whose rank reaches each percentile.
    var data = [Double](repeating: 0, count: Self.percentiles.count)
    var j = 0
    let n = lats.count
    var i = 0
    while i < n && j < Self.percentiles.count {
      if Double(i) * 100 / Double(n) >= Self.percentiles[j] {
        data[j] = lats[i]
        j += 1
      }
      i += 1
    }
    var s = "\nLatency distribution:\n"
    for (p, v) in zip(Self.percentiles, data) where v > 0 {
      let label = p == p.rounded() ? String(Int(p)) : String(p)
      s += "  \(label)% in \(f(v)) secs.\n"
    }
    return s
  }
}

// MARK: - Helpers

/// Go's encoding/binary.PutVarint (zig-zag, then base-128 little-endian) into the start of `buffer`.
func putVarint(_ buffer: inout [UInt8], _ x: Int64) {
  var ux = UInt64(bitPattern: x) << 1
  if x < 0 { ux = ~ux }
  var i = 0
  while ux >= 0x80 {
    buffer[i] = UInt8(truncatingIfNeeded: ux) | 0x80
    ux >>= 7
    i += 1
  }
  buffer[i] = UInt8(truncatingIfNeeded: ux)
}

func varintLength(_ x: Int64) -> Int {
  var ux = UInt64(bitPattern: x) << 1
  if x < 0 { ux = ~ux }
  var n = 1
  while ux >= 0x80 {
    ux >>= 7
    n += 1
  }
  return n
}

/// xoshiro256** seeded by SplitMix64: a cheap per-worker generator (Go's math/rand sequence is not reproduced).
struct Xoshiro256: RandomNumberGenerator, Sendable {
  private var s: (UInt64, UInt64, UInt64, UInt64)

  init(seed: UInt64) {
    var x = seed
    func splitmix() -> UInt64 {
      x &+= 0x9E37_79B9_7F4A_7C15
      var z = x
      z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
      z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
      return z ^ (z >> 31)
    }
    s = (splitmix(), splitmix(), splitmix(), splitmix())
  }

  mutating func next() -> UInt64 {
    let result = ((s.1 &* 5) << 7 | (s.1 &* 5) >> 57) &* 9
    let t = s.1 << 17
    s.2 ^= s.0
    s.3 ^= s.1
    s.1 ^= s.2
    s.0 ^= s.3
    s.2 ^= t
    s.3 = s.3 << 45 | s.3 >> 19
    return result
  }
}

func monotonicNanos() -> UInt64 {
  var ts = timespec()
  clock_gettime(CLOCK_MONOTONIC, &ts)
  return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
}

func resourceUsage() -> (user: Double, sys: Double) {
  var ru = rusage()
  #if canImport(Glibc)
    getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &ru)
  #else
    getrusage(RUSAGE_SELF, &ru)
  #endif
  func seconds(_ tv: timeval) -> Double { Double(tv.tv_sec) + Double(tv.tv_usec) / 1e6 }
  return (seconds(ru.ru_utime), seconds(ru.ru_stime))
}
