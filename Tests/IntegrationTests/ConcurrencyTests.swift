import Foundation
import Testing

@testable import EtcdClient

#if canImport(Glibc)
  import Glibc
#endif

/// Runs `body`, failing with a clear message when it does not finish within `limit`.
private func within<T: Sendable>(
  _ limit: Duration,
  _ what: String,
  _ body: @escaping @Sendable () async throws -> T
) async throws -> T {
  // nil from the timer, .some(value) from the body.
  return try await withThrowingTaskGroup(of: T?.self) { group in
    group.addTask { .some(try await body()) }
    group.addTask {
      try await Task.sleep(for: limit)
      return nil
    }
    defer { group.cancelAll() }
    guard case .some(.some(let value)) = try await group.next() else {
      throw FixtureError("\(what) did not finish within \(limit)")
    }
    return value
  }
}

/// Polls `condition` every 50 ms until it holds; throws after `timeout`.
private func eventually(
  _ what: String,
  timeout: Duration = .seconds(10),
  _ condition: () async throws -> Bool
) async throws {
  let deadline = ContinuousClock.now + timeout
  while ContinuousClock.now < deadline {
    if try await condition() { return }
    try await Task.sleep(for: .milliseconds(50))
  }
  throw FixtureError("\(what): not within \(timeout)")
}

/// The keys under a prefix, oldest first.
private func keys(_ client: EtcdClient, under prefix: String) async throws -> [KeyValue] {
  try await client.get(
    prefix, options: .init(range: .prefix, sortOrder: .ascend, sortTarget: .createRevision)
  )
  .kvs
}

/// Who is in the critical section: records every entry and exit, and counts overlaps.
private actor CriticalSection {
  private(set) var events: [(holder: Int, entered: Bool)] = []
  private(set) var overlaps = 0
  private var inside: Int?

  func enter(_ holder: Int) {
    if inside != nil { overlaps += 1 }
    inside = holder
    events.append((holder, true))
  }

  func exit(_ holder: Int) {
    if inside != holder { overlaps += 1 }
    inside = nil
    events.append((holder, false))
  }
}

/// The leaders of an election, in the order they were elected; counts two at once.
private actor Leadership {
  private(set) var order: [Int] = []
  private(set) var simultaneous = 0
  private var current: Int?

  func elected(_ candidate: Int) {
    if current != nil { simultaneous += 1 }
    current = candidate
    order.append(candidate)
  }

  func resigning(_ candidate: Int) {
    if current == candidate { current = nil }
  }
}

/// Values seen by an observer.
private actor Seen {
  private(set) var values: [String] = []
  func append(_ value: String) { values.append(value) }
}

@Suite("Concurrency (sessions, mutexes, elections) against a real etcd", .serialized)
struct ConcurrencyTests {
  @Test func sessionKeepsItsLeaseAliveAndCloseRevokesIt() async throws {
    try await withEtcd { etcd in
      let client = try EtcdClient(endpoints: etcd.endpoints)
      defer { Task { await client.close() } }
      let session = try await EtcdSession(client: client, ttl: .seconds(2))
      #expect(session.ttl == .seconds(2))
      #expect(session.endReason == nil)
      try await client.put("session/key", "v", options: .init(lease: session.leaseID))
      #expect(try await client.leases().contains(session.leaseID))

      // Two TTLs later the lease and its key are still there: the session renews it.
      try await Task.sleep(for: .seconds(4))
      #expect(try await client.leaseTimeToLive(session.leaseID).ttl != nil)
      #expect(try await client.get("session/key").count == 1)
      #expect(session.endReason == nil)

      try await session.close()
      #expect(try await client.get("session/key").count == 0)
      #expect(try await client.leaseTimeToLive(session.leaseID).ttl == nil)
      let reason = try await within(.seconds(5), "wait() after close") { try await session.wait() }
      guard case .closed = reason else {
        Issue.record("expected .closed, got \(reason)")
        return
      }
      // Closing again is no error (the lease is already gone).
      try await session.close()
    }
  }

