import Testing

@testable import EtcdClient

/// Runs `body`, which must throw an `EtcdError` with `code` (and, when given, gRPC status `grpcCode`).
/// Returns the error for further checks.
@discardableResult
func expectEtcdError(
  _ code: EtcdError.Code,
  grpcCode: GRPCStatusCode? = nil,
  sourceLocation: SourceLocation = #_sourceLocation,
  _ body: () async throws -> Void
) async -> EtcdError? {
  do {
    try await body()
    Issue.record("expected EtcdError \(code), but the call succeeded", sourceLocation: sourceLocation)
    return nil
  } catch let error as EtcdError {
    #expect(error.code == code, "\(error)", sourceLocation: sourceLocation)
    if let grpcCode {
      #expect(error.status.code == grpcCode, "\(error)", sourceLocation: sourceLocation)
    }
    return error
  } catch {
    Issue.record("expected EtcdError \(code), got \(error)", sourceLocation: sourceLocation)
    return nil
  }
}
