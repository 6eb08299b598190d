import GRPCProtocol
import SwiftProtobuf

// Short-lived streaming calls (one LeaseKeepAlive round trip, a Snapshot download) with a deadline.
//
// `bidirectionalStream(_:)` opens its calls without a deadline, as the long-lived Watch and
// keep-alive streams need. A short-lived call still owes its caller a bound, so it is kept here: a
// timer task races the body and, when it wins, cancels the body's task, which ends the response
// sequence and resets the stream.

extension EtcdClient {
  /// Opens a streaming call for `method`, runs `body` with it under `timeout`, and cancels the call
  /// afterwards if it is still open.
  ///
  /// - Parameters:
  ///   - timeout: The bound on the whole call; nil for none.
  ///   - body: Sends the requests and reads the responses.
  /// - Throws: `EtcdError`: the body's, `.deadlineExceeded` when the timeout passes first,
  ///   `.cancelled` when the caller's Task is cancelled.
  func withStreamingCall<Value: Sendable>(
    _ method: RPCMethod,
    timeout: Duration?,
    _ body: @escaping @Sendable (GRPCStreamingCall) async throws(EtcdError) -> Value
  ) async throws(EtcdError) -> Value {
    let call = try bidirectionalStream(method)
    defer { call.cancel() }
    guard let timeout else { return try await body(call) }
    let outcome: StreamingCallOutcome<Value>
    do {
      outcome = try await withThrowingTaskGroup(of: StreamingCallOutcome<Value>.self) { group in
        group.addTask { .finished(try await body(call)) }
        group.addTask {
          try await Task.sleep(for: timeout)
          return .timedOut
        }
        defer { group.cancelAll() }
        guard let first = try await group.next() else { return .timedOut }
        return first
      }
    } catch let error as EtcdError {
      throw error
    } catch {
      // Only Task.sleep throws anything else: CancellationError, because the caller's Task was
      // cancelled.
      throw .streamCancelled
    }
    switch outcome {
    case .finished(let value):
      return value
    case .timedOut:
      throw EtcdError(
        code: .deadlineExceeded,
        status: GRPCCallStateMachine.deadlineExceededStatus
      )
    }
  }
}

private enum StreamingCallOutcome<Value: Sendable>: Sendable {
  case finished(Value)
  case timedOut
}

extension EtcdError {
  /// The error of a streaming call whose reading Task was cancelled.
  static var streamCancelled: EtcdError {
    EtcdError(
      code: .cancelled,
      status: GRPCCallStateMachine.cancelledStatus
    )
  }
}

/// Reads a streaming call's response messages in order, decoded.
struct GRPCResponseReader<Message: SwiftProtobuf.Message> {
  private var iterator: GRPCStreamingCall.Responses.AsyncIterator

  /// A reader of `call`'s responses; a call's responses can be read once.
  init(_ call: GRPCStreamingCall, as: Message.Type = Message.self) {
    iterator = call.responses.makeAsyncIterator()
  }

  /// The next message, or nil when the call ended with status OK.
  ///
  /// - Throws: The call's `EtcdError`; `.cancelled` when the reading Task was cancelled (the
  ///   response sequence then ends early); `.invalidResponse` for a message that does not decode.
  mutating func next() async throws(EtcdError) -> Message? {
    guard let bytes = try await iterator.next() else {
      if Task.isCancelled { throw .streamCancelled }
      return nil
    }
    do {
      return try Message(serializedBytes: bytes)
    } catch {
      throw EtcdError(
        code: .invalidResponse,
        status: GRPCStatus(
          code: .internal,
          message: "grpc: failed to unmarshal the received message: \(error)"
        ),
        cause: error
      )
    }
  }
}
