/// Why a history is not linearizable: how far the search got, and the operations it could not order
/// after that.
package struct LinearizabilityViolation: Sendable, CustomStringConvertible {
  /// The longest linearizable prefix the search found, as operation ids in order.
  package var linearizedPrefix: [Int]
  /// The operation whose return no order of the remaining operations could explain after the
  /// prefix.
  package var unexplainedOperation: Int
  /// The operations whose intervals overlap that return and that are not in the prefix: the
  /// smallest window in which the history goes wrong, as ids in call order (the unexplained
  /// operation included).
  package var window: [Int]
  /// The window's operations rendered one a line: id, client, call and return times, request,
  /// response.
  package var windowOperations: [String]

  /// Creates a violation report.
  package init(
    linearizedPrefix: [Int], unexplainedOperation: Int, window: [Int], windowOperations: [String]
  ) {
    self.linearizedPrefix = linearizedPrefix
    self.unexplainedOperation = unexplainedOperation
    self.window = window
    self.windowOperations = windowOperations
  }

  /// The report: the prefix's length and last ids, the unexplained operation and the window.
  package var description: String {
    let tail = linearizedPrefix.suffix(20).map(String.init).joined(separator: " ")
    let elided = linearizedPrefix.count > 20 ? "... " : ""
    return """
      not linearizable: \(linearizedPrefix.count) operations linearized (\(elided)\(tail)); \
      the return of operation \(unexplainedOperation) cannot be explained by any order of:
      \(windowOperations.map { "  " + $0 }.joined(separator: "\n"))
      """
  }
}
