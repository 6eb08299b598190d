import NIOCore

/// The response messages of a streaming call that its reader has not taken yet, and the stream flow-control
/// window they hold: what the event loop puts in, what the reader takes out, and when the window goes back.
///
/// Pure: no locks, no I/O. `GRPCStreamingCall` keeps it behind a mutex and executes what it returns; `Waiter`
/// is the suspended reader (a continuation there, anything in tests).
///
/// Flow control. The connection handler gives the connection's window back as DATA arrives; the stream's
/// window goes back only for bytes the reader took (`streamWindowToRelease`). So a reader that stops reading
/// stops the server once the stream window is used, while other calls on the connection go on. The queue then
/// holds at most one stream window plus the one message that was arriving while nothing was queued: the bytes
/// of a message still arriving are given back at once when the queue is empty, so a message larger than the
/// window still arrives whole. nghttp2 enforces the window, so the bound holds against any server.
///
/// Batching. A reader taking queued messages asks for the event loop (`Next.message(_, releaseWindow: true)`)
/// only when `releaseBatchBytes` have been taken and not given back, and only while no such request is
/// pending; between those, the window goes back with the next DATA the event loop processes. Holding back
/// less than a batch never stalls the server as long as the batch is well under half the stream window
/// (nghttp2 itself sends WINDOW_UPDATE once half a window was given back).
struct StreamingResponseBuffer<Waiter> {
  /// What a reader gets when it asks for the next message.
  enum Next {
    /// The next message. With `releaseWindow`, a batch of taken bytes holds the stream window: run
    /// `scheduledReleaseRan()` on the event loop and give back what it returns.
    case message([UInt8], releaseWindow: Bool)
    /// The sequence ended: normally (nil), or with the call's error (`EtcdError.streamCancelled` when the
    /// reader was cancelled).
    case end(EtcdError?)
    /// Nothing yet. From `nextRequested()`: suspend and call `suspend(_:)`. From `suspend(_:)`: the waiter is
    /// kept until a later event resumes it.
    case wait
  }

  /// A suspended reader to resume, and with what.
  struct Resumption {
    var waiter: Waiter
    var result: Result<[UInt8]?, EtcdError>
  }

  /// What to do when the reader goes away (its task was cancelled, or its iterator dropped).
  struct ReaderGone {
    /// The suspended reader to resume with `EtcdError.streamCancelled`.
    var resumption: Resumption?
    /// Whether the call is still open and must be cancelled (RST_STREAM).
    var cancelCall: Bool
  }

  private struct Entry {
    var message: [UInt8]
    /// The bytes of this message whose stream window is still held.
    var heldBytes: Int
  }

  private enum Reader {
    /// Between calls to `nextRequested`, or processing a message.
    case idle
    /// Suspended until a message or the end arrives.
    case waiting(Waiter)
    /// Cancelled; the cancellation is the next thing `nextRequested` reports.
    case cancelled
    /// The end was delivered, or the iterator is gone: nothing more is read.
    case done
  }

  /// A gRPC message's bytes on the wire: the 5-byte prefix and the message.
  static func wireCount(ofMessage message: [UInt8]) -> Int { 5 + message.count }

  /// How many taken bytes make the reader ask the event loop to give the stream window back.
  let releaseBatchBytes: Int

  private var queue = CircularBuffer<Entry>()
  private var reader = Reader.idle
  /// The call's end, once it ended: nil while the stream is open, `.some(nil)` after status OK.
  private var end: EtcdError??
  /// Stream-window bytes of the message still arriving (and of DATA no message has claimed yet).
  private var partialHeldBytes = 0
  /// Stream-window bytes free to give back: the reader took their messages.
  private var releasableBytes = 0
  /// Whether the reader asked for a release that has not run yet.
  private var releaseScheduled = false

  /// Message bytes queued for the reader (without prefixes).
  private(set) var queuedBytes = 0

  /// Creates an empty buffer for an open call.
  ///
  /// - Parameter releaseBatchBytes: taken bytes that make the reader ask the event loop for a release; keep it
  ///   under a quarter of the stream window (see the type's documentation).
  init(releaseBatchBytes: Int) {
    precondition(releaseBatchBytes > 0, "the release batch must be positive")
    self.releaseBatchBytes = releaseBatchBytes
  }

  /// Messages queued for the reader.
  var queuedMessages: Int { queue.count }

  /// Stream-window bytes received and not given back yet (those of `streamWindowToRelease()` included).
  var heldBytes: Int {
    queue.reduce(partialHeldBytes + releasableBytes) { $0 + $1.heldBytes }
  }

  private var isStreamOpen: Bool { end == nil }

  // MARK: - Event loop

