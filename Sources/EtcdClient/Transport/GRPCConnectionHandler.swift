import GRPCProtocol
import Logging
import NIOCore

/// The channel handler of one HTTP/2 connection: it runs an `NGHTTP2Session` over the channel's bytes, the
/// connection's `HTTP2ConnectionStateMachine` and each stream's `GRPCCallStateMachine`, and executes what they
/// decide. It keeps only the session, the channel context, the open calls and the timers the machine arms.
///
/// Everything here runs on the channel's event loop. Writes are batched: a call submitted from outside the
/// event loop, or many calls submitted in one event-loop tick, go out in one write and one flush.
final class GRPCConnectionHandler: ChannelInboundHandler, NGHTTP2SessionDelegate {
  typealias InboundIn = ByteBuffer
  typealias OutboundOut = ByteBuffer

  /// The endpoint, for errors.
  let endpoint: Endpoint
  private let settings: NGHTTP2Session.Settings
  /// Told when the connection can no longer take calls (GOAWAY, or it failed or closed).
  private let onClose: (GRPCConnectionHandler) -> Void
  /// Where GOAWAY, a keepalive timeout and the close are logged, with the endpoint as metadata.
  private let logger: Logger

  private var session: NGHTTP2Session?
  private var context: ChannelHandlerContext?
  private var calls: [Int32: GRPCCall] = [:]
  private var flushScheduled = false
  /// Draining, closing, keepalive and the close reason.
  private var machine: HTTP2ConnectionStateMachine
  /// The keepalive timer and the PING's timeout, while the machine has them armed.
  private var keepaliveTask: RepeatedTask?
  private var pingTimeout: Scheduled<Void>?

  /// PING keepalive settings: how often to ping while calls are open, and how long to wait for the ACK.
  struct Keepalive {
    var interval: TimeAmount
    var timeout: TimeAmount
  }

  /// Header fields common to every request (`:method`, `:scheme`, `:authority`, `content-type`, `te`,
  /// `user-agent`), encoded once.
  private let commonFields: GRPCRequestHeaders.Common

  init(
    endpoint: Endpoint,
    settings: NGHTTP2Session.Settings,
    userAgent: String,
    isTLS: Bool = false,
    keepalive: Keepalive? = nil,
    logger: Logger = Logger(label: "etcd-client", factory: { _ in SwiftLogNoOpLogHandler() }),
    onClose: @escaping (GRPCConnectionHandler) -> Void
  ) {
    self.endpoint = endpoint
    self.settings = settings
    self.onClose = onClose
    self.logger = logger
    self.machine = HTTP2ConnectionStateMachine(
      configuration: .init(
        endpoint: endpoint.description,
        isTLS: isTLS,
        keepalive: keepalive.map {
          .init(intervalNanoseconds: $0.interval.nanoseconds, timeoutNanoseconds: $0.timeout.nanoseconds)
        }
      )
    )
    self.commonFields = GRPCRequestHeaders.Common(
      authority: endpoint.authority, isTLS: isTLS, userAgent: userAgent)
  }

  /// The number of calls in flight on this connection.
  var activeCallCount: Int { calls.count }

  /// Whether the connection takes no new call (the peer sent GOAWAY, it is closing, or it failed).
  var isDraining: Bool { !machine.acceptsNewStreams }

  // MARK: - Channel events

  func handlerAdded(context: ChannelHandlerContext) {
    self.context = context
    do {
      session = try NGHTTP2Session(delegate: self, settings: settings)
    } catch {
      run(machine.sessionStartFailed("\(error)"))
      return
    }
    if context.channel.isActive {
      run(machine.channelActive())
      flush()
    }
  }

  func channelActive(context: ChannelHandlerContext) {
    run(machine.channelActive())
    flush()
    context.fireChannelActive()
  }

  func channelRead(context: ChannelHandlerContext, data: NIOAny) {
    let buffer = unwrapInboundIn(data)
    if !machine.hasReceivedBytes {
      // Only the first bytes are sniffed: an HTTP/1 server answers a preface with a status line.
      let statusLine = buffer.withUnsafeReadableBytes { HTTP1ResponseSniffer.statusLine(in: $0) }
      let action = machine.bytesReceived(http1StatusLine: statusLine)
      guard case .none = action else {
        run(action)
        return
      }
    }
    guard let session else { return }
    do {
      try buffer.withUnsafeReadableBytes { bytes throws(NGHTTP2Session.SessionError) in
        try session.receive(bytes)
      }
    } catch {
      // The peer broke HTTP/2 (nghttp2 has queued a GOAWAY): send it, then close.
      flush()
      run(machine.receiveFailed("\(error)"))
    }
  }

  func channelReadComplete(context: ChannelHandlerContext) {
    // What the bytes read call for (acknowledgements of the server's PINGs and SETTINGS, WINDOW_UPDATEs) goes
    // out at the end of this event-loop tick, in one write with the requests of the callers the responses
    // resumed on this loop: grpc-go servers PING after most requests they receive, and an acknowledgement
    // written on its own costs a system call and a wake-up of the server per request.
    // The scheduled flush ends the connection if what it sends was the session's last word (a GOAWAY after a
    // protocol error, queued while nghttp2 still counts itself as reading).
    if let session, session.wantsRead {
      scheduleFlush()
      return
    }
    flushAndEndIfDone()
  }

