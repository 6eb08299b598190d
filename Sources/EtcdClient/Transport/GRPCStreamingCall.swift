import GRPCProtocol
import NIOCore
import Synchronization

/// A bidirectional-streaming gRPC call: request messages go out as the caller sends them, response messages
/// arrive as an `AsyncSequence` (`responses`) that the reader drains at its own pace.
///
/// Backpressure: the response messages wait in a buffer owned by the call (`StreamingResponseBuffer`), and the
/// stream's flow-control window goes back to the server only as the reader takes them. A reader that stops
/// reading stops the server after about one stream window; the connection's window is given back as bytes
/// arrive, so other calls on the connection go on.
///
/// Ending the response sequence early (the reading task is cancelled, or the iterator is dropped) resets the
/// stream with RST_STREAM(CANCEL). Watch and LeaseKeepAlive are built on this.
///
/// The call object's plain properties are touched only on the connection's event loop; the public methods hop
/// there. The response buffer is behind a mutex, for the reader. That is what makes the `@unchecked Sendable`
/// safe.
final class GRPCStreamingCall: GRPCCallResponder, @unchecked Sendable {
  /// A reader suspended until the next message or the end.
  typealias Waiter = UnsafeContinuation<Result<[UInt8]?, EtcdError>, Never>

  /// Response messages, serialized, in order; iterated once. Ends when the call ends: normally after an OK
  /// status, otherwise by throwing the `EtcdError` the call failed with.
  var responses: Responses { Responses(call: self) }

  /// Response messages the reader has not taken, and the stream window they hold.
  private let buffer: Mutex<StreamingResponseBuffer<Waiter>>
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

  /// The most taken bytes a reader holds back before it hops to the event loop to give them back: 64 KiB, or
  /// a quarter of a small stream window.
  static func releaseBatchBytes(streamWindow: Int32) -> Int {
    max(1, min(64 * 1024, Int(streamWindow) / 4))
  }

  /// Starts a streaming call on `connection`.
  ///
  /// Interceptors see the start and each sent message on the caller's thread, and each received message and
  /// the end on the connection's event loop, as they happen. `tracing` is the client's tracing
  /// interceptor (also in `interceptors`), which starts the stream's span; `resumption` counts the
  /// reopenings of a shared stream, for that span.
  init(
    connection: GRPCConnection,
    method: RPCMethod,
    metadata: ClientMetadata,
    deadline: NIODeadline?,
    maxReceiveMessageLength: Int,
    interceptors: [any ClientInterceptor],
    tracing: TracingInterceptor? = nil,
    resumption: Int = 0,
    onFinish: (@Sendable (EtcdError?) -> Void)? = nil
  ) {
    self.connection = connection
    self.onFinish = onFinish
    self.interceptors = interceptors
    var metadata = metadata
    if interceptors.isEmpty {
      info = nil
    } else {
      let endpoint = connection.endpoint.description
      let span = tracing?.startSpan(
        method, endpoint: endpoint, resumption: resumption, metadata: &metadata)
      let info = ClientCallInfo(
        method: method, endpoint: endpoint, started: MonotonicClock.now(), span: span)
      // Indexed, as in `EtcdClient.performUnary`: `for ... in` copies each existential out of the array.
      for index in interceptors.indices { interceptors[index].callStarted(info, metadata: &metadata) }
      self.info = info
    }
    buffer = Mutex(
      StreamingResponseBuffer(
        releaseBatchBytes: Self.releaseBatchBytes(streamWindow: connection.initialStreamWindow)))
    let call = GRPCCall(
      method: method,
      metadata: metadata,
      deadline: deadline,
      maxReceiveMessageLength: maxReceiveMessageLength,
      request: [],
      requestComplete: false,
      responder: self,
      streamingReader: self
    )
    self.call = call
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
    if let resumption = buffer.withLock({ $0.messageReceived(message) }) {
      resumption.waiter.resume(returning: resumption.result)
    }
  }

  // MARK: - Flow control (event loop)

  /// A DATA chunk of the response arrived (before its messages); the connection's window is already back.
  func responseDataReceived(byteCount: Int) {
    buffer.withLock { $0.dataReceived(byteCount: byteCount) }
  }

  /// Stream-window bytes to give back after a DATA chunk: those of messages the reader took.
  func streamWindowToRelease() -> Int {
    buffer.withLock { $0.streamWindowToRelease() }
  }

  // MARK: - Reading (the reader's task)

  /// The next response message; nil after the call ended with status OK.
  ///
  /// - Throws: the call's `EtcdError`; `EtcdError.streamCancelled` when the reading task is cancelled (the
  ///   call is cancelled too).
  func nextResponse() async throws(EtcdError) -> [UInt8]? {
    if Task.isCancelled { readerCancelled() }
    switch buffer.withLock({ $0.nextRequested() }) {
    case .message(let message, let releaseWindow):
      if releaseWindow { scheduleRelease() }
      return message
    case .end(let error):
      if let error { throw error }
      return nil
    case .wait:
      break
    }
    let result = await withTaskCancellationHandler {
      await withUnsafeContinuation { (waiter: Waiter) in
        switch buffer.withLock({ $0.suspend(waiter) }) {
        case .wait:
          return
        case .message(let message, let releaseWindow):
          if releaseWindow { scheduleRelease() }
          waiter.resume(returning: .success(message))
        case .end(let error):
          waiter.resume(returning: error.map { .failure($0) } ?? .success(nil))
        }
      }
    } onCancel: {
      readerCancelled()
    }
    return try result.get()
  }

  /// The reader's iterator is gone: an open call is cancelled.
  func readerDropped() {
    if buffer.withLock({ $0.readerDropped() }) { cancel() }
  }

  private func readerCancelled() {
    let gone = buffer.withLock { $0.readerCancelled() }
    if gone.cancelCall { cancel() }
    if let resumption = gone.resumption { resumption.waiter.resume(returning: resumption.result) }
  }

  /// Gives back, on the event loop, the stream window of messages the reader took.
  private func scheduleRelease() {
    connection.eventLoop.execute {
      let count = self.buffer.withLock { $0.scheduledReleaseRan() }
      guard let call = self.call, let handler = call.handler, let streamID = call.streamID else { return }
      handler.releaseStreamWindow(of: streamID, count: count)
    }
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
    if let resumption = buffer.withLock({ $0.callFinished(failure) }) {
      resumption.waiter.resume(returning: resumption.result)
    }
  }
}
