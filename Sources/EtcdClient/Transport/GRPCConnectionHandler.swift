import NIOCore

/// The channel handler of one HTTP/2 connection: it runs an `NGHTTP2Session` over the channel's bytes and each
/// stream's `GRPCCallStateMachine`, and executes what they decide.
///
/// Everything here runs on the channel's event loop. Writes are batched: a call submitted from outside the
/// event loop, or many calls submitted in one event-loop tick, go out in one write and one flush.
final class GRPCConnectionHandler: ChannelInboundHandler, NGHTTP2SessionDelegate {
  typealias InboundIn = ByteBuffer
  typealias OutboundOut = ByteBuffer

  /// The endpoint, for errors.
  let endpoint: Endpoint
  private let settings: NGHTTP2Session.Settings
  private let userAgent: String
  /// Called once when the connection can no longer carry calls.
  private let onClose: (GRPCConnectionHandler) -> Void

  private var session: NGHTTP2Session?
  private var context: ChannelHandlerContext?
  private var calls: [Int32: GRPCCall] = [:]
  private var flushScheduled = false
  /// Set when the peer sent GOAWAY or the connection failed: no new call may start here.
  private(set) var isDraining = false
  private var closeReason: String?
  /// Whether the connection is TLS (`:scheme https`).
  private let isTLS: Bool
  /// HTTP/2 PING keepalive: how often to ping while calls are open, and how long to wait for the ACK.
  private let keepalive: Keepalive?
  private var keepaliveTask: RepeatedTask?
  private var pingDeadline: Scheduled<Void>?

  /// PING keepalive settings.
  struct Keepalive {
    var interval: TimeAmount
    var timeout: TimeAmount
  }
  /// Whether the server sent anything yet: a plain connection that a TLS server closes gets nothing.
  private var receivedBytes = false

  /// Header fields common to every request (`:method`, `:scheme`, `:authority`, `content-type`, `te`,
  /// `user-agent`), encoded once.
  private let commonFields: GRPCRequestHeaders.Common

  init(
    endpoint: Endpoint,
    settings: NGHTTP2Session.Settings,
    userAgent: String,
    isTLS: Bool = false,
    keepalive: Keepalive? = nil,
    onClose: @escaping (GRPCConnectionHandler) -> Void
  ) {
    self.endpoint = endpoint
    self.settings = settings
    self.userAgent = userAgent
    self.isTLS = isTLS
    self.keepalive = keepalive
    self.onClose = onClose
    self.commonFields = GRPCRequestHeaders.Common(
      authority: endpoint.authority, isTLS: isTLS, userAgent: userAgent)
  }

  /// The number of calls in flight on this connection.
  var activeCallCount: Int { calls.count }

  // MARK: - Channel events

  func handlerAdded(context: ChannelHandlerContext) {
    self.context = context
    do {
      session = try NGHTTP2Session(delegate: self, settings: settings)
    } catch {
      fail(reason: "cannot start HTTP/2 session: \(error)")
      return
    }
    if context.channel.isActive {
      startKeepalive(context: context)
      flush()
    }
  }

  func channelActive(context: ChannelHandlerContext) {
    startKeepalive(context: context)
    flush()
    context.fireChannelActive()
  }

  func channelRead(context: ChannelHandlerContext, data: NIOAny) {
    let buffer = unwrapInboundIn(data)
    if !receivedBytes,
      let statusLine = buffer.withUnsafeReadableBytes({ HTTP1ResponseSniffer.statusLine(in: $0) })
    {
      receivedBytes = true
      fail(
        reason: "\(endpoint) answered in HTTP/1 (\"\(statusLine)\"), not HTTP/2: it is not an etcd gRPC endpoint "
          + "(etcd serves clients on its --listen-client-urls, port 2379 by default)")
      return
    }
    receivedBytes = true
    guard let session else { return }
    do {
      try buffer.withUnsafeReadableBytes { bytes throws(NGHTTP2Session.SessionError) in
        try session.receive(bytes)
      }
    } catch {
      // The peer broke HTTP/2 (nghttp2 has queued a GOAWAY): send it, then close.
      flush()
      fail(reason: "\(error) from \(endpoint)")
      return
    }
  }

  func channelReadComplete(context: ChannelHandlerContext) {
    flush()
    if let session, session.isDone {
      fail(reason: "the HTTP/2 session with \(endpoint) ended")
    }
  }

  func channelInactive(context: ChannelHandlerContext) {
    if !isTLS && !receivedBytes && closeReason == nil {
      closeReason =
        "\(endpoint) closed the connection before it sent anything (if it serves TLS, use an https:// "
        + "endpoint or set Configuration.tls)"
    }
    fail(reason: closeReason ?? "connection to \(endpoint) closed")
    context.fireChannelInactive()
  }

  func errorCaught(context: ChannelHandlerContext, error: any Error) {
    closeReason = "connection to \(endpoint) failed: \(error)"
    context.close(promise: nil)
  }

  func handlerRemoved(context: ChannelHandlerContext) {
    fail(reason: closeReason ?? "connection to \(endpoint) closed")
    session = nil
    self.context = nil
  }

  // MARK: - Calls (event loop only)

