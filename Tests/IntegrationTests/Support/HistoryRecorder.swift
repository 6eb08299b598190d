import EtcdHistoryChecks
import Synchronization

@testable import EtcdClient

/// Records every KV call several clients make, for the linearizability checker: the request, when it was
/// invoked, and its response with when it came back, or `pending` when the call failed (a write that timed out
/// or lost its connection may or may not have been applied).
///
/// Times are nanoseconds since the recorder was made, from one monotonic clock for every client, so an
/// operation that returned before another was invoked is ordered before it.
final class HistoryRecorder: Sendable {
  private struct State {
    var operations: [EtcdHistoryOperation] = []
    var failures: [String: Int] = [:]
  }

  private let origin = ContinuousClock.now
  private let state = Mutex(State())

  /// The operations recorded so far, in the order they were invoked.
  var operations: [EtcdHistoryOperation] {
    state.withLock { $0.operations.sorted { $0.call < $1.call } }
  }

  /// How many calls failed, by error code: each is a pending operation of the history.
  var failures: [String: Int] { state.withLock { $0.failures } }

  /// Nanoseconds since the recorder was made.
  func now() -> UInt64 {
    let elapsed = (ContinuousClock.now - origin).components
    return UInt64(elapsed.seconds) * 1_000_000_000 + UInt64(elapsed.attoseconds / 1_000_000_000)
  }

  /// Sends `request` with `client`, as client number `clientIndex`, and records it.
  ///
  /// - Returns: The response, or nil when the call failed.
  @discardableResult
  func execute(_ request: KVRequest, client: EtcdClient, clientIndex: Int, timeout: Duration) async -> KVResponse? {
    let call = now()
    let outcome: HistoryOperation<KVRequest, KVResponse>.Outcome
    var response: KVResponse? = nil
    do {
      let answer = try await Self.send(request, client: client, timeout: timeout)
      outcome = .returned(answer, at: now())
      response = answer
    } catch {
      outcome = .pending
      state.withLock { $0.failures["\(error.code)", default: 0] += 1 }
    }
    state.withLock { state in
      let operation = EtcdHistoryOperation(
        id: state.operations.count, client: clientIndex, input: request, call: call, outcome: outcome)
      state.operations.append(operation)
    }
    return response
  }

  private static func send(_ request: KVRequest, client: EtcdClient, timeout: Duration) async throws(EtcdError)
    -> KVResponse
  {
    switch request {
    case .put(let key, let value):
      return .put(revision: try await client.put(key, value, timeout: timeout).header.revision)
    case .range(let key, let rangeEnd):
      let response = try await client.get(key, options: GetOptions(range: Self.range(rangeEnd)), timeout: timeout)
      return .range(revision: response.header.revision, kvs: response.kvs.map(KeyValueRecord.init))
    case .delete(let key, let rangeEnd):
      let response = try await client.delete(
        key, options: DeleteOptions(range: Self.range(rangeEnd)), timeout: timeout)
      return .delete(revision: response.header.revision, deleted: response.deleted)
    case .txn(let txn):
      let response = try await client.txn(Self.clientTxn(txn), timeout: timeout)
      return Self.record(response)
    }
  }

  private static func range(_ rangeEnd: String?) -> KeyRangeEnd {
    rangeEnd.map { .end(Array($0.utf8)) } ?? .single
  }

  private static func clientTxn(_ txn: KVTxn) -> Txn {
    func operation(_ request: KVRequest) -> TxnOperation {
      switch request {
      case .put(let key, let value): .put(key, value)
      case .range(let key, let rangeEnd): .get(key, options: GetOptions(range: range(rangeEnd)))
      case .delete(let key, let rangeEnd): .delete(key, options: DeleteOptions(range: range(rangeEnd)))
      case .txn(let nested): .txn(clientTxn(nested))
      }
    }
    func compare(_ compare: KVCompare) -> Compare {
      let op: Compare.Operator =
        switch compare.result {
        case .equal: .equal
        case .notEqual: .notEqual
        case .less: .less
        case .greater: .greater
        }
      return switch compare.target {
      case .value(let value): .value(compare.key, op, value)
      case .version(let version): .version(compare.key, op, version)
      case .createRevision(let revision): .createRevision(compare.key, op, revision)
      case .modRevision(let revision): .modRevision(compare.key, op, revision)
      }
    }
    return Txn(if: txn.compares.map(compare), then: txn.success.map(operation), else: txn.failure.map(operation))
  }

  private static func record(_ response: TxnResponse) -> KVResponse {
    let results = response.responses.map { result -> KVResponse in
      switch result {
      case .put(let put): .put(revision: put.header.revision)
      case .get(let get): .range(revision: get.header.revision, kvs: get.kvs.map(KeyValueRecord.init))
      case .delete(let delete): .delete(revision: delete.header.revision, deleted: delete.deleted)
      case .txn(let nested): record(nested)
      }
    }
    return .txn(revision: response.header.revision, succeeded: response.succeeded, results: results)
  }
}

extension KeyValueRecord {
  /// The record of a key-value the client returned (keys and values are UTF-8 in these tests).
  init(_ kv: KeyValue) {
    self.init(
      key: kv.keyString, value: kv.valueString, createRevision: kv.createRevision, modRevision: kv.modRevision,
      version: kv.version)
  }
}