  @Test func sessionIsOrphanedWhenItsLeaseIsRevokedElsewhere() async throws {
    try await withEtcd { etcd in
      let client = try EtcdClient(endpoints: etcd.endpoints)
      defer { Task { await client.close() } }
      let session = try await EtcdSession(client: client, ttl: .seconds(5))
      let waiter = Task { try await session.wait() }
      try await client.revokeLease(session.leaseID)
      let reason = try await within(.seconds(10), "the session's end") { try await waiter.value }
      guard case .leaseLost(let error) = reason else {
        Issue.record("expected .leaseLost, got \(reason)")
        return
      }
      #expect(error.code == .leaseNotFound, "\(error)")
      guard case .leaseLost? = session.endReason else {
        Issue.record("endReason: \(String(describing: session.endReason))")
        return
      }

      // A cancelled wait on a live session ends with .cancelled.
      let live = try await EtcdSession(client: client, ttl: .seconds(5))
      let cancelled = Task { try await live.wait() }
      cancelled.cancel()
      await expectEtcdError(.cancelled) { _ = try await cancelled.value }
      try await live.close()
    }
  }

  @Test func fiveContendersIncrementACounterWithoutOverlap() async throws {
    try await withEtcd { etcd in
      let setup = try EtcdClient(endpoints: etcd.endpoints)
      defer { Task { await setup.close() } }
      try await setup.put("counter", "0")
      let section = CriticalSection()
      try await within(.seconds(30), "5 contenders x 5 increments") {
        try await withThrowingTaskGroup(of: Void.self) { group in
          for holder in 0..<5 {
            group.addTask {
              // Each contender has its own client and session, as separate processes would.
              let client = try EtcdClient(endpoints: etcd.endpoints)
              let session = try await EtcdSession(client: client, ttl: .seconds(10))
              let mutex = EtcdMutex(session: session, prefix: "locks/counter")
              #expect(mutex.keyString == "locks/counter/" + String(session.leaseID.rawValue, radix: 16))
              for _ in 0..<5 {
                try await mutex.lock()
                await section.enter(holder)
                // Read-modify-write with a pause: lost updates show if two holders overlap.
                let current =
                  Int(try await client.get("counter").kvs.first?.valueString ?? "") ?? -1000
                try await Task.sleep(for: .milliseconds(Int.random(in: 1...10)))
                let write = try await client.txn(
                  Txn(if: [mutex.isOwnerCompare], then: [.put("counter", String(current + 1))])
                )
                #expect(write.succeeded, "the write under the lock must see the lock held")
                await section.exit(holder)
                try await mutex.unlock()
              }
              try await session.close()
              await client.close()
            }
          }
          try await group.waitForAll()
        }
      }
      #expect(try await setup.get("counter").kvs.first?.valueString == "25")
      #expect(await section.overlaps == 0)
      let events = await section.events
      #expect(events.count == 50)
      for index in stride(from: 0, to: events.count - 1, by: 2) {
        #expect(
          events[index].entered && !events[index + 1].entered, "entries and exits must alternate")
        #expect(
          events[index].holder == events[index + 1].holder, "the holder who entered must exit")
      }
      #expect(try await keys(setup, under: "locks/counter/").isEmpty)
    }
  }

  @Test func cancelledWaiterLeavesTheLineAndItsKeyIsDeleted() async throws {
    try await withEtcd { etcd in
      let client = try EtcdClient(endpoints: etcd.endpoints)
      defer { Task { await client.close() } }
      let holderSession = try await EtcdSession(client: client, ttl: .seconds(10))
      let waiterSession = try await EtcdSession(client: client, ttl: .seconds(10))
      let holder = EtcdMutex(session: holderSession, prefix: "locks/cancel")
      let waiter = EtcdMutex(session: waiterSession, prefix: "locks/cancel")
      try await holder.lock()

      let waiting = Task { try await waiter.lock() }
      try await eventually("the waiter's key is in line") {
        try await keys(client, under: "locks/cancel/").map(\.key) == [holder.key, waiter.key]
      }
      waiting.cancel()
      await expectEtcdError(.cancelled) {
        try await within(.seconds(10), "the cancelled lock()") { try await waiting.value }
      }
      try await eventually("the waiter's key is deleted") {
        try await keys(client, under: "locks/cancel/").map(\.key) == [holder.key]
      }
      #expect(try await holder.isOwner())
      #expect(try await !waiter.isOwner())
      // The waiter's session is still usable: once the holder unlocks it can lock again.
      try await holder.unlock()
      try await within(.seconds(10), "lock() after the holder unlocked") { try await waiter.lock() }
      #expect(try await waiter.isOwner())
      try await holderSession.close()
      try await waiterSession.close()
    }
  }

  @Test func tryLockFailsAtOnceWhileHeldAndLeavesNoKey() async throws {
    try await withEtcd { etcd in
      let client = try EtcdClient(endpoints: etcd.endpoints)
      defer { Task { await client.close() } }
      let first = EtcdMutex(session: try await EtcdSession(client: client), prefix: "locks/try")
      let second = EtcdMutex(session: try await EtcdSession(client: client), prefix: "locks/try")
      #expect(try await first.tryLock())
      // Locking again through the same session is immediate: the key is the session's.
      try await within(.seconds(5), "re-lock by the holder") { try await first.lock() }

      let failed = try await within(.seconds(5), "tryLock while held") {
        try await second.tryLock()
      }
      #expect(!failed)
      #expect(try await keys(client, under: "locks/try/").map(\.key) == [first.key])
      // A failed attempt's comparison never holds.
      #expect(try await !client.txn(Txn(if: [second.isOwnerCompare])).succeeded)
      #expect(try await client.txn(Txn(if: [first.isOwnerCompare])).succeeded)

      try await first.unlock()
      #expect(try await !first.isOwner())
      #expect(try await second.tryLock())
      #expect(try await second.isOwner())
      // Unlocking what is not held does nothing.
      try await first.unlock()
      #expect(try await second.isOwner())
      try await first.session.close()
      try await second.session.close()
    }
  }

  @Test func closingTheHoldersSessionHandsTheLockToTheNextWaiter() async throws {
    try await withEtcd { etcd in
      let client = try EtcdClient(endpoints: etcd.endpoints)
      defer { Task { await client.close() } }
      let holderSession = try await EtcdSession(client: client, ttl: .seconds(30))
      let holder = EtcdMutex(session: holderSession, prefix: "locks/handover")
      let next = EtcdMutex(session: try await EtcdSession(client: client), prefix: "locks/handover")
      let last = EtcdMutex(session: try await EtcdSession(client: client), prefix: "locks/handover")
      try await holder.lock()
      let nextWaits = Task { try await next.lock() }
      try await eventually("the next waiter is in line") {
        try await keys(client, under: "locks/handover/").count == 2
      }
      let lastWaits = Task { try await last.lock() }
      try await eventually("the last waiter is in line") {
        try await keys(client, under: "locks/handover/").count == 3
      }
      try await Task.sleep(for: .milliseconds(200))
      #expect(try await !next.isOwner())

      try await holderSession.close()
      try await within(.seconds(10), "the next waiter's lock()") { try await nextWaits.value }
      #expect(try await next.isOwner())
      #expect(try await !last.isOwner())
      try await next.unlock()
      try await within(.seconds(10), "the last waiter's lock()") { try await lastWaits.value }
      #expect(try await last.isOwner())
      try await next.session.close()
      try await last.session.close()
    }
  }

  @Test func electionHasOneLeaderAtATimeAndObserversFollowIt() async throws {
    try await withEtcd { etcd in
      let client = try EtcdClient(endpoints: etcd.endpoints)
      defer { Task { await client.close() } }
      var candidates: [EtcdElection] = []
      for _ in 0..<3 {
        candidates.append(
          EtcdElection(session: try await EtcdSession(client: client), prefix: "elect/ci"))
      }
      let elections = candidates
      let observerSession = try await EtcdSession(client: client)
      let watcher = EtcdElection(session: observerSession, prefix: "elect/ci")
      #expect(try await watcher.leader() == nil)

      // The observer starts while there is no leader.
      let seen = Seen()
      let observer = Task {
        for try await leader in watcher.observe() {
          await seen.append(leader.valueString)
          if leader.valueString == "c2" { break }
        }
      }
      let leadership = Leadership()
      try await within(.seconds(10), "the first campaign") {
        try await elections[0].campaign(value: "c0")
      }
      await leadership.elected(0)
      #expect(
        elections[0].key
          == ConcurrencyKeys.key(
            prefix: Array("elect/ci/".utf8), leaseID: elections[0].session.leaseID.rawValue))
      try await eventually("the observer sees c0") { await seen.values.last == "c0" }

      // Candidates 1 and 2 join the line in that order and wait.
      let second = elections[1]
      let third = elections[2]
      let campaign1 = Task {
        try await second.campaign(value: "c1")
        await leadership.elected(1)
      }
      try await eventually("candidate 1 is in line") {
        try await keys(client, under: "elect/ci/").count == 2
      }
      let campaign2 = Task {
        try await third.campaign(value: "c2")
        await leadership.elected(2)
      }
      try await eventually("candidate 2 is in line") {
        try await keys(client, under: "elect/ci/").count == 3
      }
      try await Task.sleep(for: .milliseconds(300))
      #expect(await leadership.order == [0])

      #expect(try await watcher.leader()?.valueString == "c0")
      #expect(try await watcher.leader()?.key == elections[0].key)
      try await elections[0].proclaim("c0-v2")
      try await eventually("the observer sees the proclaimed value") {
        await seen.values.last == "c0-v2"
      }
      #expect(try await watcher.leader()?.valueString == "c0-v2")

      // Resigning hands leadership to the next candidate in creation order.
      await leadership.resigning(0)
      try await elections[0].resign()
      try await within(.seconds(10), "candidate 1's campaign") { try await campaign1.value }
      #expect(try await watcher.leader()?.valueString == "c1")
      #expect(await leadership.order == [0, 1])
      do {
        try await elections[0].proclaim("stale")
        Issue.record("a resigned leader must not proclaim")
      } catch let error as ElectionError {
        #expect(error.code == .notLeader)
      }
      do {
        try await watcher.proclaim("never campaigned")
        Issue.record("a candidate that never campaigned must not proclaim")
      } catch let error as ElectionError {
        #expect(error.code == .notLeader)
      }

      await leadership.resigning(1)
      try await elections[1].resign()
      try await within(.seconds(10), "candidate 2's campaign") { try await campaign2.value }
      #expect(try await watcher.leader()?.valueString == "c2")

      try await within(.seconds(10), "the observer") { try await observer.value }
      #expect(await seen.values == ["c0", "c0-v2", "c1", "c2"])
      #expect(await leadership.order == [0, 1, 2])
      #expect(await leadership.simultaneous == 0)

      try await elections[2].resign()
      #expect(try await watcher.leader() == nil)
      for election in elections { try await election.session.close() }
      try await observerSession.close()
    }
  }

  @Test func cancelledCampaignResignsAndLosingTheSessionEndsLeadership() async throws {
    try await withEtcd { etcd in
      let client = try EtcdClient(endpoints: etcd.endpoints)
      defer { Task { await client.close() } }
      let leaderSession = try await EtcdSession(client: client)
      let leader = EtcdElection(session: leaderSession, prefix: "elect/cancel")
      let waiter = EtcdElection(
        session: try await EtcdSession(client: client), prefix: "elect/cancel")
      try await leader.campaign(value: "leader")
      let waiting = Task { try await waiter.campaign(value: "waiter") }
      try await eventually("the waiter is in line") {
        try await keys(client, under: "elect/cancel/").count == 2
      }
      waiting.cancel()
      await expectEtcdError(.cancelled) {
        try await within(.seconds(10), "the cancelled campaign") { try await waiting.value }
      }
      try await eventually("the waiter's key is deleted") {
        try await keys(client, under: "elect/cancel/").map(\.key) == [leader.key]
      }

      // The leader's session ends: its key goes, and with it the leadership.
      let observed = Task {
        var values: [String] = []
        for try await kv in waiter.observe() {
          values.append(kv.valueString)
          if values.count == 2 { break }
        }
        return values
      }
      try await eventually("the observer started") { true }
      try await Task.sleep(for: .milliseconds(200))
      try await leaderSession.close()
      #expect(try await leader.leader() == nil)
      do {
        try await leader.proclaim("after the session")
        Issue.record("a leader whose session ended must not proclaim")
      } catch let error as ElectionError {
        #expect(error.code == .notLeader)
      }
      try await within(.seconds(10), "the waiter's new campaign") {
        try await waiter.campaign(value: "next")
      }
      #expect(
        try await within(.seconds(10), "the observer") { try await observed.value } == [
          "leader", "next",
        ])
      try await waiter.session.close()
    }
  }

  @Test func goAndSwiftContendersShareOneLockAndOneElection() async throws {
    try await withEtcd { etcd in
      let client = try EtcdClient(endpoints: etcd.endpoints)
      defer { Task { await client.close() } }
      let endpoints = "--endpoints=\(etcd.members[0].clientURL)"
      let directory = etcd.members[0].dataDirectory

      // The lock: etcdctl (Go's concurrency.Mutex) queues behind the Swift holder.
      let swiftHolder = EtcdMutex(
        session: try await EtcdSession(client: client), prefix: "interop/lock")
      try await swiftHolder.lock()
      let lockLog = directory + "/etcdctl-lock.log"
      let lockPID = try spawn(["etcdctl", endpoints, "lock", "interop/lock"], logFile: lockLog)
      defer { stopProcess(lockPID) }
      try await eventually("etcdctl is in line") {
        try await keys(client, under: "interop/lock/").count == 2
      }
      let goKey = try #require(try await keys(client, under: "interop/lock/").last)
      #expect(
        goKey.keyString == "interop/lock/" + String(goKey.lease?.rawValue ?? 0, radix: 16), "Go's key layout")
      try await Task.sleep(for: .milliseconds(300))
      #expect(
        !(readFile(lockLog).contains(goKey.keyString)), "etcdctl must wait for the Swift holder")

      try await swiftHolder.unlock()
      try await eventually("etcdctl acquires the lock") {
        readFile(lockLog).contains(goKey.keyString)
      }
      let swiftContender = EtcdMutex(
        session: try await EtcdSession(client: client), prefix: "interop/lock")
      #expect(try await !swiftContender.tryLock(), "the Go holder must exclude Swift")
      let swiftWaits = Task { try await swiftContender.lock() }
      try await eventually("the Swift waiter is in line") {
        try await keys(client, under: "interop/lock/").count == 2
      }
      stopProcess(lockPID)
      try await within(.seconds(10), "Swift's lock() after etcdctl released") {
        try await swiftWaits.value
      }
      #expect(try await swiftContender.isOwner())

      // The election: etcdctl observes the Swift leader, then campaigns behind it and wins on resign.
      let swiftLeader = EtcdElection(
        session: try await EtcdSession(client: client), prefix: "interop/elect")
      try await swiftLeader.campaign(value: "swift-leader")
      let observeLog = directory + "/etcdctl-observe.log"
      let observePID = try spawn(
        ["etcdctl", endpoints, "elect", "-l", "interop/elect"], logFile: observeLog)
      defer { stopProcess(observePID) }
      try await eventually("etcdctl observes the Swift leader") {
        readFile(observeLog).contains("swift-leader")
      }
      try await swiftLeader.proclaim("swift-proclaimed")
      try await eventually("etcdctl observes the proclaimed value") {
        readFile(observeLog).contains("swift-proclaimed")
      }
      let campaignLog = directory + "/etcdctl-elect.log"
      let campaignPID = try spawn(
        ["etcdctl", endpoints, "elect", "interop/elect", "go-leader"], logFile: campaignLog)
      defer { stopProcess(campaignPID) }
      try await eventually("etcdctl is a candidate") {
        try await keys(client, under: "interop/elect/").count == 2
      }
      #expect(try await swiftLeader.leader()?.valueString == "swift-proclaimed")
      try await swiftLeader.resign()
      try await eventually("the Go candidate leads") {
        try await swiftLeader.leader()?.valueString == "go-leader"
      }
      try await eventually("etcdctl observes the Go leader") {
        readFile(observeLog).contains("go-leader")
      }
    }
  }
}

private func readFile(_ path: String) -> String {
  (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
}

/// Interrupts a process (etcdctl then unlocks or resigns and revokes its session) and reaps it; SIGKILL after
/// 5 s. Does nothing for a process already reaped.
private func stopProcess(_ pid: pid_t) {
  var status: Int32 = 0
  if waitpid(pid, &status, WNOHANG) != 0 { return }
  kill(pid, SIGINT)
  for _ in 0..<100 {
    if waitpid(pid, &status, WNOHANG) != 0 { return }
    usleep(50_000)
  }
  kill(pid, SIGKILL)
  waitpid(pid, &status, 0)
}
