import Synchronization

/// Names a consumer of a shared stream from the moment it asks to start, before the protocol's machine has
/// given it an id; its later operations (stop, cancel) name it by this key.
struct SharedStreamConsumerKey: Hashable, Sendable {
  let raw: Int
  private static let next = Atomic<Int>(0)

  /// A key no other consumer of the process has.
  static func unique() -> Self {
    SharedStreamConsumerKey(raw: next.add(1, ordering: .relaxed).oldValue)
  }
}

/// The consumers of a shared stream's protocol: each one's continuation, under the id its machine gave it and
/// under the key it started with.
struct SharedStreamConsumers<ID: Hashable & Sendable, Element: Sendable> {
  /// Where a consumer's elements go.
  typealias Continuation = AsyncThrowingStream<Element, any Error>.Continuation

  private var continuations: [ID: Continuation] = [:]
  private var ids: [SharedStreamConsumerKey: ID] = [:]
  private var keys: [ID: SharedStreamConsumerKey] = [:]

  /// Records a consumer the machine named `id`.
  mutating func add(_ key: SharedStreamConsumerKey, id: ID, continuation: Continuation) {
    continuations[id] = continuation
    ids[key] = id
    keys[id] = key
  }

  /// The machine's id of the consumer that started with `key`, while it is live.
  func id(of key: SharedStreamConsumerKey) -> ID? {
    ids[key]
  }

  /// Hands an element to a consumer.
  func deliver(_ element: Element, to id: ID) {
    continuations[id]?.yield(element)
  }

  /// Ends a consumer: normally (nil) or with an error.
  mutating func finish(_ id: ID, error: EtcdError?) {
    let continuation = continuations.removeValue(forKey: id)
    if let key = keys.removeValue(forKey: id) { ids[key] = nil }
    if let error { continuation?.finish(throwing: error) } else { continuation?.finish() }
  }
}
