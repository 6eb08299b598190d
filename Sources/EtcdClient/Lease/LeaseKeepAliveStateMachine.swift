/// The leases kept alive over one shared LeaseKeepAlive stream, as a pure state machine with time passed in.
///
/// Each kept lease is renewed a third of its TTL after its last renewal (as clientv3 does), right away when it
/// is first kept or when the stream is reopened. A lease the server reports with a TTL of 0 or less is gone
/// (revoked, or expired on the server); a lease with no renewal for a whole TTL has expired as far as this
/// client can tell. Either ends its consumers with a typed error.
struct LeaseKeepAliveStateMachine: Sendable {
  /// A consumer of one lease's responses.
  struct ConsumerID: Hashable, Comparable, Sendable {
    let raw: Int
    static func < (lhs: Self, rhs: Self) -> Bool { lhs.raw < rhs.raw }
  }

  /// What the stream's owner must do.
  enum Action: Sendable {
    /// Open the shared stream.
    case openStream
    /// Close it: no lease is kept.
    case closeStream
    /// Send a keep-alive request for a lease.
    case send(leaseID: Int64)
    /// Hand a response to a consumer.
    case deliver(ConsumerID, LeaseKeepAliveResponse)
    /// End a consumer: normally (nil) or with an error.
    case finish(ConsumerID, EtcdError?)
  }

  private struct KeptLease: Sendable {
    var consumers: Set<ConsumerID>
    /// When the next request is due (nanoseconds on the caller's monotonic clock).
    var nextSend: Int64
    /// When the lease expires without a renewal; nil before the first response.
    var deadline: Int64?
  }

  private var leases: [Int64: KeptLease] = [:]
  private var leaseOfConsumer: [ConsumerID: Int64] = [:]
  private var nextConsumer = 0
  private var streamState: StreamState = .closed

  private enum StreamState: Sendable, Hashable { case closed, opening, open }

  /// The number of leases kept.
  var leaseCount: Int { leases.count }

  /// The earliest time something is due (a request or an expiry), if any lease is kept.
  var nextWakeup: Int64? {
    leases.values.map { lease in min(lease.nextSend, lease.deadline ?? .max) }.min()
  }

  // MARK: - Inputs

  /// A consumer starts keeping `leaseID` alive.
  mutating func keep(_ leaseID: Int64, now: Int64) -> (ConsumerID, [Action]) {
    let consumer = ConsumerID(raw: nextConsumer)
    nextConsumer += 1
    leaseOfConsumer[consumer] = leaseID
    if leases[leaseID] != nil {
      leases[leaseID]?.consumers.insert(consumer)
      return (consumer, [])
    }
    leases[leaseID] = KeptLease(consumers: [consumer], nextSend: now)
    switch streamState {
    case .closed:
      streamState = .opening
      return (consumer, [.openStream])
    case .opening:
      return (consumer, [])
    case .open:
      return (consumer, tick(now: now))
    }
  }

  /// A consumer stopped; the lease stops being renewed once it has no consumer.
  mutating func stop(_ consumer: ConsumerID) -> [Action] {
    guard let leaseID = leaseOfConsumer.removeValue(forKey: consumer) else { return [] }
    var actions: [Action] = [.finish(consumer, nil)]
    leases[leaseID]?.consumers.remove(consumer)
    if leases[leaseID]?.consumers.isEmpty == true { leases[leaseID] = nil }
    actions += closeIfIdle()
    return actions
  }

  /// The stream is open: renew every kept lease now.
  mutating func streamOpened(now: Int64) -> [Action] {
    guard streamState == .opening else { return [] }
    streamState = .open
    for id in leases.keys { leases[id]?.nextSend = now }
    return tick(now: now)
  }

  /// A keep-alive response arrived.
  mutating func responseReceived(_ response: LeaseKeepAliveResponse, now: Int64) -> [Action] {
    guard var lease = leases[response.id.rawValue] else { return [] }
    let consumers = lease.consumers.sorted()
    if response.ttl <= .zero {
      leases[response.id.rawValue] = nil
      let error = EtcdError(
        code: .leaseNotFound,
        status: GRPCStatus(code: .notFound, message: "etcdserver: requested lease not found")
      )
      for consumer in consumers { leaseOfConsumer[consumer] = nil }
      return consumers.map { .finish($0, error) } + closeIfIdle()
    }
    let ttl = response.ttl.components.seconds * 1_000_000_000
    lease.nextSend = now + ttl / 3
    lease.deadline = now + ttl
    leases[response.id.rawValue] = lease
    return consumers.map { .deliver($0, response) }
  }

  /// Time passed: send the requests that are due and end leases that expired without a renewal.
  mutating func tick(now: Int64) -> [Action] {
    var actions: [Action] = []
    for id in leases.keys.sorted() {
      guard let lease = leases[id] else { continue }
      if let deadline = lease.deadline, now >= deadline {
        leases[id] = nil
        let error = EtcdError(
          code: .leaseExpired,
          status: GRPCStatus(
            code: .deadlineExceeded,
            message: "lease \(id) expired: no keep-alive response within its TTL"
          )
        )
        for consumer in lease.consumers.sorted() {
          leaseOfConsumer[consumer] = nil
          actions.append(.finish(consumer, error))
        }
        continue
      }
      if streamState == .open, now >= lease.nextSend {
        // Until a response reschedules it, the request is repeated every second.
        leases[id]?.nextSend = now + 1_000_000_000
        actions.append(.send(leaseID: id))
      }
    }
    return actions + closeIfIdle()
  }

  /// The stream broke. With `resumable`, leases stay kept (their deadlines still run) and are renewed once it
  /// reopens; otherwise every consumer ends with `error`.
  mutating func streamFailed(_ error: EtcdError, resumable: Bool) -> [Action] {
    streamState = .closed
    guard resumable else {
      let consumers = leaseOfConsumer.keys.sorted()
      leaseOfConsumer.removeAll()
      leases.removeAll()
      return consumers.map { .finish($0, error) }
    }
    guard !leases.isEmpty else { return [] }
    streamState = .opening
    return [.openStream]
  }

  /// The client is closing: every consumer ends with `error`.
  mutating func shutdown(_ error: EtcdError) -> [Action] {
    let consumers = leaseOfConsumer.keys.sorted()
    leaseOfConsumer.removeAll()
    leases.removeAll()
    let wasOpen = streamState != .closed
    streamState = .closed
    return consumers.map { .finish($0, error) } + (wasOpen ? [.closeStream] : [])
  }

  private mutating func closeIfIdle() -> [Action] {
    guard leases.isEmpty, streamState != .closed else { return [] }
    streamState = .closed
    return [.closeStream]
  }
}