  /// A DATA chunk of `byteCount` bytes arrived; its messages follow through `messageReceived`.
  mutating func dataReceived(byteCount: Int) {
    guard isStreamOpen else { return }
    partialHeldBytes += byteCount
  }

  /// A message was completed; returns the suspended reader to hand it to, if one waits.
  mutating func messageReceived(_ message: [UInt8]) -> Resumption? {
    let held = min(Self.wireCount(ofMessage: message), partialHeldBytes)
    partialHeldBytes -= held
    switch reader {
    case .waiting(let waiter):
      reader = .idle
      releasableBytes += held
      return Resumption(waiter: waiter, result: .success(message))
    case .idle:
      queue.append(Entry(message: message, heldBytes: held))
      queuedBytes += message.count
      return nil
    case .cancelled, .done:
      // Nobody reads it; the call is being cancelled.
      releasableBytes += held
      return nil
    }
  }

  /// Stream-window bytes to give back now (after each DATA chunk): those of taken messages, and, when nothing
  /// is queued, those of the message still arriving. Zero once the call ended: its stream is closed.
  mutating func streamWindowToRelease() -> Int {
    guard isStreamOpen else { return 0 }
    if queue.isEmpty {
      releasableBytes += partialHeldBytes
      partialHeldBytes = 0
    }
    defer { releasableBytes = 0 }
    return releasableBytes
  }

  /// The release a reader asked for runs on the event loop: returns the bytes to give back.
  mutating func scheduledReleaseRan() -> Int {
    releaseScheduled = false
    return streamWindowToRelease()
  }

  /// The call ended (`error` nil for status OK); returns the suspended reader to tell, if one waits.
  ///
  /// Queued messages stay for the reader, which gets the end after them.
  mutating func callFinished(_ error: EtcdError?) -> Resumption? {
    guard isStreamOpen else { return nil }
    end = .some(error)
    partialHeldBytes = 0
    releasableBytes = 0
    guard case .waiting(let waiter) = reader else { return nil }
    reader = .done
    return Resumption(waiter: waiter, result: error.map { .failure($0) } ?? .success(nil))
  }

  // MARK: - Reader

  /// The reader asks for the next message.
  mutating func nextRequested() -> Next {
    switch reader {
    case .cancelled:
      reader = .done
      return .end(.streamCancelled)
    case .done:
      return .end(nil)
    case .idle, .waiting:
      break
    }
    if let entry = queue.popFirst() {
      queuedBytes -= entry.message.count
      return .message(entry.message, releaseWindow: take(entry))
    }
    if let end {
      reader = .done
      return .end(end)
    }
    return .wait
  }

  /// The reader suspends after `nextRequested()` answered `.wait`. Events may have come in between: then this
  /// answers as `nextRequested()` does and the reader resumes at once; `.wait` means the waiter is kept.
  mutating func suspend(_ waiter: Waiter) -> Next {
    let next = nextRequested()
    if case .wait = next { reader = .waiting(waiter) }
    return next
  }

  /// The reader's task was cancelled: queued messages are dropped and the reader gets
  /// `EtcdError.streamCancelled` (at once if it is suspended, else from its next request).
  mutating func readerCancelled() -> ReaderGone {
    switch reader {
    case .cancelled, .done:
      return ReaderGone(resumption: nil, cancelCall: false)
    case .waiting(let waiter):
      dropQueue()
      reader = .done
      return ReaderGone(
        resumption: Resumption(waiter: waiter, result: .failure(.streamCancelled)),
        cancelCall: isStreamOpen
      )
    case .idle:
      dropQueue()
      reader = .cancelled
      return ReaderGone(resumption: nil, cancelCall: isStreamOpen)
    }
  }

  /// The reader's iterator is gone; returns whether the call is still open and must be cancelled.
  mutating func readerDropped() -> Bool {
    let wasReading: Bool
    switch reader {
    case .idle, .waiting, .cancelled: wasReading = true
    case .done: wasReading = false
    }
    dropQueue()
    reader = .done
    return wasReading && isStreamOpen
  }

  /// Moves a taken message's held bytes to the releasable ones; returns whether the reader should ask the
  /// event loop to give them back now.
  private mutating func take(_ entry: Entry) -> Bool {
    guard isStreamOpen else { return false }
    releasableBytes += entry.heldBytes
    let pending = releasableBytes + (queue.isEmpty ? partialHeldBytes : 0)
    guard !releaseScheduled, pending >= releaseBatchBytes else { return false }
    releaseScheduled = true
    return true
  }

  private mutating func dropQueue() {
    for entry in queue { releasableBytes += entry.heldBytes }
    queue.removeAll()
    queuedBytes = 0
  }
}
