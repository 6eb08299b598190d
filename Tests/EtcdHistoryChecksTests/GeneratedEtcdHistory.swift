import EtcdHistoryChecks

/// A history made the way the checker is meant to see one: random requests run on the model one
/// after another (the truth), then each given an interval around its true point as concurrent
/// clients would record it; some answers lost (pending, though applied), and some pending puts
/// never applied at all.
struct GeneratedEtcdHistory {
  /// The recorded operations, by id.
  var operations: [EtcdHistoryOperation]
  /// The ids of the operations that took effect, in the true order.
  var trueOrder: [Int]
  /// What happened at each revision in truth.
  var trueLog: RevisionLog
  /// The number of clients the operations are spread over (a client's operations never overlap).
  var clientCount: Int

  static let model = EtcdKVModel(initialRevision: 1)
  static let keys = (0..<10).map { "k\($0)" }

  /// - Parameters:
  ///   - count: the number of operations run in truth.
  ///   - seed: the random seed.
  ///   - spread: how far a call or return lies from its operation's true point at most (points are
  ///     100 apart), which bounds how many operations overlap.
  init(count: Int, seed: UInt64, spread: UInt64 = 250) {
    var random = SplitMix64(seed: seed)
    var state = Self.model.initialState
    var events: [Int64: [WatchEventRecord]] = [:]
    var operations: [EtcdHistoryOperation] = []
    for id in 0..<count {
      let request = Self.randomRequest(id: id, state: state, using: &random)
      let execution = state.executing(request)
      if !execution.events.isEmpty { events[execution.state.revision] = execution.events }
      state = execution.state
      let point = 1_000 + 100 * UInt64(id)
      let call = point - UInt64.random(in: 0...spread, using: &random)
      let returned = point + UInt64.random(in: 0...spread, using: &random)
      let lost = Int.random(in: 0..<100, using: &random) < 3
      operations.append(
        EtcdHistoryOperation(
          id: id, client: 0, input: request, call: call,
          outcome: lost ? .pending : .returned(execution.response, at: returned)))
    }
    trueOrder = operations.map(\.id)
    trueLog = RevisionLog(events: events, through: state.revision, from: 2)
    // Puts whose requests never reached the store.
    for index in 0..<(count / 200) {
      let point = 1_000 + 100 * UInt64(Int.random(in: 0..<count, using: &random)) + 50
      operations.append(
        EtcdHistoryOperation(
          id: count + index, client: 0,
          input: .put(key: Self.keys[index % Self.keys.count], value: "lost\(index)"),
          call: point, outcome: .pending))
    }
    // Clients: each operation goes to the first client free at its call; a pending operation keeps
    // its client busy until its timeout.
    var busyUntil: [UInt64] = []
    for index in operations.indices.sorted(by: { operations[$0].call < operations[$1].call }) {
      let operation = operations[index]
      let end = operation.output == nil ? operation.call + 3 * spread : operation.returnTime
      if let free = busyUntil.firstIndex(where: { $0 < operation.call }) {
        operations[index].client = free
        busyUntil[free] = end
      } else {
        operations[index].client = busyUntil.count
        busyUntil.append(end)
      }
    }
    clientCount = busyUntil.count
    self.operations = operations
  }

  private static func randomRequest(
    id: Int, state: EtcdKVState, using random: inout SplitMix64
  ) -> KVRequest {
    let key = keys.randomElement(using: &random) ?? "k0"
    let other = keys.randomElement(using: &random) ?? "k1"
    switch Int.random(in: 0..<100, using: &random) {
    case 0..<35:
      return .put(key: key, value: "v\(id)")
    case 35..<50:
      return .range(key: key, rangeEnd: nil)
    case 50..<55:
      return .range(key: "k", rangeEnd: "l")
    case 55..<60:
      return .range(key: key, rangeEnd: "\0")
    case 60..<66:
      return .delete(key: key, rangeEnd: nil)
    case 66..<70:
      return .delete(key: "k3", rangeEnd: "k6")
    default:
      let current = state.keys[key]
      let targets: [KVCompare.Target] = [
        .value(current?.value ?? "v\(id)"), .version(current?.version ?? 0),
        .modRevision(current?.modRevision ?? state.revision),
        .createRevision(current?.createRevision ?? 0),
      ]
      let results: [KVCompare.Result] = [.equal, .equal, .notEqual, .less, .greater]
      let compare = KVCompare(
        key: key, target: targets.randomElement(using: &random) ?? .version(0),
        result: results.randomElement(using: &random) ?? .equal)
      return .txn(
        KVTxn(
          compares: [compare],
          success: [.put(key: other, value: "v\(id)"), .range(key: other, rangeEnd: nil)],
          failure: [.range(key: key, rangeEnd: nil), .delete(key: other, rangeEnd: nil)]))
    }
  }
}