  func channelInactive(context: ChannelHandlerContext) {
    run(machine.channelInactive())
    context.fireChannelInactive()
  }

  func errorCaught(context: ChannelHandlerContext, error: any Error) {
    run(machine.errorCaught("\(error)"))
  }

  func handlerRemoved(context: ChannelHandlerContext) {
    run(machine.handlerRemoved())
    session = nil
    self.context = nil
  }

  // MARK: - Calls (event loop only)

  /// Starts a call on this connection. Fails it at once when the connection cannot take it.
  func start(_ call: GRPCCall) {
    guard !call.isFinished else { return }
    guard let session, machine.acceptsNewStreams else {
      call.apply(call.machine.streamUnavailable(GRPCStatus(code: .unavailable, message: machine.refusalReason)))
      return
    }
    var timeout: String?
    if let deadline = call.deadline {
      let remaining = deadline.uptimeNanoseconds.subtractingReportingOverflow(
        NIODeadline.now().uptimeNanoseconds
      )
      let nanoseconds = remaining.overflow ? 0 : Int64(clamping: remaining.partialValue)
      timeout = GRPCTimeout.headerValue(nanoseconds: nanoseconds)
    }
    let headers = GRPCRequestHeaders(
      path: call.method.path, common: commonFields, timeout: timeout, metadata: call.metadata)
    let streamID: Int32
    do {
      streamID = try session.submitRequest(headerBytes: headers.bytes, fields: headers.ranges)
    } catch {
      let reason = machine.streamNotSubmittedReason(error: "\(error)")
      call.apply(call.machine.streamUnavailable(GRPCStatus(code: .unavailable, message: reason)))
      return
    }
    _ = call.machine.streamOpened()
    call.streamID = streamID
    call.handler = self
    calls[streamID] = call
    machine.streamOpened()
    scheduleFlush()
  }

  /// Queues another request message of a streaming call.
  func send(_ message: GRPCFramedMessage, on call: GRPCCall) {
    guard !call.isFinished, !call.requestComplete else { return }
    call.pendingRequest.append(message)
    resume(call)
  }

  /// Ends the request side of a streaming call.
  func finishSending(_ call: GRPCCall) {
    guard !call.isFinished, !call.requestComplete else { return }
    call.requestComplete = true
    resume(call)
  }

  /// Sends GOAWAY and closes the connection once open calls have ended (or at once with `force`).
  func close(force: Bool) {
    run(machine.closeRequested(force: force))
  }

  private func resume(_ call: GRPCCall) {
    guard let streamID = call.streamID else { return }
    if call.bodyDeferred {
      call.bodyDeferred = false
      session?.resumeBody(of: streamID)
    }
    scheduleFlush()
  }

  // MARK: - Executing the state machines' actions

  /// Executes what the connection's state machine decided.
  private func run(_ action: HTTP2ConnectionStateMachine.Action) {
    switch action {
    case .none:
      return
    case .startKeepaliveTimer(let interval):
      guard let context else { return }
      // The closure runs on the channel's loop, where this handler lives.
      let bound = NIOLoopBound(self, eventLoop: context.eventLoop)
      keepaliveTask = context.eventLoop.scheduleRepeatedTask(
        initialDelay: .nanoseconds(interval),
        delay: .nanoseconds(interval)
      ) { _ in
        bound.value.run(bound.value.machine.keepaliveTimerFired())
      }
    case .sendPing(let timeout):
      guard let session, let context else { return }
      session.ping()
      flush()
      pingTimeout = context.eventLoop.assumeIsolated().scheduleTask(in: .nanoseconds(timeout)) {
        self.pingTimeout = nil
        self.logger.warning(
          "keepalive PING timed out", metadata: ["timeout_ms": "\(timeout / 1_000_000)"])
        self.run(self.machine.pingTimedOut())
      }
    case .cancelPingTimeout:
      pingTimeout?.cancel()
      pingTimeout = nil
    case .drain(let lastStreamID, let errorCode):
      logger.notice(
        "GOAWAY received",
        metadata: ["last_stream_id": "\(lastStreamID)", "http2_error_code": "\(errorCode)"])
      for (streamID, call) in calls.sorted(by: { $0.key < $1.key }) {
        let action = call.machine.goAwayReceived(
          lastStreamID: lastStreamID,
          streamID: streamID,
          errorCode: errorCode
        )
        apply(action, to: call)
      }
      onClose(self)
    case .sendGoAwayAndClose:
      session?.terminate()
      flush()
      context?.close(promise: nil)
    case .closeChannel:
      context?.close(promise: nil)
    case .failCallsAndClose(let reason):
      logger.info("disconnected", metadata: ["reason": "\(reason)", "open_calls": "\(calls.count)"])
      keepaliveTask?.cancel()
      keepaliveTask = nil
      pingTimeout?.cancel()
      pingTimeout = nil
      let open = calls
      calls.removeAll()
      for (_, call) in open.sorted(by: { $0.key < $1.key }) {
        apply(call.machine.connectionClosed(reason: reason, requestSent: call.requestBytesSent), to: call)
      }
      context?.close(promise: nil)
      onClose(self)
    }
  }

