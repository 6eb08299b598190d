import GRPCProtocol
import NIOCore

/// Receives a call's response messages and its end, on the connection's event loop.
protocol GRPCCallResponder: AnyObject {
  /// A response message arrived (serialized, without the gRPC prefix).
  func call(_ call: GRPCCall, received message: [UInt8])
  /// The call ended. Called exactly once. `error` is set when the failure was found before the call reached a
  /// stream (no connection could be made, the client closed); otherwise the status and end describe it.
  func call(
    _ call: GRPCCall,
    finished status: GRPCStatus,
    end: GRPCCallStateMachine.CallEnd,
    error: EtcdError?
  )
}

/// One gRPC call on a connection: the request to send, the state machine of its stream, its deadline.
///
/// Created on the caller's thread, then touched only on the connection's event loop: every method below must be
/// called there. That confinement is what makes the `@unchecked Sendable` below safe: the caller hands the object
/// to the event loop (through `EventLoop.execute`) and never reads or writes its state itself.
final class GRPCCall: @unchecked Sendable {
  /// The method called.
  let method: RPCMethod
  /// Metadata to send as header fields.
  let metadata: ClientMetadata
  /// When the call must have ended, if it has a deadline.
  let deadline: NIODeadline?
  /// Receives the response.
  let responder: any GRPCCallResponder
  /// The streaming call whose reader decides when the stream's window goes back; nil for a unary call, whose
  /// window goes back as its DATA arrives. The same object as `responder`, kept typed so the connection handler
  /// needs no cast per DATA chunk.
  let streamingReader: GRPCStreamingCall?

  /// The stream's state machine.
  var machine: GRPCCallStateMachine
  /// The header block being received.
  var headerBlock = GRPCHeaderBlock()
  /// The stream id, once submitted.
  var streamID: Int32?
  /// The handler the stream lives on, from its submission until the call finishes.
  ///
  /// A strong reference, dropped in `finish`: the handler keeps its open calls, so the two refer to each
  /// other only while the call is in flight, and every way a call leaves the handler finishes it. Not `weak`:
  /// a weak reference gives the handler a side table, which puts every retain and release of it (about
  /// twenty per call, from nghttp2's callbacks and the event loop's tasks) on the runtime's slow path.
  var handler: GRPCConnectionHandler?

  /// Request messages not yet handed to nghttp2, framed.
  var pendingRequest: [GRPCFramedMessage] = []
  /// How much of `pendingRequest.first` nghttp2 already took.
  var pendingOffset = 0
  /// Whether the caller has no more messages to send.
  var requestComplete: Bool
  /// Whether END_STREAM was handed to nghttp2.
  var endStreamSent = false
  /// Whether nghttp2 is waiting (`.deferred`) for more request bytes.
  var bodyDeferred = false
  /// Whether any request byte went to nghttp2.
  var requestBytesSent = false

  /// The deadline timer, while armed.
  var deadlineTask: Scheduled<Void>?
  /// Whether `responder` has been told the end.
  private(set) var isFinished = false

  /// Creates a call with its first request messages.
  init(
    method: RPCMethod,
    metadata: ClientMetadata,
    deadline: NIODeadline?,
    maxReceiveMessageLength: Int,
    request: [GRPCFramedMessage],
    requestComplete: Bool,
    responder: any GRPCCallResponder,
    streamingReader: GRPCStreamingCall? = nil
  ) {
    self.method = method
    self.metadata = metadata
    self.deadline = deadline
    self.responder = responder
    self.streamingReader = streamingReader
    self.pendingRequest = request
    self.requestComplete = requestComplete
    self.machine = GRPCCallStateMachine(
      configuration: .init(
        maxReceiveMessageLength: maxReceiveMessageLength,
        expectsSingleResponse: method.type == .unary || method.type == .clientStream
      ),
      onStream: false
    )
  }

  /// Whether the call was handed to the event loop (`GRPCConnection.start`); before that, a cancellation is
  /// only recorded, because the caller may not yet be waiting for the result.
  var started = false
  /// Whether the caller cancelled before the call started.
  var cancelRequested = false

  /// Executes what the call's state machine decided. On a stream, the handler executes it (it owns the
  /// stream); before one, the call ends here. Every way a call ends goes through this or through the handler's
  /// executor.
  ///
  /// - Parameter error: the client's error for an end found before the call reached a stream (no connection
  ///   could be made, the client closed), passed on to the responder.
  func apply(_ action: GRPCCallStateMachine.Action, error: EtcdError? = nil) {
    if let handler {
      handler.apply(action, to: self)
      return
    }
    switch action {
    case .none:
      return
    case .finish(let status, let end), .resetStreamAndFinish(let status, let end):
      finish(status, end, error: error)
    }
  }

  /// Ends the call with an error found before it reached a stream.
  func fail(_ error: EtcdError) {
    apply(machine.streamUnavailable(error.status), error: error)
  }

  /// Ends the call: cancels its timer and tells the responder, once. Only the executors of the state machine's
  /// actions (`apply` here and in the handler) call this.
  func finish(_ status: GRPCStatus, _ end: GRPCCallStateMachine.CallEnd, error: EtcdError? = nil) {
    guard !isFinished else { return }
    isFinished = true
    handler = nil
    deadlineTask?.cancel()
    deadlineTask = nil
    responder.call(self, finished: status, end: end, error: error)
  }

  /// Copies pending request bytes into `buffer`, as nghttp2's body source.
  func readBody(into buffer: UnsafeMutableRawBufferPointer) -> NGHTTP2Session.BodyRead {
    var written = 0
    while written < buffer.count, let first = pendingRequest.first {
      let copied = first.framed.withUnsafeBytes { source -> Int in
        let available = source.count - pendingOffset
        let count = min(available, buffer.count - written)
        UnsafeMutableRawBufferPointer(rebasing: buffer[written..<(written + count)])
          .copyMemory(from: UnsafeRawBufferPointer(rebasing: source[pendingOffset..<(pendingOffset + count)]))
        return count
      }
      written += copied
      pendingOffset += copied
      if pendingOffset == first.framed.count {
        pendingRequest.removeFirst()
        pendingOffset = 0
      }
    }
    if written > 0 { requestBytesSent = true }
    let done = pendingRequest.isEmpty && requestComplete
    if done {
      endStreamSent = true
      return .bytes(count: written, endStream: true)
    }
    if written == 0 {
      bodyDeferred = true
      return .deferred
    }
    return .bytes(count: written, endStream: false)
  }
}
