/// The responses of one watcher, in revision order.
///
/// Iterate it with `for try await`. It ends by throwing an `EtcdError` when the watch cannot go on
/// (`.compacted`, with `compactRevision` set, when its start revision was compacted; `.clientClosed`; `.noLeader`
/// with `requireLeader`; `.clusterChanged` when the stream resumed on a server of another cluster, whose
/// revisions do not continue this one's). A broken stream or connection does not end it: the watcher is created
/// again from the first revision it has not delivered. Leaving the loop, or cancelling the iterating Task,
/// cancels the watcher on the server and nothing else.
///
/// A watcher holds a bounded number of responses its consumer has not taken yet (256, or 8 MiB of keys and
/// values). A consumer that falls that
/// far behind does not hold up the other watchers of the client: its watcher is cancelled on the server and,
/// once the consumer has taken what it holds, created again from the next revision, so the consumer still
/// sees each revision once, in order (or `.compacted`, when that revision was compacted meanwhile).
public struct WatchSequence: AsyncSequence, Sendable {
  /// The element type.
  public typealias Element = WatchResponse

  let responses: AsyncThrowingStream<WatchResponse, any Error>
  /// The watcher's bounded buffer; nil when the watcher never started.
  let buffer: SharedStreamConsumerBuffer?
  /// Asks for the watcher to be created again once a detached watcher's buffer is drained.
  let drained: @Sendable () -> Void

  /// Creates an iterator.
  public func makeAsyncIterator() -> Iterator {
    Iterator(base: responses.makeAsyncIterator(), buffer: buffer, drained: drained)
  }

  /// Iterates a watcher's responses.
  public struct Iterator: AsyncIteratorProtocol {
    var base: AsyncThrowingStream<WatchResponse, any Error>.AsyncIterator
    let buffer: SharedStreamConsumerBuffer?
    let drained: @Sendable () -> Void

    /// The next response; nil after the watcher ended normally.
    /// - Throws: `EtcdError`.
    public mutating func next() async throws(EtcdError) -> WatchResponse? {
      let response: WatchResponse?
      do {
        response = try await base.next()
      } catch {
        throw EtcdError.wrapping(error)
      }
      if let response, let buffer, buffer.taken(bytes: response.bufferedBytes) { drained() }
      return response
    }
  }
}

extension EtcdClient {
  /// Watches a key or a range of keys.
  ///
  /// All watchers of a client share one Watch stream (and those with `requireLeader` a second one), as clientv3
  /// does.
  ///
  /// ```swift
  /// for try await response in client.watch("config/", options: .prefix) {
  ///   for event in response.events {
  ///     print(event.type, event.kv.keyString, event.kv.valueString, event.kv.modRevision)
  ///   }
  /// }
  /// ```
  public func watch(_ key: some EtcdBytesConvertible, options: WatchOptions = .init()) -> WatchSequence {
    let (key, rangeEnd) = options.range.encode(key: key.etcdBytes)
    let request = WatchStreamStateMachine.CreateRequest(
      key: key,
      rangeEnd: rangeEnd,
      startRevision: options.startRevision ?? 0,
      prevKV: options.prevKV,
      progressNotify: options.progressNotify,
      filterPuts: options.filterPuts,
      filterDeletes: options.filterDeletes,
      fragment: options.fragment
    )
    let (responses, consumer) = AsyncThrowingStream<WatchResponse, any Error>.makeStream()
    guard let hub = watchHub(requireLeader: options.requireLeader) else {
      consumer.finish(throwing: EtcdError.clientClosed())
      return WatchSequence(responses: responses, buffer: nil, drained: {})
    }
    let watcher = WatchStreamWatchers.Key.unique()
    consumer.onTermination = { termination in
      guard case .cancelled = termination else { return }
      hub.submit(.cancel(watcher))
    }
    let buffer = SharedStreamConsumerBuffer(
      limit: WatchStreamWatchers.bufferLimit, byteLimit: WatchStreamWatchers.bufferByteLimit)
    // With auth, the hub fetches a token before it opens the stream.
    hub.submit(.add(watcher, request, consumer, buffer))
    return WatchSequence(responses: responses, buffer: buffer, drained: { hub.submit(.drained(watcher)) })
  }

  /// Asks the server to send a progress notification to every watcher (etcd's `RequestProgress`): an empty
  /// response whose header revision every watcher has caught up with.
  public func requestWatchProgress() async throws(EtcdError) {
    for hub in existingWatchHubs() { hub.submit(.requestProgress) }
  }
}

extension EtcdClient {
  /// How many times the client's shared Watch streams were re-established after breaking (each time its
  /// watchers were created again from their next revision).
  public var watchResumptions: Int {
    get async {
      var total = 0
      for hub in existingWatchHubs() { total += await hub.resumptions }
      return total
    }
  }
}
