import GRPCProtocol
import NIOCore

/// A bidirectional-streaming gRPC call: request messages go out as the caller sends them, response messages
/// arrive as an `AsyncSequence`.
///
/// Ending the response sequence early (the consuming task is cancelled, or the iterator is dropped) resets the
/// stream with RST_STREAM(CANCEL). Watch and LeaseKeepAlive are built on this.
///
/// The call object is touched only on the connection's event loop; the public methods hop there. The stream's
/// continuation is itself thread-safe. That is what makes the `@unchecked Sendable` safe.
final class GRPCStreamingCall: GRPCCallResponder, @unchecked Sendable {
  /// Response messages, serialized, in order. Ends when the call ends: normally after an OK status, otherwise by
  /// throwing the `EtcdError` the call failed with.
  let responses: AsyncThrowingStream<[UInt8], any Error>
  private let continuation: AsyncThrowingStream<[UInt8], any Error>.Continuation
  private let connection: GRPCConnection
  private var call: GRPCCall?
  /// The interceptors and the call's information for them; empty when the client has none.
  private let interceptors: [any ClientInterceptor]
  private let info: ClientCallInfo?
  /// Told how the call ended (the client records the endpoint's health).
  private let onFinish: (@Sendable (EtcdError?) -> Void)?
  /// Totals for the interceptors' outcome. Sent totals are updated on the event loop, in `send`'s hop.
  private var messagesSent = 0
  private var bytesSent = 0
  private var messagesReceived = 0
  private var bytesReceived = 0

  /// Starts a streaming call on `connection`.
  ///
  /// Interceptors see the start and each sent message on the caller's thread, and each received message and
  /// the end on the connection's event loop, as they happen.
  init(
    connection: GRPCConnection,
    method: RPCMethod,
    metadata: ClientMetadata,
    deadline: NIODeadline?,
    maxReceiveMessageLength: Int,
    interceptors: [any ClientInterceptor],
    onFinish: (@Sendable (EtcdError?) -> Void)? = nil
  ) {
    self.connection = connection
    self.onFinish = onFinish
    self.interceptors = interceptors
    var metadata = metadata
    if interceptors.isEmpty {
      info = nil
    } else {
      let info = ClientCallInfo(
        method: method,
        endpoint: connection.endpoint.description,
        started: MonotonicClock.now()
      )
      // Indexed, as in `EtcdClient.performUnary`: `for ... in` copies each existential out of the array.
      for index in interceptors.indices { interceptors[index].callStarted(info, metadata: &metadata) }
      self.info = info
    }
    (responses, continuation) = AsyncThrowingStream<[UInt8], any Error>.makeStream()
    let call = GRPCCall(
      method: method,
      metadata: metadata,
      deadline: deadline,
      maxReceiveMessageLength: maxReceiveMessageLength,
      request: [],
      requestComplete: false,
      responder: self
    )
    self.call = call
    continuation.onTermination = { [connection] termination in
      guard case .cancelled = termination else { return }
      connection.eventLoop.execute { connection.cancel(call) }
    }
    connection.eventLoop.execute { connection.start(call) }
  }

  /// Queues a request message.
  func send(_ message: GRPCFramedMessage) {
    if let info {
      for index in interceptors.indices { interceptors[index].messageSent(info, size: message.count) }
    }
    connection.eventLoop.execute {
      guard let call = self.call, !call.isFinished else { return }
      self.messagesSent += 1
      self.bytesSent += message.count
      if let handler = call.handler {
        handler.send(message, on: call)
      } else {
        call.pendingRequest.append(message)
      }
    }
  }

  /// Ends the request side (END_STREAM); responses may still arrive.
  func finishSending() {
    connection.eventLoop.execute {
      guard let call = self.call, !call.isFinished else { return }
      if let handler = call.handler {
        handler.finishSending(call)
      } else {
        call.requestComplete = true
      }
    }
  }

  /// Cancels the call.
  func cancel() {
    connection.eventLoop.execute {
      guard let call = self.call else { return }
      self.connection.cancel(call)
    }
  }

  func call(_ call: GRPCCall, received message: [UInt8]) {
    messagesReceived += 1
    bytesReceived += message.count
    if let info {
      for index in interceptors.indices {
        interceptors[index].messageReceived(info, size: message.count)
      }
    }
    continuation.yield(message)
  }

  func call(
    _ call: GRPCCall,
    finished status: GRPCStatus,
    end: GRPCCallStateMachine.CallEnd,
    error: EtcdError?
  ) {
    self.call = nil
    var failure =
      status.code == .ok
      ? nil
      : error
        ?? EtcdError(
          status: status,
          origin: end.origin,
          endpoint: connection.endpoint.description,
          method: call.method
        )
    if end.neverProcessed { failure?.requestNeverProcessed = true }
    if let info {
      let outcome = ClientCallOutcome(
        status: status,
        error: failure,
        durationNanoseconds: info.elapsed(),
        messagesSent: messagesSent,
        bytesSent: bytesSent,
        messagesReceived: messagesReceived,
        bytesReceived: bytesReceived,
        attempts: 1,
        endpoint: connection.endpoint.description
      )
      let attempt = ClientAttempt(
        number: 0, endpoint: connection.endpoint.description, status: status,
        durationNanoseconds: outcome.durationNanoseconds, bytesSent: bytesSent,
        bytesReceived: bytesReceived)
      for index in interceptors.indices.reversed() {
        interceptors[index].attemptFinished(info, attempt: attempt)
      }
      for index in interceptors.indices.reversed() { interceptors[index].callFinished(info, outcome: outcome) }
    }
    onFinish?(failure)
    if let failure {
      continuation.finish(throwing: failure)
    } else {
      continuation.finish()
    }
  }
}
