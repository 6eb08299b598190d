import Testing

@testable import EtcdClient

private typealias Machine = SharedStreamStateMachine

/// An input of the machine, as a table row names it.
private enum Input: CustomStringConvertible {
  case openRequested(needsToken: Bool)
  case closeRequested
  case opened(Int)
  case message(Int)
  case failed(Int, EtcdError.Code)
  case backoffElapsed
  case tokenRefreshed
  case shutdown

  var description: String {
    switch self {
    case .openRequested(let needsToken): needsToken ? "open requested without token" : "open requested"
    case .closeRequested: "close requested"
    case .opened(let generation): "opened \(generation)"
    case .message(let generation): "message \(generation)"
    case .failed(let generation, let code): "failed \(generation) \(code.name)"
    case .backoffElapsed: "backoff elapsed"
    case .tokenRefreshed: "token refreshed"
    case .shutdown: "shutdown"
    }
  }
}

private func error(_ code: EtcdError.Code) -> EtcdError {
  EtcdError(code: code, status: GRPCStatus(code: .unavailable, message: code.name))
}

private func describe(_ actions: [Machine.Action]) -> [String] {
  actions.map { action in
    switch action {
    case .openStream(let generation): "open \(generation)"
    case .cancelStream: "cancel"
    case .waitBackoff(let delay): "wait \(delay.components.seconds * 1000 + delay.components.attoseconds / 1_000_000_000_000_000) ms"
    case .refreshAuthToken: "refresh token"
    case .protocolStreamOpened: "protocol opened"
    case .protocolStreamFailed(let error, let resumable):
      "protocol failed \(error.code.name) \(resumable ? "resumable" : "final")"
    }
  }
}

/// Feeds `inputs` to `machine` (random 0.5: backoffs without jitter) and returns each input's actions.
private func run(_ inputs: [Input], on machine: inout Machine) -> [[String]] {
  inputs.map { input in
    switch input {
    case .openRequested(let needsToken): describe(machine.openRequested(needsAuthToken: needsToken))
    case .closeRequested: describe(machine.closeRequested())
    case .opened(let generation): describe(machine.streamOpened(generation: generation))
    case .message(let generation): [machine.messageReceived(generation: generation) ? "deliver" : "ignore"]
    case .failed(let generation, let code):
      describe(machine.streamFailed(generation: generation, error: error(code), random: 0.5))
    case .backoffElapsed: describe(machine.backoffElapsed())
    case .tokenRefreshed: describe(machine.authTokenRefreshed())
    case .shutdown: describe(machine.shutdown())
    }
  }
}

@Suite("SharedStreamStateMachine")
struct SharedStreamStateMachineTests {
  struct Case: CustomTestStringConvertible, Sendable {
    let name: String
    let requireLeader: Bool
    fileprivate let rows: [(Input, [String])]
    var testDescription: String { name }

    fileprivate init(_ name: String, requireLeader: Bool = false, _ rows: [(Input, [String])]) {
      self.name = name
      self.requireLeader = requireLeader
      self.rows = rows
    }
  }

