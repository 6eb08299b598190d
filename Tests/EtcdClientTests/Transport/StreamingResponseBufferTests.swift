import GRPCProtocol
import Testing

@testable import EtcdClient

/// The buffer between a streaming call's event loop and its reader, with waiters named by strings.
private typealias Buffer = StreamingResponseBuffer<String>

/// A message of `count` bytes, each `byte`: `count + 5` bytes on the wire.
private func message(_ count: Int, _ byte: UInt8 = 0) -> [UInt8] {
  [UInt8](repeating: byte, count: count)
}

/// Delivers `messages` as one DATA chunk, as the connection handler does; returns the waiters resumed and the
/// stream window given back after the chunk.
@discardableResult
private func receive(
  _ messages: [[UInt8]],
  extraBytes: Int = 0,
  into buffer: inout Buffer
) -> (resumed: [String], released: Int) {
  let bytes = messages.reduce(extraBytes) { $0 + Buffer.wireCount(ofMessage: $1) }
  buffer.dataReceived(byteCount: bytes)
  var resumed: [String] = []
  for message in messages {
    if let resumption = buffer.messageReceived(message) { resumed.append(resumption.waiter) }
  }
  return (resumed, buffer.streamWindowToRelease())
}

/// Takes the next message, expecting one; returns it and whether the reader must ask for a release.
private func take(from buffer: inout Buffer) -> (message: [UInt8], releaseWindow: Bool)? {
  guard case .message(let message, let releaseWindow) = buffer.nextRequested() else { return nil }
  return (message, releaseWindow)
}

private let unavailable = EtcdError(code: .connectionClosed, status: GRPCStatus(code: .unavailable, message: "gone"))

@Suite("StreamingResponseBuffer: a streaming call's responses and the stream window they hold")
struct StreamingResponseBufferTests {
  @Test("a reader that stops reading holds every byte: nothing goes back, the queue grows only by what arrives")
  func stalledReaderHoldsTheWindow() {
    var buffer = Buffer(releaseBatchBytes: 1024)
    // The first message is taken directly by a waiting reader: its bytes go back at once.
    #expect(buffer.nextRequested().isWait)
    #expect(buffer.suspend("reader").isWait)
    let first = receive([message(100, 1)], into: &buffer)
    #expect(first.resumed == ["reader"])
    #expect(first.released == 105)
    // Then the reader stops: 40 messages of 1,000 bytes arrive and nothing goes back.
    for index in 0..<40 {
      #expect(receive([message(1000, UInt8(index))], into: &buffer).released == 0)
    }
    #expect(buffer.queuedMessages == 40)
    #expect(buffer.queuedBytes == 40_000)
    #expect(buffer.heldBytes == 40 * 1005)
  }

  @Test("taking messages gives their bytes back: in batches through the event loop, or with the next DATA")
  func takenBytesGoBackInBatches() {
    var buffer = Buffer(releaseBatchBytes: 3000)
    receive((0..<6).map { message(995, UInt8($0)) }, into: &buffer)  // 6 x 1,000 bytes on the wire
    #expect(buffer.heldBytes == 6000)
    // 1,000 and 2,000 bytes taken: under the batch, no hop.
    #expect(take(from: &buffer)?.releaseWindow == false)
    #expect(take(from: &buffer)?.releaseWindow == false)
    // 3,000: one hop is asked for; while it is pending, no other.
    #expect(take(from: &buffer)?.releaseWindow == true)
    #expect(take(from: &buffer)?.releaseWindow == false)
    // The hop runs: everything taken goes back.
    #expect(buffer.scheduledReleaseRan() == 4000)
    #expect(buffer.heldBytes == 2000)
    // One more taken, then DATA arrives: the taken bytes go back with it, no hop needed.
    #expect(take(from: &buffer)?.releaseWindow == false)
    #expect(receive([message(95)], into: &buffer).released == 1000)
    #expect(buffer.heldBytes == 1100)
  }

  @Test("messages come out in order, then the end; a reader waiting gets the end at once")
  func orderAndEnd() {
    var buffer = Buffer(releaseBatchBytes: 1 << 20)
    receive([message(1, 1), message(2, 2)], into: &buffer)
    receive([message(3, 3)], into: &buffer)
    #expect(buffer.callFinished(nil)?.waiter == nil)
    #expect(take(from: &buffer)?.message == message(1, 1))
    #expect(take(from: &buffer)?.message == message(2, 2))
    #expect(take(from: &buffer)?.message == message(3, 3))
    #expect(buffer.nextRequested().ending == .normal)
    #expect(buffer.nextRequested().ending == .normal)

    var waiting = Buffer(releaseBatchBytes: 1 << 20)
    #expect(waiting.suspend("reader").isWait)
    let resumption = waiting.callFinished(unavailable)
    #expect(resumption?.waiter == "reader")
    #expect(resumption?.result.error?.code == .connectionClosed)
    #expect(waiting.nextRequested().ending == .normal)
  }

  @Test("a failed call's queued messages still come out before its error")
  func errorAfterQueuedMessages() {
    var buffer = Buffer(releaseBatchBytes: 1 << 20)
    receive([message(7, 7)], into: &buffer)
    #expect(buffer.callFinished(unavailable)?.waiter == nil)
    // The stream is closed: nothing goes back any more, and taking asks for no hop.
    #expect(buffer.streamWindowToRelease() == 0)
    #expect(take(from: &buffer)?.message == message(7, 7))
    #expect(buffer.nextRequested().ending == .failed(.connectionClosed))
    #expect(buffer.nextRequested().ending == .normal)
  }

