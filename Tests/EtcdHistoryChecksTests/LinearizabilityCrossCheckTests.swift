import EtcdHistoryChecks
import Testing

/// The checker's verdicts against ``bruteForceIsLinearizable(_:model:)`` on many small random
/// histories, half of them with one answer changed: its memo and prunings must not change a
/// verdict, and every order it gives must be a linearization.
@Suite struct LinearizabilityCrossCheckTests {
  /// Operations `0..<count` with intervals around true points 10 apart, a fifth of them pending.
  static func intervals(
    _ count: Int, using random: inout SplitMix64
  ) -> [(call: UInt64, returned: UInt64, pending: Bool)] {
    (0..<count).map { index in
      let point = 100 + 10 * UInt64(index)
      return (
        point - UInt64.random(in: 0...15, using: &random),
        point + UInt64.random(in: 0...15, using: &random),
        Int.random(in: 0..<5, using: &random) == 0
      )
    }
  }

  @Test(arguments: 0..<8)
  func registerVerdictsMatchBruteForce(_ batch: Int) {
    var random = SplitMix64(seed: 1_000 + UInt64(batch))
    let model = RegisterModel()
    var violations = 0
    for _ in 0..<50 {
      let count = Int.random(in: 2...7, using: &random)
      var value = 0
      var history: [RegisterOperation] = []
      for (id, interval) in Self.intervals(count, using: &random).enumerated() {
        let isWrite = Bool.random(using: &random)
        if isWrite { value = Int.random(in: 0...2, using: &random) }
        history.append(
          RegisterOperation(
            id: id, client: id, input: isWrite ? .write(value) : .read, call: interval.call,
            outcome: interval.pending
              ? .pending : .returned(isWrite ? .written : .value(value), at: interval.returned)))
      }
      if Bool.random(using: &random),
        let index = history.indices.filter({ history[$0].output.map { $0 != .written } ?? false })
          .randomElement(using: &random),
        case .returned(_, let at) = history[index].outcome
      {
        history[index].outcome = .returned(.value(Int.random(in: 0...2, using: &random)), at: at)
      }
      if Self.expectBruteForceVerdict(history, model: model) { violations += 1 }
    }
    #expect(violations > 0)
  }

  @Test(arguments: 0..<8)
  func etcdVerdictsMatchBruteForce(_ batch: Int) {
    var random = SplitMix64(seed: 2_000 + UInt64(batch))
    let model = EtcdKVModel(initialRevision: 1)
    var violations = 0
    for _ in 0..<40 {
      let count = Int.random(in: 2...6, using: &random)
      var state = model.initialState
      var history: [EtcdHistoryOperation] = []
      for (id, interval) in Self.intervals(count, using: &random).enumerated() {
        let request = Self.randomRequest(id, using: &random)
        let execution = state.executing(request)
        state = execution.state
        history.append(
          EtcdHistoryOperation(
            id: id, client: id, input: request, call: interval.call,
            outcome: interval.pending
              ? .pending : .returned(execution.response, at: interval.returned)))
      }
      if Bool.random(using: &random),
        let index = history.indices.filter({ history[$0].output != nil }).randomElement(
          using: &random),
        case .returned(let response, let at) = history[index].outcome
      {
        history[index].outcome = .returned(Self.mutated(response, using: &random), at: at)
      }
      if Self.expectBruteForceVerdict(history, model: model) { violations += 1 }
    }
    #expect(violations > 0)
  }

  /// Checks `history` both ways and expects the same verdict, and a true linearization when there
  /// is one. Returns whether the checker found a violation.
  static func expectBruteForceVerdict<Model: HistoryModel>(
    _ history: [HistoryOperation<Model.Input, Model.Output>], model: Model
  ) -> Bool {
    let expected = bruteForceIsLinearizable(history, model: model)
    let result = LinearizabilityChecker(model: model).check(history)
    #expect((result.order != nil) == expected, "\(history)")
    #expect(result.violation != nil || result.order != nil, "\(history)")
    if let order = result.order {
      #expect(isLinearization(order, of: history, model: model), "\(order) \(history)")
    }
    return result.violation != nil
  }

  static func randomRequest(_ id: Int, using random: inout SplitMix64) -> KVRequest {
    let key = Bool.random(using: &random) ? "a" : "b"
    switch Int.random(in: 0..<6, using: &random) {
    case 0, 1: return .put(key: key, value: "v\(id)")
    case 2: return .range(key: key, rangeEnd: nil)
    case 3: return .range(key: "a", rangeEnd: "\0")
    case 4: return .delete(key: key, rangeEnd: nil)
    default:
      return .txn(
        KVTxn(
          compares: [KVCompare(key: key, target: .version(0), result: .equal)],
          success: [.put(key: key, value: "v\(id)")], failure: [.range(key: key, rangeEnd: nil)]))
    }
  }

  /// `response` with its revision moved by one, or a range's first value changed.
  static func mutated(_ response: KVResponse, using random: inout SplitMix64) -> KVResponse {
    let shift: Int64 = Bool.random(using: &random) ? 1 : -1
    switch response {
    case .put(let revision): return .put(revision: revision + shift)
    case .range(let revision, var kvs):
      guard !kvs.isEmpty, Bool.random(using: &random) else {
        return .range(revision: revision + shift, kvs: kvs)
      }
      kvs[0].value = "changed"
      return .range(revision: revision, kvs: kvs)
    case .delete(let revision, let deleted):
      return .delete(revision: revision + shift, deleted: deleted)
    case .txn(let revision, let succeeded, let results):
      return .txn(revision: revision + shift, succeeded: succeeded, results: results)
    }
  }
}
