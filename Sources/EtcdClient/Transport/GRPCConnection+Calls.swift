import GRPCProtocol
import NIOCore

extension GRPCConnection {
  /// Starts a call on the event loop: arms its deadline, then puts it on a connection.
  ///
  /// Must be called on the event loop, after the caller is ready to receive the result.
  func start(_ call: GRPCCall) {
    eventLoop.assertInEventLoop()
    call.started = true
    if call.cancelRequested {
      call.apply(call.machine.cancel())
      return
    }
    if let deadline = call.deadline {
      // Captured strongly: `finish` cancels the task and drops it, and a weak capture would give every call
      // a side table (an allocation, and slow reference counting for the call's life).
      call.deadlineTask = eventLoop.scheduleTask(deadline: deadline) {
        call.apply(call.machine.deadlineExceeded())
      }
    }
    withHandler { result in
      switch result {
      case .success(let handler): handler.start(call)
      case .failure(let error): call.fail(error)
      }
    }
  }

  /// Cancels a call, wherever it is. Must be called on the event loop.
  func cancel(_ call: GRPCCall) {
    eventLoop.assertInEventLoop()
    guard call.started else {
      call.cancelRequested = true
      return
    }
    call.apply(call.machine.cancel())
  }

  /// Runs a unary call: one framed request out, one serialized response back.
  ///
  /// No task or async sequence is made for the call: the caller suspends on one continuation that the event loop
  /// resumes directly when the stream ends.
  func unary(
    method: RPCMethod,
    request: GRPCFramedMessage,
    metadata: ClientMetadata,
    deadline: NIODeadline?,
    maxReceiveMessageLength: Int
  ) async throws(EtcdError) -> [UInt8] {
    let responder = UnaryResponder(endpoint: endpoint.description)
    let call = GRPCCall(
      method: method,
      metadata: metadata,
      deadline: deadline,
      maxReceiveMessageLength: maxReceiveMessageLength,
      request: [request],
      requestComplete: true,
      responder: responder
    )
    let result = await withTaskCancellationHandler {
      await withUnsafeContinuation { continuation in
        responder.continuation = continuation
        // A caller on this loop (its task prefers `EtcdClient.taskExecutor`) starts the call at once, so its
        // request joins the write already scheduled for this tick.
        if eventLoop.inEventLoop {
          self.start(call)
        } else {
          eventLoop.execute { self.start(call) }
        }
      }
    } onCancel: {
      eventLoop.execute { self.cancel(call) }
    }
    return try result.get()
  }
}

/// Collects the single response of a unary call and resumes the caller.
///
/// `continuation` is written by the caller before the call is handed to the event loop, and everything else
/// happens on the event loop after that hand-off: that ordering is what makes the `@unchecked Sendable` safe.
final class UnaryResponder: GRPCCallResponder, @unchecked Sendable {
  let endpoint: String
  var continuation: UnsafeContinuation<Result<[UInt8], EtcdError>, Never>?
  private var response: [UInt8]?

  init(endpoint: String) {
    self.endpoint = endpoint
  }

  func call(_ call: GRPCCall, received message: [UInt8]) {
    response = message
  }

  func call(
    _ call: GRPCCall,
    finished status: GRPCStatus,
    end: GRPCCallStateMachine.CallEnd,
    error: EtcdError?
  ) {
    guard let continuation else { return }
    self.continuation = nil
    if status.code == .ok, let response {
      continuation.resume(returning: .success(response))
    } else {
      var failure =
        error
        ?? EtcdError(status: status, origin: end.origin, endpoint: endpoint, method: call.method)
      if end.neverProcessed { failure.requestNeverProcessed = true }
      continuation.resume(returning: .failure(failure))
    }
  }
}
