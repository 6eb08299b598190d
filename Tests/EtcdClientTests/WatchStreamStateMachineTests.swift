import Testing

@testable import EtcdClient

private typealias Machine = WatchStreamStateMachine

private func request(_ key: String, start: Int64 = 0) -> Machine.CreateRequest {
  Machine.CreateRequest(
    key: Array(key.utf8), rangeEnd: [], startRevision: start, prevKV: false, progressNotify: false,
    filterPuts: false, filterDeletes: false, fragment: false)
}

private func header(_ revision: Int64) -> ResponseHeader {
  ResponseHeader(clusterID: 1, memberID: 2, revision: revision, raftTerm: 3)
}

private func event(_ key: String, _ revision: Int64) -> WatchEvent {
  WatchEvent(
    type: .put,
    kv: KeyValue(
      key: Array(key.utf8), value: [], createRevision: revision, modRevision: revision, version: 1, lease: nil),
    prevKV: nil)
}

/// A readable summary of actions, so tables compare whole sequences.
private func describe(_ actions: [Machine.Action]) -> [String] {
  actions.map { action in
    switch action {
    case .openStream: "open"
    case .closeStream: "close"
    case .sendCreate(let id, let request):
      "create \(id.raw) \(String(decoding: request.key, as: UTF8.self))@\(request.startRevision)"
    case .sendCancel(let serverID): "cancel \(serverID)"
    case .deliver(let id, let response):
      "deliver \(id.raw) " + (response.events.isEmpty
        ? "progress@\(response.header.revision)"
        : response.events.map { "\($0.kv.keyString)@\($0.kv.modRevision)" }.joined(separator: ","))
    case .finish(let id, let error): "finish \(id.raw) \(error.map { $0.code.name } ?? "ok")"
    }
  }
}

