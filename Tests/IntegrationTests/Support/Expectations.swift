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

/// Calls `body` again while it fails with an `EtcdError` of `code` (a state etcd leaves by itself, such as a
/// fresh cluster refusing reconfiguration), pausing `pause` between tries, for at most `limit`. Any other
/// error, or `code` once `limit` has passed, is thrown.
func retrying<T>(
  while code: EtcdError.Code,
  for limit: Duration,
  pause: Duration = .milliseconds(200),
  _ body: () async throws -> T
) async throws -> T {
  let deadline = ContinuousClock.now + limit
  while true {
    do {
      return try await body()
    } catch let error as EtcdError where error.code == code && ContinuousClock.now < deadline {
      try await Task.sleep(for: pause)
    }
  }
}
