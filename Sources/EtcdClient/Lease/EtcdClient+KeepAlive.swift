/// The keep-alive responses of one lease, as `EtcdClient.keepAlive(_:)` renews it.
///
/// Ends by throwing `EtcdError` with `.leaseNotFound` when the lease was revoked or expired on the server,
/// `.leaseExpired` when no renewal succeeded within its TTL (the server was unreachable meanwhile), or
/// `.clientClosed`. Leaving the loop, or cancelling the iterating Task, stops renewing.
public struct LeaseKeepAliveSequence: AsyncSequence, Sendable {
  /// The element type.
  public typealias Element = LeaseKeepAliveResponse

  let responses: AsyncThrowingStream<LeaseKeepAliveResponse, any Error>

  /// Creates an iterator.
  public func makeAsyncIterator() -> Iterator {
    Iterator(base: responses.makeAsyncIterator())
  }

  /// Iterates the responses.
  public struct Iterator: AsyncIteratorProtocol {
    var base: AsyncThrowingStream<LeaseKeepAliveResponse, any Error>.AsyncIterator

    /// The next response.
    /// - Throws: `EtcdError`.
    public mutating func next() async throws(EtcdError) -> LeaseKeepAliveResponse? {
      do {
        return try await base.next()
      } catch {
        throw EtcdError.wrapping(error)
      }
    }
  }
}

extension EtcdClient {
  /// Keeps a lease alive for as long as the returned sequence is iterated: the lease is renewed a third of its
  /// TTL after each renewal, over one LeaseKeepAlive stream shared by every lease of the client.
  ///
  /// ```swift
  /// let lease = try await client.grantLease(ttl: .seconds(10))
  /// try await client.put("service/instance-1", "10.0.0.1:8080", options: .init(lease: lease.id))
  /// for try await renewal in client.keepAlive(lease.id) {
  ///   print("lease \(renewal.id) renewed for \(renewal.ttl)")
  /// }
  /// ```
  public func keepAlive(_ leaseID: LeaseID) -> LeaseKeepAliveSequence {
    let (responses, consumer) = AsyncThrowingStream<LeaseKeepAliveResponse, any Error>.makeStream()
    guard let hub = keepAliveHub() else {
      consumer.finish(throwing: EtcdError.clientClosed())
      return LeaseKeepAliveSequence(responses: responses)
    }
    let key = LeaseKeepAliveLeases.Key.unique()
    consumer.onTermination = { termination in
      guard case .cancelled = termination else { return }
      hub.submit(.stop(key))
    }
    // With auth, the hub fetches a token before it opens the stream.
    hub.submit(.keep(key, leaseID: leaseID.rawValue, consumer))
    return LeaseKeepAliveSequence(responses: responses)
  }
}
