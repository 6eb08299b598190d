internal import CNGHTTP2

/// The events an `NGHTTP2Session` reports while it processes received bytes or produces bytes to send.
///
/// All of them are called synchronously from inside `receive(_:)` or `send(into:)`, on the thread that called
/// those (the channel's event loop).
protocol NGHTTP2SessionDelegate: AnyObject {
  /// One header field of a HEADERS block on a stream. The buffers are valid only during the call.
  func session(headerOn streamID: Int32, name: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer)
  /// A HEADERS block on a stream is complete.
  func session(headersEndedOn streamID: Int32, endStream: Bool)
  /// A chunk of a stream's DATA. The buffer is valid only during the call. Its bytes hold the stream's and the
  /// connection's receive windows until they are given back (`NGHTTP2Session.consume(streamID:count:)`).
  func session(dataOn streamID: Int32, bytes: UnsafeRawBufferPointer)
  /// A stream closed; `errorCode` is 0 after END_STREAM in both directions, else the reset's code.
  func session(streamClosed streamID: Int32, errorCode: UInt32)
  /// The peer sent GOAWAY.
  func session(goAwayLastStreamID lastStreamID: Int32, errorCode: UInt32)
  /// The peer acknowledged a PING this side sent.
  func sessionPingAcknowledged()
  /// nghttp2 asks for the next bytes of a stream's request body, at most `buffer.count` of them.
  func session(readBodyOf streamID: Int32, into buffer: UnsafeMutableRawBufferPointer)
    -> NGHTTP2Session.BodyRead
}

/// One libnghttp2 client session: the HTTP/2 engine of a connection.
///
/// nghttp2 does HPACK, flow control, SETTINGS, PING, GOAWAY and stream states. This wrapper feeds it received bytes
/// (`receive`), drains the bytes it wants to send (`send`) and turns its C callbacks into `NGHTTP2SessionDelegate`
/// calls. It is the only file that imports libnghttp2; it is confined to one thread (the event loop), like the
/// session it owns.
final class NGHTTP2Session {
  /// What a request body source answers when nghttp2 asks for bytes.
  enum BodyRead {
    /// `count` bytes were written; `endStream` closes the request side of the stream after them.
    case bytes(count: Int, endStream: Bool)
    /// Nothing to send now; `resumeBody(of:)` will be called when there is.
    case deferred
  }

  /// A failure of the session as a whole: the connection cannot go on.
  struct SessionError: Error, CustomStringConvertible {
    /// nghttp2's error code.
    let code: Int
    /// What nghttp2 says the code means.
    var description: String {
      "HTTP/2 session error: \(String(cString: nghttp2_strerror(Int32(truncatingIfNeeded: code))))"
    }
  }

  /// Settings this client announces.
  struct Settings {
    /// SETTINGS_INITIAL_WINDOW_SIZE: each stream's receive window.
    var initialStreamWindow: Int32
    /// The connection's receive window.
    var connectionWindow: Int32
  }

  private var session: OpaquePointer?
  private unowned(unsafe) let delegate: any NGHTTP2SessionDelegate

  /// Creates a client session; the client preface and SETTINGS go out with the first `send(into:)`.
  init(delegate: any NGHTTP2SessionDelegate, settings: Settings) throws {
    self.delegate = delegate
    var callbacks: OpaquePointer?
    guard nghttp2_session_callbacks_new(&callbacks) == 0, let callbacks else {
      throw SessionError(code: Int(NGHTTP2_ERR_NOMEM.rawValue))
    }
    defer { nghttp2_session_callbacks_del(callbacks) }
    Self.install(callbacks)

    var option: OpaquePointer?
    guard nghttp2_option_new(&option) == 0, let option else {
      throw SessionError(code: Int(NGHTTP2_ERR_NOMEM.rawValue))
    }
    defer { nghttp2_option_del(option) }
    // Received DATA gives its window back only through `consume`: a unary call's at once, a streaming
    // call's stream window as its reader takes the messages (`GRPCStreamingCall`).
    nghttp2_option_set_no_auto_window_update(option, 1)
    // etcd's gRPC server pings and re-sends SETTINGS during normal work; nghttp2 acknowledges those itself. The
    // default cap on queued acknowledgements (1000) is kept: `send` drains after every read, so it is never near.

    let userData = Unmanaged.passUnretained(self).toOpaque()
    var created: OpaquePointer?
    let rv = nghttp2_session_client_new2(&created, callbacks, userData, option)
    guard rv == 0, let created else { throw SessionError(code: Int(rv)) }
    session = created

    var entries = [
      nghttp2_settings_entry(settings_id: Int32(NGHTTP2_SETTINGS_ENABLE_PUSH.rawValue), value: 0),
      nghttp2_settings_entry(
        settings_id: Int32(NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE.rawValue),
        value: UInt32(settings.initialStreamWindow)
      ),
    ]
    let submitted = nghttp2_submit_settings(
      created,
      UInt8(NGHTTP2_FLAG_NONE.rawValue),
      &entries,
      entries.count
    )
    guard submitted == 0 else { throw SessionError(code: Int(submitted)) }
    let windowSet = nghttp2_session_set_local_window_size(
      created,
      UInt8(NGHTTP2_FLAG_NONE.rawValue),
      0,
      settings.connectionWindow
    )
    guard windowSet == 0 else { throw SessionError(code: Int(windowSet)) }
  }