  /// Executes what a call's state machine decided, for a call on one of this connection's streams.
  func apply(_ action: GRPCCallStateMachine.Action, to call: GRPCCall) {
    switch action {
    case .none:
      return
    case .finish(let status, let end):
      complete(call, status, end, reset: !call.endStreamSent)
    case .resetStreamAndFinish(let status, let end):
      complete(call, status, end, reset: true)
    }
  }

  private func complete(
    _ call: GRPCCall,
    _ status: GRPCStatus,
    _ end: GRPCCallStateMachine.CallEnd,
    reset: Bool
  ) {
    var wasOpen = false
    if let streamID = call.streamID {
      wasOpen = calls.removeValue(forKey: streamID) != nil
      if reset && end.origin != .connection {
        session?.resetStream(streamID, errorCode: HTTP2ErrorCode.cancel)
        scheduleFlush()
      }
    }
    call.finish(status, end)
    if wasOpen { run(machine.streamClosed()) }
  }

  // MARK: - Writing

  private func scheduleFlush() {
    guard !flushScheduled, let context else { return }
    flushScheduled = true
    context.eventLoop.assumeIsolated().execute { self.flushAndEndIfDone() }
  }

  /// Flushes, then ends the connection if the session has neither reading nor writing left to do.
  private func flushAndEndIfDone() {
    flush()
    if let session, session.isDone {
      run(machine.sessionEnded())
    }
  }

  /// Drains nghttp2's output into one buffer and writes it with one flush.
  private func flush() {
    flushScheduled = false
    guard let session, let context, context.channel.isActive else { return }
    var buffer: ByteBuffer?
    do {
      try session.send { chunk in
        if buffer == nil {
          buffer = context.channel.allocator.buffer(capacity: max(chunk.count, 1024))
        }
        buffer!.writeBytes(chunk)
      }
    } catch {
      run(machine.sendFailed("\(error)"))
      return
    }
    if let buffer { context.writeAndFlush(wrapOutboundOut(buffer), promise: nil) }
  }

  func sessionPingAcknowledged() {
    run(machine.pingAcknowledged())
  }

  // MARK: - NGHTTP2SessionDelegate

  func session(headerOn streamID: Int32, name: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer) {
    guard GRPCHeaderBlock.isRecorded(nameBytes: name), let call = calls[streamID] else { return }
    call.headerBlock.record(nameBytes: name, valueBytes: value)
  }

  func session(headersEndedOn streamID: Int32, endStream: Bool) {
    guard let call = calls[streamID] else { return }
    let block = call.headerBlock
    call.headerBlock = GRPCHeaderBlock()
    apply(call.machine.headersReceived(block, endStream: endStream), to: call)
  }

  func session(dataOn streamID: Int32, bytes: UnsafeRawBufferPointer) {
    guard let call = calls[streamID] else {
      // The call ended and its stream is being reset: nothing reads these bytes.
      session?.consume(streamID: streamID, count: bytes.count)
      return
    }
    guard let reader = call.streamingReader else {
      // A unary call holds one message, bounded by the receive limit: its window goes back at once.
      session?.consume(streamID: streamID, count: bytes.count)
      let action = call.machine.dataReceived(bytes) { message in
        call.responder.call(call, received: message)
      }
      apply(action, to: call)
      return
    }
    // A streaming call: the connection's window goes back at once, so a reader that stops holds only its own
    // stream's window and the other calls go on; the stream's window goes back as the reader takes messages.
    session?.consumeConnection(count: bytes.count)
    reader.responseDataReceived(byteCount: bytes.count)
    let action = call.machine.dataReceived(bytes) { message in
      call.responder.call(call, received: message)
    }
    session?.consumeStream(streamID: streamID, count: reader.streamWindowToRelease())
    apply(action, to: call)
  }

  /// Gives back stream-window bytes whose messages a streaming call's reader took (nothing once the stream
  /// closed); the WINDOW_UPDATE goes out with the next flush, once nghttp2 has half a window to announce.
  func releaseStreamWindow(of streamID: Int32, count: Int) {
    guard count > 0, let session else { return }
    session.consumeStream(streamID: streamID, count: count)
    scheduleFlush()
  }

  func session(streamClosed streamID: Int32, errorCode: UInt32) {
    guard let call = calls[streamID] else { return }
    apply(call.machine.streamClosed(errorCode: errorCode), to: call)
  }

  func session(goAwayLastStreamID lastStreamID: Int32, errorCode: UInt32) {
    run(machine.goAwayReceived(lastStreamID: lastStreamID, errorCode: errorCode))
  }

  func session(readBodyOf streamID: Int32, into buffer: UnsafeMutableRawBufferPointer)
    -> NGHTTP2Session.BodyRead
  {
    guard let call = calls[streamID] else { return .bytes(count: 0, endStream: true) }
    return call.readBody(into: buffer)
  }
}