@Suite("WatchStreamStateMachine")
struct WatchStreamStateMachineTests {
  @Test func firstWatcherOpensTheStreamAndCreationsGoOneAtATime() {
    var machine = Machine()
    let (a, opened) = machine.addWatcher(request("a"))
    #expect(describe(opened) == ["open"])
    let (b, none) = machine.addWatcher(request("b", start: 7))
    #expect(none.isEmpty)
    #expect(describe(machine.streamOpened()) == ["create \(a.raw) a@0"])
    // b waits until a's creation is answered.
    #expect(describe(machine.responseReceived(.init(header: header(10), watchID: 100, created: true)))
      == ["create \(b.raw) b@7"])
    #expect(describe(machine.responseReceived(.init(header: header(10), watchID: 101, created: true))).isEmpty)
    // Events route by server id.
    let actions = machine.responseReceived(.init(header: header(11), watchID: 101, events: [event("b", 11)]))
    #expect(describe(actions) == ["deliver \(b.raw) b@11"])
  }

  @Test func resumptionRecreatesFromTheNextUndeliveredRevision() {
    var machine = Machine()
    let (a, _) = machine.addWatcher(request("a"))
    let (b, _) = machine.addWatcher(request("b", start: 5))
    _ = machine.streamOpened()
    _ = machine.responseReceived(.init(header: header(20), watchID: 0, created: true))
    _ = machine.responseReceived(.init(header: header(20), watchID: 1, created: true))
    _ = machine.responseReceived(.init(header: header(22), watchID: 1, events: [event("b", 21), event("b", 22)]))

    let failure = EtcdError(code: .connectionClosed, status: GRPCStatus(code: .unavailable))
    #expect(describe(machine.streamFailed(failure, resumable: true)) == ["open"])
    // a was created "from now" at revision 20: it resumes from 21, never skipping; b from 23.
    #expect(describe(machine.streamOpened()) == ["create \(a.raw) a@21"])
    #expect(describe(machine.responseReceived(.init(header: header(30), watchID: 7, created: true)))
      == ["create \(b.raw) b@23"])
    // Old server ids mean nothing on the new stream.
    #expect(describe(machine.responseReceived(.init(header: header(30), watchID: 1, events: [event("b", 24)])))
      .isEmpty)
  }

  @Test func progressNotificationsAdvanceTheResumeRevision() {
    var machine = Machine()
    let (a, _) = machine.addWatcher(request("a", start: 3))
    _ = machine.streamOpened()
    _ = machine.responseReceived(.init(header: header(3), watchID: 0, created: true))
    #expect(describe(machine.responseReceived(.init(header: header(40), watchID: 0))) == ["deliver \(a.raw) progress@40"])
    // A broadcast progress response (watch id -1) reaches every active watcher.
    #expect(describe(machine.responseReceived(.init(header: header(41), watchID: -1))) == ["deliver \(a.raw) progress@41"])
    _ = machine.streamFailed(EtcdError(code: .connectionClosed, status: .init(code: .unavailable)), resumable: true)
    #expect(describe(machine.streamOpened()) == ["create \(a.raw) a@42"])
  }

  @Test func fragmentsAreJoinedBeforeDelivery() {
    var machine = Machine()
    let (a, _) = machine.addWatcher(request("a"))
    _ = machine.streamOpened()
    _ = machine.responseReceived(.init(header: header(1), watchID: 0, created: true))
    #expect(machine.responseReceived(.init(header: header(5), watchID: 0, fragment: true, events: [event("x", 5)])).isEmpty)
    #expect(machine.responseReceived(.init(header: header(5), watchID: 0, fragment: true, events: [event("y", 5)])).isEmpty)
    let actions = machine.responseReceived(.init(header: header(5), watchID: 0, events: [event("z", 5)]))
    #expect(describe(actions) == ["deliver \(a.raw) x@5,y@5,z@5"])
  }

  @Test func compactedCreationFinishesThatWatcherWithTheCompactRevision() {
    var machine = Machine()
    let (a, _) = machine.addWatcher(request("a", start: 2))
    let (b, _) = machine.addWatcher(request("b"))
    _ = machine.streamOpened()
    let actions = machine.responseReceived(
      .init(header: header(50), watchID: 0, created: true, canceled: true, compactRevision: 45))
    #expect(describe(actions) == ["finish \(a.raw) compacted", "create \(b.raw) b@0"])
    if case .finish(_, let error?) = actions.first {
      #expect(error.compactRevision == 45)
      #expect(error.status.code == .outOfRange)
    } else {
      Issue.record("expected a finish with an error")
    }
  }

  @Test func cancellingTheLastWatcherCancelsOnServerAndClosesTheStream() {
    var machine = Machine()
    let (a, _) = machine.addWatcher(request("a"))
    let (b, _) = machine.addWatcher(request("b"))
    _ = machine.streamOpened()
    _ = machine.responseReceived(.init(header: header(1), watchID: 10, created: true))
    _ = machine.responseReceived(.init(header: header(1), watchID: 11, created: true))
    #expect(describe(machine.cancelWatcher(a)) == ["finish \(a.raw) ok", "cancel 10"])
    #expect(describe(machine.responseReceived(.init(header: header(2), watchID: 10, canceled: true))).isEmpty)
    #expect(describe(machine.cancelWatcher(b)) == ["finish \(b.raw) ok", "cancel 11", "close"])
    #expect(machine.watcherCount == 0)
    #expect(describe(machine.cancelWatcher(b)).isEmpty)
  }

  @Test func cancellingAWatcherWhileItsCreationIsInFlight() {
    var machine = Machine()
    let (a, _) = machine.addWatcher(request("a"))
    let (b, _) = machine.addWatcher(request("b"))
    _ = machine.streamOpened()  // a is being created
    #expect(describe(machine.cancelWatcher(a)) == ["finish \(a.raw) ok"])
    // a's created response arrives: the watch it made is cancelled, then b is created.
    #expect(describe(machine.responseReceived(.init(header: header(1), watchID: 3, created: true)))
      == ["cancel 3", "create \(b.raw) b@0"])
  }

  @Test func aStreamResumedOnAnotherClusterEndsEveryWatcher() {
    var machine = Machine()
    let (a, _) = machine.addWatcher(request("a"))
    let (b, _) = machine.addWatcher(request("b", start: 5))
    _ = machine.streamOpened()
    _ = machine.responseReceived(.init(header: header(20), watchID: 0, created: true))
    _ = machine.responseReceived(.init(header: header(20), watchID: 1, created: true))
    _ = machine.streamFailed(EtcdError(code: .connectionClosed, status: .init(code: .unavailable)), resumable: true)
    _ = machine.streamOpened()
    // The address now serves a cluster with another id: revision 21 there is not revision 21 here.
    let other = ResponseHeader(clusterID: 99, memberID: 5, revision: 1, raftTerm: 2)
    let actions = machine.responseReceived(.init(header: other, watchID: 0, created: true))
    #expect(describe(actions) == ["finish \(a.raw) cluster_changed", "finish \(b.raw) cluster_changed", "close"])
    #expect(machine.watcherCount == 0)
    // A watch made afterwards belongs to the new cluster.
    let (c, opened) = machine.addWatcher(request("c"))
    #expect(describe(opened) == ["open"])
    #expect(describe(machine.streamOpened()) == ["create \(c.raw) c@0"])
    #expect(describe(machine.responseReceived(.init(header: other, watchID: 3, created: true))).isEmpty)
    let delivered = machine.responseReceived(.init(header: other, watchID: 3, events: [event("c", 2)]))
    #expect(describe(delivered) == ["deliver \(c.raw) c@2"])
  }

  @Test func nonResumableFailureFinishesEveryWatcher() {
    var machine = Machine()
    let (a, _) = machine.addWatcher(request("a"))
    let (b, _) = machine.addWatcher(request("b"))
    _ = machine.streamOpened()
    let error = EtcdError(code: .noLeader, status: GRPCStatus(code: .unavailable, message: "etcdserver: no leader"))
    #expect(describe(machine.streamFailed(error, resumable: false)) == ["finish \(a.raw) no_leader", "finish \(b.raw) no_leader"])
    #expect(machine.watcherCount == 0)
  }

  @Test func serverCancellationForOtherReasonsIsTyped() {
    var machine = Machine()
    let (a, _) = machine.addWatcher(request("a"))
    _ = machine.streamOpened()
    _ = machine.responseReceived(.init(header: header(1), watchID: 0, created: true))
    let actions = machine.responseReceived(
      .init(header: header(2), watchID: 0, canceled: true, cancelReason: "etcdserver: permission denied"))
    #expect(describe(actions) == ["finish \(a.raw) permission_denied", "close"])
  }
  /// Two watchers a and b, created on a stream, with server ids 0 and 1.
  private static func twoActiveWatchers() -> (Machine, Machine.WatcherID, Machine.WatcherID) {
    var machine = Machine()
    let (a, _) = machine.addWatcher(request("a"))
    let (b, _) = machine.addWatcher(request("b"))
    _ = machine.streamOpened()
    _ = machine.responseReceived(.init(header: header(10), watchID: 0, created: true))
    _ = machine.responseReceived(.init(header: header(10), watchID: 1, created: true))
    return (machine, a, b)
  }

  @Test func aWatcherWhoseBufferIsFullIsDetachedAndRecreatedFromTheRefusedRevision() {
    var (machine, a, b) = Self.twoActiveWatchers()
    let refused = machine.responseReceived(.init(header: header(12), watchID: 0, events: [event("a", 11), event("a", 12)]))
    #expect(describe(refused) == ["deliver \(a.raw) a@11,a@12"])
    // The consumer's buffer refused it: a is cancelled on the server.
    #expect(describe(machine.deliveryRefused(a, WatchResponse(header: header(12), events: [event("a", 11), event("a", 12)]))) == ["cancel 0"])
    // Its later events are not delivered; b goes on.
    #expect(machine.responseReceived(.init(header: header(13), watchID: 0, events: [event("a", 13)])).isEmpty)
    #expect(describe(machine.responseReceived(.init(header: header(14), watchID: 1, events: [event("b", 14)]))) == ["deliver \(b.raw) b@14"])
    #expect(machine.responseReceived(.init(header: header(14), watchID: 0, canceled: true)).isEmpty)
    // Drained: created again from the first revision it did not take.
    #expect(describe(machine.watcherDrained(a)) == ["create \(a.raw) a@11"])
    #expect(machine.responseReceived(.init(header: header(15), watchID: 2, created: true)).isEmpty)
    #expect(describe(machine.responseReceived(.init(header: header(15), watchID: 2, events: [event("a", 11)]))) == ["deliver \(a.raw) a@11"])
    #expect(machine.watcherCount == 2)
  }

  @Test func aDetachedWatcherStaysDetachedAcrossAStreamFailureUntilDrained() {
    var (machine, a, b) = Self.twoActiveWatchers()
    _ = machine.responseReceived(.init(header: header(11), watchID: 0, events: [event("a", 11)]))
    _ = machine.deliveryRefused(a, WatchResponse(header: header(11), events: [event("a", 11)]))
    let failure = EtcdError(code: .connectionClosed, status: GRPCStatus(code: .unavailable))
    #expect(describe(machine.streamFailed(failure, resumable: true)) == ["open"])
    #expect(describe(machine.streamOpened()) == ["create \(b.raw) b@11"])
    #expect(machine.responseReceived(.init(header: header(20), watchID: 5, created: true)).isEmpty)
    #expect(describe(machine.watcherDrained(a)) == ["create \(a.raw) a@11"])
  }

  @Test func aDrainedWatcherWaitsForTheCreationInFlight() {
    var machine = Machine()
    let (a, _) = machine.addWatcher(request("a"))
    _ = machine.streamOpened()
    _ = machine.responseReceived(.init(header: header(10), watchID: 0, created: true))
    _ = machine.deliveryRefused(a, WatchResponse(header: header(10), events: []))
    _ = machine.addWatcher(request("b"))
    #expect(describe(machine.watcherDrained(a)).isEmpty)  // b's creation is in flight
    #expect(describe(machine.responseReceived(.init(header: header(10), watchID: 1, created: true))) == ["create \(a.raw) a@11"])
  }

  @Test func refusalsOfUnknownOrInactiveWatchersAndDrainsOfAttachedOnesDoNothing() {
    var (machine, a, _) = Self.twoActiveWatchers()
    #expect(machine.watcherDrained(a).isEmpty)
    #expect(machine.deliveryRefused(Machine.WatcherID(raw: 99), WatchResponse(header: header(1), events: [])).isEmpty)
    _ = machine.deliveryRefused(a, WatchResponse(header: header(10), events: []))
    #expect(machine.deliveryRefused(a, WatchResponse(header: header(10), events: [])).isEmpty)
    // Cancelling a detached watcher sends nothing to the server.
    #expect(describe(machine.cancelWatcher(a)) == ["finish \(a.raw) ok"])
  }
}
