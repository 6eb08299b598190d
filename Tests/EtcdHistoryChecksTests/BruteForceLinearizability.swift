import EtcdHistoryChecks

/// Whether `history` is linearizable against `model`, by trying every order that respects real time
/// and every successor of every step, with no memo and no pruning: the reference the checker is
/// compared with, for histories of a handful of operations.
///
/// A pending operation is placed like any other; its model step offers the unapplied state, which
/// stands for "never took effect".
func bruteForceIsLinearizable<Model: HistoryModel>(
  _ history: [HistoryOperation<Model.Input, Model.Output>], model: Model
) -> Bool {
  func search(_ remaining: [HistoryOperation<Model.Input, Model.Output>], _ state: Model.State)
    -> Bool
  {
    guard let earliestReturn = remaining.map(\.returnTime).min() else { return true }
    for (index, operation) in remaining.enumerated() where operation.call <= earliestReturn {
      var rest = remaining
      rest.remove(at: index)
      for next in model.step(state, operation.input, operation.output) where search(rest, next) {
        return true
      }
    }
    return false
  }
  return search(history, model.initialState)
}

/// Whether `order` (operation ids) is a linearization of `history`: every returned operation in it,
/// real time respected, and some run of the model's steps in that order possible.
func isLinearization<Model: HistoryModel>(
  _ order: [Int], of history: [HistoryOperation<Model.Input, Model.Output>], model: Model
) -> Bool {
  let byID = Dictionary(history.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
  let ordered = order.compactMap { byID[$0] }
  guard ordered.count == order.count, Set(order).count == order.count else { return false }
  let returned = history.filter { $0.output != nil }.map(\.id)
  guard Set(returned).isSubset(of: order) else { return false }
  for (position, operation) in ordered.enumerated() {
    for later in ordered[(position + 1)...] where later.returnTime < operation.call {
      return false
    }
  }
  var states = [model.initialState]
  for operation in ordered {
    states = Array(Set(states.flatMap { model.step($0, operation.input, operation.output) }))
  }
  return !states.isEmpty
}
