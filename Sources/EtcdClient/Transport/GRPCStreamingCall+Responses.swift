extension GRPCStreamingCall {
  /// The response messages of a streaming call, serialized, in order, taken by one reader at its own pace.
  ///
  /// Iterated once: each message taken gives its stream window back to the server (in batches), and dropping
  /// the iterator before the end cancels the call.
  struct Responses: AsyncSequence, Sendable {
    typealias Element = [UInt8]
    typealias Failure = EtcdError

    /// The call whose responses these are.
    let call: GRPCStreamingCall

    func makeAsyncIterator() -> AsyncIterator {
      AsyncIterator(lifetime: ReaderLifetime(call: call))
    }

    /// Takes the messages one by one.
    struct AsyncIterator: AsyncIteratorProtocol {
      /// Shared by the copies of this iterator; the last copy going away cancels an open call.
      private let lifetime: ReaderLifetime

      fileprivate init(lifetime: ReaderLifetime) {
        self.lifetime = lifetime
      }

      /// The next message; nil after the call ended with status OK.
      ///
      /// - Throws: the call's `EtcdError`; `EtcdError.streamCancelled` when the reading task is cancelled.
      mutating func next() async throws(EtcdError) -> [UInt8]? {
        try await lifetime.call.nextResponse()
      }

      /// The next message; as `next()`.
      mutating func next(isolation actor: isolated (any Actor)?) async throws(EtcdError) -> [UInt8]? {
        try await lifetime.call.nextResponse()
      }
    }
  }

  /// Lives as long as a response iterator and its copies: its `deinit` is the reader going away.
  fileprivate final class ReaderLifetime: Sendable {
    let call: GRPCStreamingCall

    init(call: GRPCStreamingCall) {
      self.call = call
    }

    deinit {
      call.readerDropped()
    }
  }
}