  deinit {
    if let session { nghttp2_session_del(session) }
  }

  // MARK: - Driving the session

  /// Processes bytes read from the socket; callbacks fire during the call.
  func receive(_ bytes: UnsafeRawBufferPointer) throws(SessionError) {
    guard let session, let base = bytes.baseAddress else { return }
    let consumed = nghttp2_session_mem_recv(
      session,
      base.assumingMemoryBound(to: UInt8.self),
      bytes.count
    )
    if consumed < 0 { throw SessionError(code: consumed) }
  }

  /// Appends every byte nghttp2 wants to send now to `buffer` by calling `append` for each chunk.
  ///
  /// The chunks are valid only during `append`.
  func send(_ append: (UnsafeRawBufferPointer) -> Void) throws(SessionError) {
    guard let session else { return }
    while true {
      var data: UnsafePointer<UInt8>?
      let count = nghttp2_session_mem_send(session, &data)
      if count < 0 { throw SessionError(code: count) }
      guard count > 0, let data else { return }
      append(UnsafeRawBufferPointer(start: data, count: count))
    }
  }

  /// Whether the session still reads frames (false after GOAWAY both ways, or a fatal error).
  var wantsRead: Bool {
    guard let session else { return false }
    return nghttp2_session_want_read(session) != 0
  }

  /// Whether the session has neither reading nor writing left to do (after GOAWAY both ways, or a fatal error).
  var isDone: Bool {
    guard let session else { return true }
    return nghttp2_session_want_read(session) == 0 && nghttp2_session_want_write(session) == 0
  }

  // MARK: - Streams

  /// Submits a request: HEADERS with the given fields, then a body read through the delegate.
  ///
  /// `headers` holds every field's name and value back to back; `fields` gives each field's ranges in it.
  /// - Returns: the new stream's id.
  func submitRequest(
    headerBytes: [UInt8],
    fields: [(name: Range<Int>, value: Range<Int>)]
  ) throws(SessionError) -> Int32 {
    guard let session else { throw SessionError(code: Int(NGHTTP2_ERR_INVALID_STATE.rawValue)) }
    var provider = nghttp2_data_provider(
      source: nghttp2_data_source(ptr: nil),
      read_callback: Self.readBody
    )
    let streamID = headerBytes.withUnsafeBytes { raw -> Int32 in
      let base = UnsafeMutablePointer(
        mutating: raw.baseAddress!.assumingMemoryBound(to: UInt8.self)
      )
      var nva = fields.map { field in
        nghttp2_nv(
          name: base + field.name.lowerBound,
          value: base + field.value.lowerBound,
          namelen: field.name.count,
          valuelen: field.value.count,
          flags: UInt8(NGHTTP2_NV_FLAG_NONE.rawValue)
        )
      }
      // nghttp2 copies the fields during the call.
      return nghttp2_submit_request(session, nil, &nva, nva.count, &provider, nil)
    }
    if streamID < 0 { throw SessionError(code: Int(streamID)) }
    return streamID
  }

  /// Tells nghttp2 that a stream whose body read answered `.deferred` has bytes again.
  func resumeBody(of streamID: Int32) {
    guard let session else { return }
    _ = nghttp2_session_resume_data(session, streamID)
  }

  // MARK: - Flow control

  /// Gives back `count` received DATA bytes of a stream to both its window and the connection's.
  ///
  /// Every byte `session(dataOn:bytes:)` reports must be given back once, through this or the two calls
  /// below; nghttp2 sends WINDOW_UPDATE when half a window is given back. Bytes of a closed stream still
  /// count for the connection's window.
  func consume(streamID: Int32, count: Int) {
    guard let session, count > 0 else { return }
    _ = nghttp2_session_consume(session, streamID, count)
  }

