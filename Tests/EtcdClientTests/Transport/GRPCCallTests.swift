import GRPCProtocol
import Testing

@testable import EtcdClient

/// Records how a call ended.
private final class RecordingResponder: GRPCCallResponder {
  var ends: [(status: GRPCStatus, end: GRPCCallStateMachine.CallEnd, error: EtcdError?)] = []

  func call(_ call: GRPCCall, received message: [UInt8]) {}

  func call(
    _ call: GRPCCall,
    finished status: GRPCStatus,
    end: GRPCCallStateMachine.CallEnd,
    error: EtcdError?
  ) {
    ends.append((status, end, error))
  }
}

private func makeCall(_ responder: RecordingResponder) -> GRPCCall {
  GRPCCall(
    method: RPCMethod.KV.range,
    metadata: ClientMetadata(),
    deadline: nil,
    maxReceiveMessageLength: 1024,
    request: [GRPCFramedMessage()],
    requestComplete: true,
    responder: responder
  )
}

/// A call not on a stream yet ends through `GRPCCall.apply`, with the status its state machine decides.
@Suite("GRPCCall before a stream")
struct GRPCCallTests {
  @Test("cancelled before a stream: the machine's status, never processed, told once")
  func cancelBeforeStream() {
    let responder = RecordingResponder()
    let call = makeCall(responder)
    call.apply(call.machine.cancel())
    call.apply(call.machine.deadlineExceeded())
    #expect(call.isFinished)
    #expect(responder.ends.count == 1)
    #expect(responder.ends.first?.status == GRPCCallStateMachine.cancelledStatus)
    #expect(responder.ends.first?.end == .init(origin: .cancelled, neverProcessed: true))
  }

  @Test("deadline before a stream: the machine's status, never processed")
  func deadlineBeforeStream() {
    let responder = RecordingResponder()
    let call = makeCall(responder)
    call.apply(call.machine.deadlineExceeded())
    #expect(responder.ends.count == 1)
    #expect(responder.ends.first?.status == GRPCCallStateMachine.deadlineExceededStatus)
    #expect(responder.ends.first?.end == .init(origin: .deadline, neverProcessed: true))
  }

  @Test("no connection: the client's error is passed on, and a later cancel changes nothing")
  func connectionFailure() {
    let responder = RecordingResponder()
    let call = makeCall(responder)
    let error = EtcdError.clientClosed(endpoint: "10.0.0.1:2379")
    call.fail(error)
    call.apply(call.machine.cancel())
    #expect(responder.ends.count == 1)
    #expect(responder.ends.first?.status == error.status)
    #expect(responder.ends.first?.end == .init(origin: .connection, neverProcessed: true))
    #expect(responder.ends.first?.error?.code == .clientClosed)
    let opened = call.machine.streamOpened()
    #expect(!opened)
  }
}
