import Foundation
import Testing
import LoopbackTestSupport

#if canImport(Glibc)
  import Glibc
#endif

@testable import EtcdClient

/// Long runs of the client's life cycles against a real etcd: what a cycle takes, its end gives back.
///
/// The baseline is sampled after a warm-up (`warmUp` cycles), because NIO's event-loop threads, Dispatch's
/// workers and the allocator's pools are made lazily on first use. `LEAK_TEST_CYCLES` overrides the number of
/// cycles (default 10,000).
@Suite("Leaks: 10,000 connect/close and watch create/cancel cycles", .serialized)
struct LeakTests {
  static let cycles = ProcessInfo.processInfo.environment["LEAK_TEST_CYCLES"].flatMap { Int($0) } ?? 10_000
  static let warmUp = min(500, cycles / 2)

  @Test func connectCallCloseCyclesGiveBackDescriptorsThreadsAndMemory() async throws {
    try await withEtcd { etcd in
      let etcdPID = try #require(etcd.members[0].pid)
      var baseline: ProcessResources?
      var etcdBaseline: ProcessResources?
      let start = ContinuousClock.now
      for cycle in 0..<Self.cycles {
        if cycle == Self.warmUp {
          baseline = try await ProcessResources.baseline()
          etcdBaseline = try await ProcessResources.baseline(pid: etcdPID)
        }
        let client = try EtcdClient(configuration: .init(endpoints: etcd.endpoints))
        // A call, so the connection really opens (the client connects on first use).
        let response = try await client.get("leak/absent")
        #expect(response.count == 0)
        await client.close()
        #expect(client.connectAttempts == 1)
      }
      let elapsed = ContinuousClock.now - start
      let before = try #require(baseline)
      let after = try await ProcessResources.settled(like: before)
      let etcdAfter = try await ProcessResources.settled(
        like: try #require(etcdBaseline), pid: etcdPID, threads: false)
      print("LeakTests connect/close: \(Self.cycles) cycles in \(elapsed); after \(Self.warmUp): \(before); end: \(after)")
      print("LeakTests connect/close: etcd after \(Self.warmUp): \(etcdBaseline!); end: \(etcdAfter)")
      expectNoLeak(before, after)
      // Every socket the client closed, etcd closed too.
      #expect(etcdAfter.fileDescriptors == etcdBaseline?.fileDescriptors)
    }
  }

  @Test func aClientReleasedWithoutCloseClosesItsConnection() async throws {
    try await withEtcd { etcd in
      for _ in 0..<20 {
        let client = try EtcdClient(configuration: .init(endpoints: etcd.endpoints))
        _ = try await client.get("leak/absent")
        await client.close()
      }
      let baseline = try await ProcessResources.baseline()
      for _ in 0..<100 {
        let client = try EtcdClient(configuration: .init(endpoints: etcd.endpoints))
        _ = try await client.get("leak/absent")
      }
      let after = try await ProcessResources.settled(like: baseline, within: .seconds(5))
      // Released without close(), each client's deinit closes its connection: no socket stays behind.
      #expect(after.fileDescriptors == baseline.fileDescriptors, "\(after)")
    }
  }

  @Test func aWatchOutlivingItsClientEndsWithClientClosed() async throws {
    try await withEtcd { etcd in
      let writer = try EtcdClient(configuration: .init(endpoints: etcd.endpoints))
      var client: EtcdClient? = try EtcdClient(configuration: .init(endpoints: etcd.endpoints))
      let start = try #require(try await client?.get("leak/watched").header.revision) + 1
      let watch = WatchRecorder(try #require(client?.watch("leak/watched", options: .init(startRevision: start))))
      _ = try await writer.put("leak/watched", "1")
      #expect(try await watch.wait(timeout: .seconds(10)) { $0.events.count == 1 })
      // The watcher keeps iterating; the client it came from is released without close().
      client = nil
      #expect(try await watch.wait(timeout: .seconds(10)) { $0.ended })
      #expect(watch.ending?.code == .clientClosed, "\(String(describing: watch.ending))")
      await writer.close()
    }
  }

  @Test func theCountsSeeADescriptorAndAThreadComeAndGo() async throws {
    let before = try await ProcessResources.baseline()
    let descriptor = open("/dev/null", O_RDONLY)
    let release = DispatchSemaphore(value: 0)
    let started = DispatchSemaphore(value: 0)
    let thread = Thread {
      // Named through /proc, which the counts read, rather than through Foundation's Thread.name.
      let comm = open("/proc/thread-self/comm", O_WRONLY)
      if comm >= 0 {
        _ = "leak-probe".withCString { write(comm, $0, strlen($0)) }
        close(comm)
      }
      started.signal()
      _ = release.wait(timeout: .now() + 30)
    }
    thread.start()
    _ = started.wait(timeout: .now() + 10)
    let during = try ProcessResources.read()
    #expect(during.fileDescriptors == before.fileDescriptors + 1, "\(during)")
    #expect(during.threadNames["leak-probe"] == 1, "\(during)")
    #expect(during.fileDescriptorKinds["/dev/null", default: 0] == before.fileDescriptorKinds["/dev/null", default: 0] + 1)
    close(descriptor)
    release.signal()
    let after = try await ProcessResources.settled(like: before)
    #expect(after.fileDescriptors == before.fileDescriptors, "\(after)")
    #expect(after.threads <= before.threads, "\(after)")
    #expect(after.threadNames["leak-probe"] == nil, "\(after)")
  }

  /// With `anchored`, a watcher held for the whole run keeps the shared Watch stream open, so each cycle's cancel
  /// travels to the server as a WatchCancelRequest on it; without, the last watcher's cancel closes the stream
  /// (RST_STREAM) and the next cycle opens a new one.
  @Test(arguments: [true, false])
  func watchCreateCancelCyclesCancelOnTheServerAndGiveBackResources(anchored: Bool) async throws {
    try await withEtcd { etcd in
      let endpoint = etcd.endpoints[0]
      let client = try EtcdClient(configuration: .init(endpoints: etcd.endpoints))
      let first = try await client.put("leak/watched", "0").header.revision + 1
      let idle = try await etcdWatchGauges(endpoint)

      let anchor = anchored ? Task { for try await _ in client.watch("leak/anchor") {} } : nil
      let held = anchored ? EtcdWatchGauges(watchers: idle.watchers + 1, streams: idle.streams + 1) : idle
      #expect(try await waitForWatchGauges(endpoint) { $0 == held } == held)

      let start = ContinuousClock.now
      let warm = try await watchCycles(client, count: Self.warmUp, from: first)
      let baseline = try await ProcessResources.baseline()
      let rest = try await watchCycles(client, count: Self.cycles - Self.warmUp, from: warm.next)
      let elapsed = ContinuousClock.now - start

      // Every cancel reached the server: its watchers and streams are back to the anchor's, or none.
      #expect(try await waitForWatchGauges(endpoint) { $0 == held } == held)
      #expect(warm.mismatches + rest.mismatches == 0)
      #expect(await client.watchResumptions == 0)
      let after = try await ProcessResources.settled(like: baseline)
      print(
        "LeakTests watch (anchored: \(anchored)): \(Self.cycles) cycles in \(elapsed), "
          + "\(warm.slow + rest.slow) over 50 ms; after \(Self.warmUp): \(baseline); end: \(after)")
      expectNoLeak(baseline, after)

      // The last watcher gone, the client closes the stream, and the server drops it.
      anchor?.cancel()
      #expect(try await waitForWatchGauges(endpoint) { $0 == idle } == idle)
      await client.close()
    }
  }

  /// `count` watch create/cancel cycles, one at a time. A cycle watches `leak/watched` from the next revision,
  /// puts the key and waits for that put's event, so the watcher was live on the server; leaving the loop
  /// cancels it. Returns the next revision, the cycles that saw another event than their put's, and those
  /// slower than 50 ms.
  ///
  /// A watcher whose start revision the put has already reached when etcd creates it is not notified by the
  /// put but by etcd's catch-up loop, which runs every 100 ms (`syncWatchersLoop`). The creation travels through
  /// a Task and the client's watch actor while a put is written at once, so a put right after `watch()` wins
  /// that race about one time in seven; a serializable read first lets the creation through.
  private func watchCycles(
    _ client: EtcdClient, count: Int, from first: Int64
  ) async throws -> (next: Int64, mismatches: Int, slow: Int) {
    var next = first
    var mismatches = 0
    var slow = 0
    for cycle in 0..<count {
      let cycleStart = ContinuousClock.now
      let watch = client.watch("leak/watched", options: .init(startRevision: next))
      _ = try await client.get("leak/watched", options: .init(serializable: true))
      let put = try await client.put("leak/watched", "\(cycle)")
      var seen: [Int64] = []
      for try await response in watch {
        seen += response.events.map(\.kv.modRevision)
        if !seen.isEmpty { break }
      }
      if seen != [put.header.revision] { mismatches += 1 }
      next = put.header.revision + 1
      if ContinuousClock.now - cycleStart > .milliseconds(50) { slow += 1 }
    }
    return (next, mismatches, slow)
  }

  /// Descriptors equal, no more threads (Dispatch's idle workers may have ended) and NIO's event loops the
  /// same, resident memory within 10%.
  private func expectNoLeak(
    _ before: ProcessResources, _ after: ProcessResources, sourceLocation: SourceLocation = #_sourceLocation
  ) {
    #expect(after.fileDescriptors == before.fileDescriptors, "\(after)", sourceLocation: sourceLocation)
    #expect(after.threads <= before.threads, "\(after)", sourceLocation: sourceLocation)
    let eventLoops = { (resources: ProcessResources) in
      resources.threadNames.filter { $0.key.hasPrefix("NIO-") }.values.reduce(0, +)
    }
    #expect(eventLoops(after) == eventLoops(before), "\(after)", sourceLocation: sourceLocation)
    #expect(
      Double(after.residentBytes) <= 1.10 * Double(before.residentBytes), "\(after)",
      sourceLocation: sourceLocation)
  }
}

/// etcd's own count of watchers and Watch streams (its `etcd_debugging_mvcc_*` gauges).
struct EtcdWatchGauges: Equatable {
  var watchers: Double
  var streams: Double
}

/// Reads the watch gauges from a member's /metrics.
func etcdWatchGauges(_ endpoint: String) async throws -> EtcdWatchGauges {
  guard let port = endpoint.split(separator: ":").last.flatMap({ Int($0) }) else {
    throw FixtureError("no port in \(endpoint)")
  }
  let response = try LoopbackHTTP.request(port: port, path: "/metrics", timeoutSeconds: 5)
  guard response.status == 200 else { throw FixtureError("etcd's /metrics answered \(response.status)") }
  let samples = parseExposition(response.text)
  guard let watchers = samples["etcd_debugging_mvcc_watcher_total"],
    let streams = samples["etcd_debugging_mvcc_watch_stream_total"]
  else { throw FixtureError("etcd at \(endpoint) exposes no watch gauges") }
  return EtcdWatchGauges(watchers: watchers, streams: streams)
}

/// Scrapes (at most 20 s) until the gauges satisfy `condition`; returns the last reading.
func waitForWatchGauges(
  _ endpoint: String, until condition: (EtcdWatchGauges) -> Bool
) async throws -> EtcdWatchGauges {
  let deadline = ContinuousClock.now + .seconds(20)
  var gauges = try await etcdWatchGauges(endpoint)
  while !condition(gauges) && ContinuousClock.now < deadline {
    try await Task.sleep(for: .milliseconds(200))
    gauges = try await etcdWatchGauges(endpoint)
  }
  return gauges
}