  @Test("a message larger than the window arrives: its partial bytes go back while nothing is queued")
  func partialMessageWithEmptyQueue() {
    var buffer = Buffer(releaseBatchBytes: 1024)
    // 10,000 bytes of a 100,000-byte message: nothing is queued, so the window goes back at once.
    buffer.dataReceived(byteCount: 10_000)
    #expect(buffer.streamWindowToRelease() == 10_000)
    buffer.dataReceived(byteCount: 90_005)
    #expect(buffer.messageReceived(message(100_000))?.waiter == nil)
    // The message is whole and queued; what arrived since the last release is held until it is taken.
    #expect(buffer.streamWindowToRelease() == 0)
    #expect(buffer.heldBytes == 90_005)
    #expect(take(from: &buffer)?.releaseWindow == true)
    #expect(buffer.scheduledReleaseRan() == 90_005)
    #expect(buffer.heldBytes == 0)
  }

  @Test("a partial message behind queued ones is held, and goes back once the queue is drained")
  func partialMessageBehindQueue() {
    var buffer = Buffer(releaseBatchBytes: 1 << 20)
    receive([message(995)], extraBytes: 500, into: &buffer)
    #expect(buffer.heldBytes == 1500)
    // The reader takes the one queued message: the queue is empty, so the partial bytes go back too, even under
    // the batch, with the next release.
    #expect(take(from: &buffer)?.releaseWindow == false)
    #expect(buffer.streamWindowToRelease() == 1500)
    #expect(buffer.heldBytes == 0)
  }

  @Test("a waiting reader gets the message at once; a message that arrives between its two requests too")
  func waitingReader() {
    var buffer = Buffer(releaseBatchBytes: 1 << 20)
    #expect(buffer.nextRequested().isWait)
    // A message arrives before the reader suspends: it resumes at once with it.
    receive([message(4, 4)], into: &buffer)
    guard case .message(let early, _) = buffer.suspend("reader") else {
      Issue.record("the reader should take the message that came in between")
      return
    }
    #expect(early == message(4, 4))
    #expect(buffer.suspend("reader").isWait)
    let delivered = receive([message(5, 5), message(6, 6)], into: &buffer)
    #expect(delivered.resumed == ["reader"])
    // The first went to the reader, the second is queued: the first one's bytes go back, with those of the
    // message taken before (9), which waited for this DATA.
    #expect(delivered.released == 9 + 10)
    #expect(take(from: &buffer)?.message == message(6, 6))
  }

  @Test("a cancelled reader: a waiting one gets the cancellation, the call is cancelled, later messages dropped")
  func cancelledWhileWaiting() {
    var buffer = Buffer(releaseBatchBytes: 1 << 20)
    #expect(buffer.suspend("reader").isWait)
    let gone = buffer.readerCancelled()
    #expect(gone.cancelCall)
    #expect(gone.resumption?.waiter == "reader")
    #expect(gone.resumption?.result.error?.code == .cancelled)
    #expect(receive([message(3)], into: &buffer).resumed.isEmpty)
    #expect(buffer.queuedMessages == 0)
    #expect(buffer.nextRequested().ending == .normal)
    // Cancelling twice does nothing more.
    let again = buffer.readerCancelled()
    #expect(!again.cancelCall)
  }

  @Test("a reader cancelled between messages: queued ones are dropped, its next request gets the cancellation")
  func cancelledBetweenMessages() {
    var buffer = Buffer(releaseBatchBytes: 1 << 20)
    receive([message(1), message(2)], into: &buffer)
    let gone = buffer.readerCancelled()
    #expect(gone.cancelCall)
    #expect(gone.resumption?.waiter == nil)
    #expect(buffer.queuedMessages == 0)
    #expect(buffer.nextRequested().ending == .failed(.cancelled))
    #expect(buffer.nextRequested().ending == .normal)
  }

  @Test("a reader cancelled after the call ended cancels nothing, and still gets the cancellation")
  func cancelledAfterTheEnd() {
    var buffer = Buffer(releaseBatchBytes: 1 << 20)
    receive([message(1)], into: &buffer)
    _ = buffer.callFinished(nil)
    let gone = buffer.readerCancelled()
    #expect(!gone.cancelCall)
    #expect(buffer.nextRequested().ending == .failed(.cancelled))
  }

  @Test(
    "a dropped iterator cancels an open call only",
    arguments: [
      (finished: false, endDelivered: false, cancels: true),
      (finished: true, endDelivered: false, cancels: false),
      (finished: true, endDelivered: true, cancels: false),
    ])
  func droppedIterator(finished: Bool, endDelivered: Bool, cancels: Bool) {
    var buffer = Buffer(releaseBatchBytes: 1 << 20)
    receive([message(1)], into: &buffer)
    if finished { _ = buffer.callFinished(nil) }
    if endDelivered {
      _ = buffer.nextRequested()
      #expect(buffer.nextRequested().ending == .normal)
    }
    #expect(buffer.readerDropped() == cancels)
    #expect(buffer.queuedMessages == 0)
    let droppedAgain = buffer.readerDropped()
    #expect(!droppedAgain)
  }
}

extension StreamingResponseBuffer.Next {
  fileprivate var isWait: Bool {
    if case .wait = self { return true }
    return false
  }

  /// How the sequence ended, or nil when this is no end.
  fileprivate var ending: Ending? {
    guard case .end(let error) = self else { return nil }
    return error.map { .failed($0.code) } ?? .normal
  }
}

/// How a response sequence ended, comparable in expectations.
private enum Ending: Equatable {
  case normal
  case failed(EtcdError.Code)
}

extension Result where Success == [UInt8]?, Failure == EtcdError {
  fileprivate var error: EtcdError? {
    if case .failure(let error) = self { return error }
    return nil
  }
}