  /// Gives back `count` received DATA bytes to the connection's window only.
  func consumeConnection(count: Int) {
    guard let session, count > 0 else { return }
    _ = nghttp2_session_consume_connection(session, count)
  }

  /// Gives back `count` received DATA bytes to a stream's window only (nothing once the stream closed).
  func consumeStream(streamID: Int32, count: Int) {
    guard let session, count > 0 else { return }
    _ = nghttp2_session_consume_stream(session, streamID, count)
  }

  // MARK: - Ending streams and the session

  /// Resets a stream with RST_STREAM and the given HTTP/2 error code.
  func resetStream(_ streamID: Int32, errorCode: UInt32) {
    guard let session else { return }
    _ = nghttp2_submit_rst_stream(session, UInt8(NGHTTP2_FLAG_NONE.rawValue), streamID, errorCode)
  }

  /// Sends GOAWAY(NO_ERROR) and stops accepting new streams; open streams may finish.
  func terminate() {
    guard let session else { return }
    _ = nghttp2_session_terminate_session(session, UInt32(NGHTTP2_NO_ERROR.rawValue))
  }

  /// Sends a PING.
  func ping() {
    guard let session else { return }
    _ = nghttp2_submit_ping(session, UInt8(NGHTTP2_FLAG_NONE.rawValue), nil)
  }

  // MARK: - C callbacks

  private static func owner(_ userData: UnsafeMutableRawPointer?) -> NGHTTP2Session {
    Unmanaged<NGHTTP2Session>.fromOpaque(userData!).takeUnretainedValue()
  }

  private static let readBody: nghttp2_data_source_read_callback = {
    _, streamID, buffer, length, flags, _, userData in
    guard let buffer else { return Int(NGHTTP2_ERR_CALLBACK_FAILURE.rawValue) }
    let owner = NGHTTP2Session.owner(userData)
    switch owner.delegate.session(
      readBodyOf: streamID,
      into: UnsafeMutableRawBufferPointer(start: buffer, count: length)
    ) {
    case .bytes(let count, let endStream):
      if endStream { flags?.pointee |= UInt32(NGHTTP2_DATA_FLAG_EOF.rawValue) }
      return count
    case .deferred:
      return Int(NGHTTP2_ERR_DEFERRED.rawValue)
    }
  }

  private static func install(_ callbacks: OpaquePointer) {
    nghttp2_session_callbacks_set_on_header_callback(callbacks) {
      _, frame, name, nameLength, value, valueLength, _, userData in
      guard let frame, let name, let value else { return 0 }
      NGHTTP2Session.owner(userData).delegate.session(
        headerOn: frame.pointee.hd.stream_id,
        name: UnsafeRawBufferPointer(start: name, count: nameLength),
        value: UnsafeRawBufferPointer(start: value, count: valueLength)
      )
      return 0
    }
    nghttp2_session_callbacks_set_on_frame_recv_callback(callbacks) { _, frame, userData in
      guard let frame else { return 0 }
      let header = frame.pointee.hd
      switch UInt32(header.type) {
      case NGHTTP2_HEADERS.rawValue:
        let endStream = header.flags & UInt8(NGHTTP2_FLAG_END_STREAM.rawValue) != 0
        NGHTTP2Session.owner(userData).delegate.session(
          headersEndedOn: header.stream_id,
          endStream: endStream
        )
      case NGHTTP2_PING.rawValue where header.flags & UInt8(NGHTTP2_FLAG_ACK.rawValue) != 0:
        NGHTTP2Session.owner(userData).delegate.sessionPingAcknowledged()
      case NGHTTP2_GOAWAY.rawValue:
        NGHTTP2Session.owner(userData).delegate.session(
          goAwayLastStreamID: cnghttp2_goaway_last_stream_id(frame),
          errorCode: cnghttp2_goaway_error_code(frame)
        )
      default:
        break
      }
      return 0
    }
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(callbacks) {
      _, _, streamID, data, length, userData in
      guard let data else { return 0 }
      NGHTTP2Session.owner(userData).delegate.session(
        dataOn: streamID,
        bytes: UnsafeRawBufferPointer(start: data, count: length)
      )
      return 0
    }
    nghttp2_session_callbacks_set_on_stream_close_callback(callbacks) {
      _, streamID, errorCode, userData in
      NGHTTP2Session.owner(userData).delegate.session(streamClosed: streamID, errorCode: errorCode)
      return 0
    }
  }
}
