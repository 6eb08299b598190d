/// Decides whether a history is linearizable with respect to a ``HistoryModel``: whether its
/// operations can be put in one order that respects real time (an operation that returned before
/// another was called comes first) and in which each one's answer is the model's.
///
/// The search is Wing & Gong's, with Lowe's memo: the calls and returns sorted by time (a pending
/// operation returns at +infinity) form a doubly linked list; a depth-first search takes the first
/// call whose operation the model accepts from the current state, lifts its call and return out of
/// the list and starts again from the head; reaching a return whose operation is not yet linearized
/// undoes the last choice (its next successor state, or the next call). A memo of (linearized set,
/// state) pairs already visited cuts repeated work. Model steps may branch.
///
/// Left alone, a refutation tries every interleaving; sound prunings keep it small. An operation
/// that leaves the state as it is (a read, a pending write not applied) could move to any earlier
/// point where it fits, since nothing unlinearized there returned before its call: so once such a
/// placement fails, that operation is not placed as the identity again below that node, and a
/// read-only operation (``HistoryModel/isReadOnly(_:)``) that fits is never skipped, since its node
/// fails with it. A search state is dropped as soon as the model says a returned operation still to
/// linearize can no longer answer as it did (``HistoryModel/cannotAnswer(_:_:from:)``). The model
/// sees the whole history first (``HistoryModel/prepared(for:)``), and pending operations with
/// read-only inputs are left out.
///
/// ```swift
/// let result = LinearizabilityChecker(model: EtcdKVModel(initialRevision: 1)).check(history)
/// if case .violation(let violation) = result { Issue.record("\(violation)") }
/// ```
package struct LinearizabilityChecker<Model: HistoryModel> {
  /// The sequential specification.
  package var model: Model
  /// The most model steps one check takes before it answers `.inconclusive`.
  package var maxSteps: Int

  /// Creates a checker against `model` with a budget of `maxSteps` model steps.
  package init(model: Model, maxSteps: Int = 2_000_000) {
    self.model = model
    self.maxSteps = maxSteps
  }

  /// One call or return of the sorted history.
  private struct Entry {
    /// The operation's index in the checked operations.
    var operation: Int
    var isCall: Bool
    var time: UInt64
    /// For a call, the index of its return entry.
    var returnEntry: Int
  }

  /// One linearized operation on the search stack.
  private struct Frame {
    var callEntry: Int
    var stateBefore: Model.State
    var successors: [Model.State]
    var chosen: Int
  }

  private struct MemoKey: Hashable {
    var linearized: OperationSet
    var state: Model.State
  }

  /// Checks `history` (operation ids unique).
  ///
  /// Pending operations whose input the model calls read-only are left out first: they never change
  /// the state and have no answer to check.
  package func check(_ history: [HistoryOperation<Model.Input, Model.Output>])
    -> LinearizabilityResult
  {
    let operations = history.filter { $0.output != nil || !model.isReadOnly($0.input) }
    let preparedModel = model.prepared(for: operations)
    let entries = Self.sortedEntries(operations)
    let head = entries.count
    // The list: next/previous entry index, `head` the sentinel, -1 the end.
    var next = Array(repeating: -1, count: entries.count + 1)
    var previous = Array(repeating: head, count: entries.count + 1)
    for index in entries.indices {
      next[index] = index + 1 < entries.count ? index + 1 : -1
      previous[index] = index == 0 ? head : index - 1
    }
    next[head] = entries.isEmpty ? -1 : 0
    func unlink(_ entry: Int) {
      next[previous[entry]] = next[entry]
      if next[entry] != -1 { previous[next[entry]] = previous[entry] }
    }
    func relink(_ entry: Int) {
      next[previous[entry]] = entry
      if next[entry] != -1 { previous[next[entry]] = entry }
    }

    var state = preparedModel.initialState
    var linearized = OperationSet(count: operations.count)
    var memo: Set<MemoKey> = []
    var stack: [Frame] = []
    var steps = 0
    var failure: (depth: Int, prefix: [Int], returnEntry: Int)?
    // Operations whose identity step (a successor equal to the state) failed at the node of the
    // given depth: below that node, placing them as the identity again cannot succeed either (the
    // earlier placement would have), so their identity successor is left out there.
    var identityFailed = Array(repeating: false, count: operations.count)
    var identityFailures: [(depth: Int, operation: Int)] = []
    func noteIdentityFailed(
      _ operation: Int, at before: Model.State, among successors: [Model.State]
    ) {
      guard !identityFailed[operation], successors.contains(before) else { return }
      identityFailed[operation] = true
      identityFailures.append((stack.count, operation))
    }

    // Index of the first successor from `start` on whose (linearized, state) pair is new.
    func firstUnvisited(_ successors: [Model.State], from start: Int) -> Int? {
      for index in successors.indices.dropFirst(start)
      where memo.insert(MemoKey(linearized: linearized, state: successors[index])).inserted {
        return index
      }
      return nil
    }
    var cursor = next[head]
    var atNewNode = true
    func push(_ callEntry: Int, before: Model.State, _ successors: [Model.State], chosen: Int) {
      stack.append(
        Frame(callEntry: callEntry, stateBefore: before, successors: successors, chosen: chosen))
      state = successors[chosen]
      unlink(callEntry)
      unlink(entries[callEntry].returnEntry)
      cursor = next[head]
      atNewNode = true
    }
    // The return entry of an operation called before the first return in the list that must still
    // be linearized but no longer can be, if any: the current state is dead.
    func unanswerableReturn() -> Int? {
      var candidate = next[head]
      while candidate != -1, entries[candidate].isCall {
        let operation = operations[entries[candidate].operation]
        if let output = operation.output,
          preparedModel.cannotAnswer(operation.input, output, from: state)
        {
          return entries[candidate].returnEntry
        }
        candidate = next[candidate]
      }
      return nil
    }

    // Each pass either takes a model step (at most maxSteps) or pops a frame pushed by one.
    while next[head] != -1 {
      let entry = entries[cursor]
      let operation = operations[entry.operation]
      var stuckReturn = cursor
      let unanswerable = atNewNode ? unanswerableReturn() : nil
      atNewNode = false
      if let unanswerable {
        stuckReturn = unanswerable
      } else if entry.isCall {
        if steps >= maxSteps { return .inconclusive(steps: steps) }
        steps += 1
        var successors = preparedModel.step(state, operation.input, operation.output)
        if identityFailed[entry.operation] { successors.removeAll { $0 == state } }
        linearized.insert(entry.operation)
        if let chosen = firstUnvisited(successors, from: 0) {
          push(cursor, before: state, successors, chosen: chosen)
          continue
        }
        linearized.remove(entry.operation)
        // A read-only operation that fits but whose next state failed before fails this node too
        // (see below); anything else is skipped here.
        if successors.isEmpty || !preparedModel.isReadOnly(operation.input) {
          noteIdentityFailed(entry.operation, at: state, among: successors)
          cursor = next[cursor]
          continue
        }
        stuckReturn = entry.returnEntry
      }
      // A return whose operation no order so far explains (or will).
      if stack.count > failure?.depth ?? -1 {
        failure = (
          stack.count, stack.map { operations[entries[$0.callEntry].operation].id }, stuckReturn
        )
      }
      var exhausted = true
      // Each pass pops one frame: bounded by the stack.
      while let frame = stack.popLast() {
        while let last = identityFailures.last, last.depth > stack.count {
          identityFailed[last.operation] = false
          identityFailures.removeLast()
        }
        relink(entries[frame.callEntry].returnEntry)
        relink(frame.callEntry)
        state = frame.stateBefore
        if let chosen = firstUnvisited(frame.successors, from: frame.chosen + 1) {
          push(frame.callEntry, before: frame.stateBefore, frame.successors, chosen: chosen)
          exhausted = false
          break
        }
        let operation = entries[frame.callEntry].operation
        linearized.remove(operation)
        // A read-only operation the model accepted here can be linearized here in any completion
        // that linearizes it later (it changes no state, and no unlinearized operation returned
        // before its call), so skipping it cannot help: its frame's node has failed too.
        if preparedModel.isReadOnly(operations[operation].input) { continue }
        noteIdentityFailed(operation, at: frame.stateBefore, among: frame.successors)
        cursor = next[frame.callEntry]
        exhausted = false
        break
      }
      if exhausted { break }
    }

    if next[head] == -1 {
      let order = stack.compactMap { frame -> Int? in
        let operation = operations[entries[frame.callEntry].operation]
        let applied = operation.output != nil || frame.successors[frame.chosen] != frame.stateBefore
        return applied ? operation.id : nil
      }
      return .linearizable(order: order)
    }
    guard let failure else { return .inconclusive(steps: steps) }
    return .violation(violation(failure.prefix, stuckAt: failure.returnEntry, entries, operations))
  }

  /// The calls and returns of `operations`, sorted by time, calls before returns at equal times (so
  /// operations that touch overlap).
  private static func sortedEntries(
    _ operations: [HistoryOperation<Model.Input, Model.Output>]
  ) -> [Entry] {
    var unsorted: [Entry] = []
    unsorted.reserveCapacity(operations.count * 2)
    for (index, operation) in operations.enumerated() {
      unsorted.append(Entry(operation: index, isCall: true, time: operation.call, returnEntry: -1))
      unsorted.append(
        Entry(operation: index, isCall: false, time: operation.returnTime, returnEntry: -1))
    }
    var entries = unsorted.sorted {
      if $0.time != $1.time { return $0.time < $1.time }
      if $0.isCall != $1.isCall { return $0.isCall }
      return $0.operation < $1.operation
    }
    var returnEntryOfOperation = Array(repeating: -1, count: operations.count)
    for (index, entry) in entries.enumerated() where !entry.isCall {
      returnEntryOfOperation[entry.operation] = index
    }
    for index in entries.indices where entries[index].isCall {
      entries[index].returnEntry = returnEntryOfOperation[entries[index].operation]
    }
    return entries
  }

  /// The report for a search whose deepest prefix `prefix` got stuck at return entry `stuck`: the
  /// window is every operation not in the prefix called before that return.
  private func violation(
    _ prefix: [Int], stuckAt stuck: Int, _ entries: [Entry],
    _ operations: [HistoryOperation<Model.Input, Model.Output>]
  ) -> LinearizabilityViolation {
    let linearizedIDs = Set(prefix)
    let returnTime = entries[stuck].time
    let window = operations.filter { !linearizedIDs.contains($0.id) && $0.call <= returnTime }
      .sorted { ($0.call, $0.id) < ($1.call, $1.id) }
    return LinearizabilityViolation(
      linearizedPrefix: prefix, unexplainedOperation: operations[entries[stuck].operation].id,
      window: window.map(\.id), windowOperations: window.map(Self.render))
  }

  /// `#id client c [call, return] input -> output` for a report.
  private static func render(_ operation: HistoryOperation<Model.Input, Model.Output>) -> String {
    switch operation.outcome {
    case .returned(let output, let at):
      "#\(operation.id) client \(operation.client) [\(operation.call), \(at)] \(operation.input) -> \(output)"
    case .pending:
      "#\(operation.id) client \(operation.client) [\(operation.call), pending] \(operation.input)"
    }
  }
}
