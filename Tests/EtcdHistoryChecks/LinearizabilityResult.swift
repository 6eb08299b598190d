/// The verdict of ``LinearizabilityChecker/check(_:)``.
package enum LinearizabilityResult: Sendable {
  /// The history is linearizable; `order` is one linearization, as operation ids. Pending
  /// operations that it does not apply (and pending reads) are left out.
  case linearizable(order: [Int])
  /// No linearization exists.
  case violation(LinearizabilityViolation)
  /// The search budget ran out after `steps` model steps: neither proven nor refuted.
  case inconclusive(steps: Int)
}
