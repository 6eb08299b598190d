import Tracing

/// A call's span, held by reference in `ClientCallInfo` (see `ClientCallInfo.traced`).
final class CallSpan: Sendable {
  /// The span.
  let span: any Span

  /// Holds `span`.
  init(_ span: any Span) {
    self.span = span
  }
}