  /// Starts a call on this connection. Fails it at once when the connection cannot take it.
  func start(_ call: GRPCCall) {
    guard !call.isFinished else { return }
    guard let session, !isDraining else {
      let reason = closeReason ?? "connection to \(endpoint) is closing"
      call.apply(call.machine.streamUnavailable(GRPCStatus(code: .unavailable, message: reason)))
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
      let reason = "cannot open a stream to \(endpoint): \(error)"
      call.apply(call.machine.streamUnavailable(GRPCStatus(code: .unavailable, message: reason)))
      return
    }
    _ = call.machine.streamOpened()
    call.streamID = streamID
    call.handler = self
    calls[streamID] = call
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
    isDraining = true
    closeReason = closeReason ?? "the client closed the connection to \(endpoint)"
    if force || calls.isEmpty {
      session?.terminate()
      flush()
      context?.close(promise: nil)
    }
  }

  private func resume(_ call: GRPCCall) {
    guard let streamID = call.streamID else { return }
    if call.bodyDeferred {
      call.bodyDeferred = false
      session?.resumeBody(of: streamID)
    }
    scheduleFlush()
  }

  // MARK: - Executing the state machine's actions

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
    if let streamID = call.streamID {
      calls.removeValue(forKey: streamID)
      if reset && end.origin != .connection {
        session?.resetStream(streamID, errorCode: HTTP2ErrorCode.cancel)
        scheduleFlush()
      }
    }
    call.finish(status, end)
    if isDraining && calls.isEmpty { close(force: true) }
  }

  // MARK: - Writing

  private func scheduleFlush() {
    guard !flushScheduled, let context else { return }
    flushScheduled = true
    context.eventLoop.assumeIsolated().execute { self.flush() }
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
      fail(reason: "\(error) on the connection to \(endpoint)")
      return
    }
    if let buffer { context.writeAndFlush(wrapOutboundOut(buffer), promise: nil) }
  }

  // MARK: - Keepalive

  /// Pings the peer every `interval` while calls are open; a PING not acknowledged within `timeout` means the
  /// peer is gone (stopped, or the network cut): the connection fails, so its calls end and streams move on.
  /// No PING is sent on an idle connection: etcd's gRPC server counts those as abuse (`too_many_pings`).
  private func startKeepalive(context: ChannelHandlerContext) {
    guard let keepalive, keepaliveTask == nil else { return }
    // The closure runs on the channel's loop, where this handler lives.
    let bound = NIOLoopBound(self, eventLoop: context.eventLoop)
    keepaliveTask = context.eventLoop.scheduleRepeatedTask(
      initialDelay: keepalive.interval,
      delay: keepalive.interval
    ) { _ in
      bound.value.sendKeepalivePing(timeout: keepalive.timeout)
    }
  }

  private func sendKeepalivePing(timeout: TimeAmount) {
    guard !calls.isEmpty, pingDeadline == nil, let session, let context else { return }
    session.ping()
    flush()
    pingDeadline = context.eventLoop.assumeIsolated().scheduleTask(in: timeout) {
      self.pingDeadline = nil
      let reason =
        "\(self.endpoint) did not answer a keepalive PING within \(timeout.nanoseconds / 1_000_000) ms"
      self.closeReason = reason
      self.fail(reason: reason)
    }
  }

  func sessionPingAcknowledged() {
    pingDeadline?.cancel()
    pingDeadline = nil
  }

  /// Ends every call on the connection and closes it.
  private func fail(reason: String) {
    keepaliveTask?.cancel()
    keepaliveTask = nil
    pingDeadline?.cancel()
    pingDeadline = nil
    if closeReason == nil { closeReason = reason }
    isDraining = true
    let open = calls
    calls.removeAll()
    for (_, call) in open.sorted(by: { $0.key < $1.key }) {
      let action = call.machine.connectionClosed(reason: reason, requestSent: call.requestBytesSent)
      if case .finish(let status, let end) = action { call.finish(status, end) }
    }
    context?.close(promise: nil)
    onClose(self)
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
    guard let call = calls[streamID] else { return }
    let action = call.machine.dataReceived(bytes) { message in
      call.responder.call(call, received: message)
    }
    apply(action, to: call)
  }

  func session(streamClosed streamID: Int32, errorCode: UInt32) {
    guard let call = calls[streamID] else { return }
    apply(call.machine.streamClosed(errorCode: errorCode), to: call)
  }

  func session(goAwayLastStreamID lastStreamID: Int32, errorCode: UInt32) {
    isDraining = true
    closeReason = "\(endpoint) sent GOAWAY (\(GRPCCallStateMachine.http2ErrorName(errorCode)))"
    for (streamID, call) in calls.sorted(by: { $0.key < $1.key }) {
      let action = call.machine.goAwayReceived(
        lastStreamID: lastStreamID,
        streamID: streamID,
        errorCode: errorCode
      )
      apply(action, to: call)
    }
    onClose(self)
  }

  func session(readBodyOf streamID: Int32, into buffer: UnsafeMutableRawBufferPointer)
    -> NGHTTP2Session.BodyRead
  {
    guard let call = calls[streamID] else { return .bytes(count: 0, endStream: true) }
    return call.readBody(into: buffer)
  }
}
