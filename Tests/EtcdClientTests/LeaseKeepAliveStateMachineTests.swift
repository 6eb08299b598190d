import Testing

@testable import EtcdClient

private typealias Machine = LeaseKeepAliveStateMachine
private let second: Int64 = 1_000_000_000

private func response(_ id: Int64, ttl: Int64) -> LeaseKeepAliveResponse {
  LeaseKeepAliveResponse(header: ResponseHeader(clusterID: 1, memberID: 1, revision: 1, raftTerm: 1), id: LeaseID(id), ttl: .seconds(ttl))
}

private func describe(_ actions: [Machine.Action]) -> [String] {
  actions.map { action in
    switch action {
    case .openStream: "open"
    case .closeStream: "close"
    case .send(let id): "send \(id)"
    case .deliver(let consumer, let response): "deliver \(consumer.raw) ttl \(response.ttl.components.seconds)"
    case .finish(let consumer, let error): "finish \(consumer.raw) \(error.map { $0.code.name } ?? "ok")"
    }
  }
}

@Suite("LeaseKeepAliveStateMachine")
struct LeaseKeepAliveStateMachineTests {
  @Test func renewsAtAThirdOfTheTTL() {
    var machine = Machine()
    let (consumer, opened) = machine.keep(7, now: 0)
    #expect(describe(opened) == ["open"])
    #expect(describe(machine.streamOpened(now: 0)) == ["send 7"])
    #expect(describe(machine.responseReceived(response(7, ttl: 9), now: second / 10)) == ["deliver \(consumer.raw) ttl 9"])
    #expect(machine.nextWakeup == second / 10 + 3 * second)
    #expect(machine.tick(now: 3 * second).isEmpty)
    #expect(describe(machine.tick(now: 3 * second + second / 10)) == ["send 7"])
    // No answer: repeated every second until the TTL runs out.
    #expect(machine.tick(now: 4 * second).isEmpty)
    #expect(describe(machine.tick(now: 4 * second + second / 10)) == ["send 7"])
    #expect(describe(machine.tick(now: 9 * second + second / 10)) == ["finish \(consumer.raw) lease_expired", "close"])
  }

  @Test func aRevokedLeaseEndsItsConsumersWithLeaseNotFound() {
    var machine = Machine()
    let (a, _) = machine.keep(1, now: 0)
    let (b, _) = machine.keep(1, now: 0)
    let (c, _) = machine.keep(2, now: 0)
    #expect(describe(machine.streamOpened(now: 0)) == ["send 1", "send 2"])
    #expect(describe(machine.responseReceived(response(1, ttl: 0), now: 1)) == ["finish \(a.raw) lease_not_found", "finish \(b.raw) lease_not_found"])
    #expect(describe(machine.responseReceived(response(2, ttl: 5), now: 1)) == ["deliver \(c.raw) ttl 5"])
    #expect(describe(machine.stop(c)) == ["finish \(c.raw) ok", "close"])
  }

  @Test func aBrokenStreamRenewsEverythingOnceReopened() {
    var machine = Machine()
    _ = machine.keep(1, now: 0)
    _ = machine.streamOpened(now: 0)
    _ = machine.responseReceived(response(1, ttl: 30), now: 0)
    let broken = EtcdError(code: .connectionClosed, status: GRPCStatus(code: .unavailable))
    #expect(describe(machine.streamFailed(broken, resumable: true)) == ["open"])
    #expect(machine.tick(now: 20 * second).isEmpty)  // nothing is sent while the stream is down
    #expect(describe(machine.streamOpened(now: 21 * second)) == ["send 1"])
  }

  @Test func aStreamFailureThatIsNotResumableEndsEveryConsumer() {
    var machine = Machine()
    let (a, _) = machine.keep(1, now: 0)
    let (b, _) = machine.keep(2, now: 0)
    _ = machine.streamOpened(now: 0)
    let denied = EtcdError(code: .permissionDenied, status: GRPCStatus(code: .permissionDenied))
    #expect(describe(machine.streamFailed(denied, resumable: false)) == ["finish \(a.raw) permission_denied", "finish \(b.raw) permission_denied"])
    #expect(machine.leaseCount == 0)
    let (_, reopened) = machine.keep(1, now: 5)
    #expect(describe(reopened) == ["open"])
  }

  @Test func stoppingTheOnlyConsumerClosesTheStream() {
    var machine = Machine()
    let (a, _) = machine.keep(1, now: 0)
    _ = machine.streamOpened(now: 0)
    #expect(describe(machine.stop(a)) == ["finish \(a.raw) ok", "close"])
    #expect(machine.leaseCount == 0)
    #expect(machine.nextWakeup == nil)
    let (_, reopened) = machine.keep(1, now: 5)
    #expect(describe(reopened) == ["open"])
  }

  @Test func shutdownEndsEveryConsumer() {
    var machine = Machine()
    let (a, _) = machine.keep(1, now: 0)
    let (b, _) = machine.keep(2, now: 0)
    _ = machine.streamOpened(now: 0)
    let error = EtcdError(code: .clientClosed, status: GRPCStatus(code: .unavailable))
    #expect(describe(machine.shutdown(error)) == ["finish \(a.raw) client_closed", "finish \(b.raw) client_closed", "close"])
  }
}
