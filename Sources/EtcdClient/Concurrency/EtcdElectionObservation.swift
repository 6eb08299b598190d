/// The leader of an election as it changes, from `EtcdElection.observe()` (Go's `Election.Observe`).
///
/// Each element is the leader's key-value pair: first the current leader's (or, with no leader, the first
/// candidate's to join), then one for every value the leader proclaims, then, when its key is deleted
/// (resignation, lost session), the next leader's. The work happens in `next()`, in the iterating Task:
/// nothing runs while no one iterates, and a slow reader sees every change of the leader it watches.
///
/// It ends (returns nil) when the iterating Task is cancelled, and throws `EtcdError` when a read or a watch
/// fails (`.compacted` when the history it needs was compacted; `.clientClosed`).
///
/// ```swift
/// for try await leader in election.observe() {
///   print("leader \(leader.keyString) says \(leader.valueString)")
/// }
/// ```
public struct EtcdElectionObservation: AsyncSequence, Sendable {
  /// The element type: the leader's key-value pair.
  public typealias Element = KeyValue

  let client: EtcdClient
  let prefix: [UInt8]

  /// Creates an iterator.
  public func makeAsyncIterator() -> Iterator {
    Iterator(client: client, prefix: prefix)
  }

  /// Iterates the leader's key-value pairs.
  public struct Iterator: AsyncIteratorProtocol {
    let client: EtcdClient
    let prefix: [UInt8]
    /// The watch of the current leader's key, from the revision after it was read.
    var leaderWatch: WatchSequence.Iterator?
    /// Values of the current leader that arrived in one watch response, not handed out yet.
    var pending: [KeyValue] = []

    init(client: EtcdClient, prefix: [UInt8]) {
      self.client = client
      self.prefix = prefix
    }

    /// The next leader's key-value pair; nil once the iterating Task is cancelled.
    /// - Throws: `EtcdError`.
    public mutating func next() async throws(EtcdError) -> KeyValue? {
      do {
        return try await step()
      } catch {
        if Task.isCancelled { return nil }
        throw error
      }
    }

    private mutating func step() async throws(EtcdError) -> KeyValue? {
      while true {
        if !pending.isEmpty { return pending.removeFirst() }
        if var watch = leaderWatch {
          let response = try await Self.next(&watch)
          leaderWatch = watch
          for event in response.events {
            if event.type == .delete {
              // The leader is gone: what followed in this batch is no longer the leader's.
              leaderWatch = nil
              break
            }
            pending.append(event.kv)
          }
          continue
        }
        let (leader, revision) = try await currentLeader()
        leaderWatch = client.watch(leader.key, options: WatchOptions(startRevision: revision + 1))
          .makeAsyncIterator()
        return leader
      }
    }

    /// The leader and the revision it was read at; with no leader, waits for the first candidate's put under
    /// the prefix.
    private func currentLeader() async throws(EtcdError) -> (KeyValue, Int64) {
      let response = try await client.get(prefix, options: ConcurrencyKeys.firstCreate)
      if let first = response.kvs.first { return (first, response.header.revision) }
      var watch = client.watch(
        prefix,
        options: WatchOptions(range: .prefix, startRevision: response.header.revision)
      ).makeAsyncIterator()
      while true {
        // Only a put makes a leader; a delete here would make the observer spin.
        if let put = try await Self.next(&watch).events.first(where: { $0.type == .put }) {
          return (put.kv, put.kv.modRevision)
        }
      }
    }

    private static func next(_ watch: inout WatchSequence.Iterator) async throws(EtcdError)
      -> WatchResponse
    {
      let response: WatchResponse?
      do {
        response = try await watch.next()
      } catch {
        throw EtcdError.wrapping(error)
      }
      guard let response else {
        try EtcdError.checkCancellation()
        throw EtcdError(
          code: .rpcFailed,
          status: GRPCStatus(code: .unavailable, message: "election: the watch of the leader ended")
        )
      }
      return response
    }
  }
}