  static let cases: [Case] = [
    Case(
      "opens on demand and closes when no consumer is left",
      [
        (.openRequested(needsToken: false), ["open 1"]),
        (.openRequested(needsToken: false), []),
        (.opened(1), ["protocol opened"]),
        (.message(1), ["deliver"]),
        (.closeRequested, ["cancel"]),
        (.message(1), ["ignore"]),
        (.failed(1, .connectionClosed), []),
        (.openRequested(needsToken: false), ["open 2"]),
      ]),
    Case(
      "a resumable failure backs off, doubling, and a message resets the count",
      [
        (.openRequested(needsToken: false), ["open 1"]),
        (.opened(1), ["protocol opened"]),
        (.failed(1, .connectionClosed), ["cancel", "wait 50 ms", "protocol failed connection_closed resumable"]),
        (.openRequested(needsToken: false), []),
        (.backoffElapsed, ["open 2"]),
        (.opened(2), ["protocol opened"]),
        (.failed(2, .rpcFailed), ["cancel", "wait 100 ms", "protocol failed rpc_failed resumable"]),
        (.openRequested(needsToken: false), []),
        (.backoffElapsed, ["open 3"]),
        (.opened(3), ["protocol opened"]),
        (.message(3), ["deliver"]),
        (.failed(3, .connectionClosed), ["cancel", "wait 50 ms", "protocol failed connection_closed resumable"]),
      ]),
    Case(
      "an undecodable message or a framing failure counts as a failure like any other",
      [
        (.openRequested(needsToken: false), ["open 1"]),
        (.opened(1), ["protocol opened"]),
        (.failed(1, .invalidResponse), ["cancel", "wait 50 ms", "protocol failed invalid_response resumable"]),
        (.openRequested(needsToken: false), []),
        (.backoffElapsed, ["open 2"]),
        (.opened(2), ["protocol opened"]),
        (.failed(2, .invalidResponse), ["cancel", "wait 100 ms", "protocol failed invalid_response resumable"]),
      ]),
    Case(
      "events of an older stream are ignored",
      [
        (.openRequested(needsToken: false), ["open 1"]),
        (.opened(1), ["protocol opened"]),
        (.failed(1, .connectionClosed), ["cancel", "wait 50 ms", "protocol failed connection_closed resumable"]),
        (.failed(1, .connectionClosed), []),
        (.openRequested(needsToken: false), []),
        (.backoffElapsed, ["open 2"]),
        (.opened(1), []),
        (.message(1), ["ignore"]),
        (.failed(1, .connectionClosed), []),
        (.opened(2), ["protocol opened"]),
      ]),
    Case(
      "consumers that leave during the backoff leave the stream closed",
      [
        (.openRequested(needsToken: false), ["open 1"]),
        (.opened(1), ["protocol opened"]),
        (.failed(1, .connectionClosed), ["cancel", "wait 50 ms", "protocol failed connection_closed resumable"]),
        (.openRequested(needsToken: false), []),
        (.closeRequested, []),
        (.backoffElapsed, []),
        (.openRequested(needsToken: false), ["open 2"]),
      ]),
    Case(
      "a stale auth token is refreshed before the stream reopens, for any stream",
      [
        (.openRequested(needsToken: false), ["open 1"]),
        (.opened(1), ["protocol opened"]),
        (.failed(1, .invalidAuthToken),
         ["cancel", "wait 50 ms", "refresh token", "protocol failed invalid_auth_token resumable"]),
        (.openRequested(needsToken: false), []),
        (.backoffElapsed, []),
        (.tokenRefreshed, ["open 2"]),
        (.opened(2), ["protocol opened"]),
        (.failed(2, .authOldRevision),
         ["cancel", "wait 100 ms", "refresh token", "protocol failed auth_old_revision resumable"]),
        (.openRequested(needsToken: false), []),
        (.tokenRefreshed, []),
        (.backoffElapsed, ["open 3"]),
      ]),
    Case(
      "the first auth token is fetched before the first stream opens",
      [
        (.openRequested(needsToken: true), ["refresh token"]),
        (.openRequested(needsToken: true), []),
        (.tokenRefreshed, ["open 1"]),
        (.opened(1), ["protocol opened"]),
      ]),
    Case(
      "errors that end the consumers close the stream without a backoff",
      [
        (.openRequested(needsToken: false), ["open 1"]),
        (.opened(1), ["protocol opened"]),
        (.failed(1, .permissionDenied), ["cancel", "protocol failed permission_denied final"]),
        (.openRequested(needsToken: false), ["open 2"]),
        (.failed(2, .clientClosed), ["cancel", "protocol failed client_closed final"]),
        (.openRequested(needsToken: false), ["open 3"]),
        (.failed(3, .authFailed), ["cancel", "protocol failed auth_failed final"]),
        (.openRequested(needsToken: false), ["open 4"]),
        (.failed(4, .invalidConfiguration), ["cancel", "protocol failed invalid_configuration final"]),
      ]),
    Case(
      "no leader is resumable without require-leader",
      [
        (.openRequested(needsToken: false), ["open 1"]),
        (.opened(1), ["protocol opened"]),
        (.failed(1, .noLeader), ["cancel", "wait 50 ms", "protocol failed no_leader resumable"]),
      ]),
    Case(
      "no leader ends the consumers with require-leader",
      requireLeader: true,
      [
        (.openRequested(needsToken: false), ["open 1"]),
        (.opened(1), ["protocol opened"]),
        (.failed(1, .noLeader), ["cancel", "protocol failed no_leader final"]),
      ]),
    Case(
      "a stream that cannot be opened fails like a broken one",
      [
        (.openRequested(needsToken: false), ["open 1"]),
        (.failed(1, .connectionFailed), ["cancel", "wait 50 ms", "protocol failed connection_failed resumable"]),
      ]),
    Case(
      "shutdown cancels the stream and nothing opens afterwards",
      [
        (.openRequested(needsToken: false), ["open 1"]),
        (.opened(1), ["protocol opened"]),
        (.shutdown, ["cancel"]),
        (.failed(1, .connectionClosed), []),
        (.openRequested(needsToken: false), []),
        (.shutdown, []),
      ]),
    Case(
      "shutdown during a backoff opens nothing when it elapses",
      [
        (.openRequested(needsToken: false), ["open 1"]),
        (.opened(1), ["protocol opened"]),
        (.failed(1, .connectionClosed), ["cancel", "wait 50 ms", "protocol failed connection_closed resumable"]),
        (.openRequested(needsToken: false), []),
        (.shutdown, []),
        (.backoffElapsed, []),
        (.tokenRefreshed, []),
      ]),
  ]

  @Test(arguments: cases)
  func table(_ testCase: Case) {
    var machine = Machine(requireLeader: testCase.requireLeader)
    let actual = run(testCase.rows.map(\.0), on: &machine)
    for (index, row) in testCase.rows.enumerated() {
      #expect(actual[index] == row.1, "row \(index): \(row.0)")
    }
  }

  @Test func resumptionsCountReopeningsAfterFailuresOnly() {
    var machine = Machine()
    _ = run([.openRequested(needsToken: true), .tokenRefreshed, .opened(1)], on: &machine)
    #expect(machine.resumptions == 0)
    _ = run([.failed(1, .connectionClosed), .openRequested(needsToken: false), .backoffElapsed], on: &machine)
    #expect(machine.resumptions == 1)
    _ = run([.opened(2), .failed(2, .connectionClosed), .closeRequested, .backoffElapsed], on: &machine)
    #expect(machine.resumptions == 1)
  }

  @Test(arguments: [(0.0, Int64(40)), (1.0, 60)])
  func backoffJitterComesFromTheRandomInput(random: Double, milliseconds: Int64) {
    var machine = Machine()
    _ = machine.openRequested()
    _ = machine.streamOpened(generation: 1)
    let actions = machine.streamFailed(generation: 1, error: error(.connectionClosed), random: random)
    #expect(describe(actions).contains("wait \(milliseconds) ms"))
  }
}
