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
  private var buffers: [ID: SharedStreamConsumerBuffer] = [:]
  private var ids: [SharedStreamConsumerKey: ID] = [:]
  private var keys: [ID: SharedStreamConsumerKey] = [:]

  /// Records a consumer the machine named `id`, bounded by `buffer` when there is one.
  mutating func add(
    _ key: SharedStreamConsumerKey, id: ID, continuation: Continuation,
    buffer: SharedStreamConsumerBuffer? = nil
  ) {
    continuations[id] = continuation
    buffers[id] = buffer
    ids[key] = id
    keys[id] = key
  }

  /// The machine's id of the consumer that started with `key`, while it is live.
  func id(of key: SharedStreamConsumerKey) -> ID? {
    ids[key]
  }

  /// Hands an element of `bytes` bytes to a consumer: false when its buffer is full (the element is not handed
  /// over).
  @discardableResult
  func deliver(_ element: Element, bytes: Int = 0, to id: ID) -> Bool {
    if let buffer = buffers[id], !buffer.reserve(bytes: bytes) { return false }
    continuations[id]?.yield(element)
    return true
  }

  /// Ends a consumer: normally (nil) or with an error.
  mutating func finish(_ id: ID, error: EtcdError?) {
    let continuation = continuations.removeValue(forKey: id)
    buffers[id] = nil
    if let key = keys.removeValue(forKey: id) { ids[key] = nil }
    if let error { continuation?.finish(throwing: error) } else { continuation?.finish() }
  }
}

/// Bounds how many elements, and how many bytes of them, a consumer has been handed and not yet taken, shared
/// by the driver (which hands them over) and the consumer's iterator (which takes them). An empty buffer takes
/// one element whatever its size, so an element above the byte bound still goes through.
///
/// When the bound is reached the driver stops handing over and the consumer is marked detached; the
/// iterator that then takes the last buffered element learns that it drained a detached buffer and asks for
/// the consumer to be attached again. Both sides change the count under one lock, so that request is never
/// missed.
final class SharedStreamConsumerBuffer: Sendable {
  /// The most elements handed over and not yet taken.
  let limit: Int
  /// The most bytes of elements handed over and not yet taken.
  let byteLimit: Int
  private let state = Mutex<(buffered: Int, bytes: Int, detached: Bool)>((0, 0, false))

  /// Creates an empty buffer bound to `limit` elements and `byteLimit` bytes.
  init(limit: Int, byteLimit: Int = .max) {
    self.limit = limit
    self.byteLimit = byteLimit
  }

  /// Makes room for one element of `bytes` bytes: false, and the consumer is detached, when the buffer is
  /// full.
  func reserve(bytes: Int = 0) -> Bool {
    state.withLock { state in
      let fits = state.buffered < limit && state.bytes <= byteLimit - bytes
      guard state.buffered == 0 || fits, !state.detached else {
        state.detached = true
        return false
      }
      state.buffered += 1
      state.bytes += bytes
      return true
    }
  }

  /// The consumer took an element of `bytes` bytes: true when that drained the buffer of a detached consumer
  /// (which is then no longer marked detached, and is to be attached again).
  func taken(bytes: Int = 0) -> Bool {
    state.withLock { state in
      state.buffered = max(state.buffered - 1, 0)
      state.bytes = max(state.bytes - bytes, 0)
      guard state.buffered == 0, state.detached else { return false }
      state.detached = false
      return true
    }
  }
}
