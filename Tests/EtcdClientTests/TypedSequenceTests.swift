import Testing

@testable import EtcdClient

/// Every async sequence of the API throws `EtcdError`, typed: `for try await` over it gives a `catch` whose
/// `error` is an `EtcdError`.
@Suite("Typed throws of the API's sequences")
struct TypedSequenceTests {
  private static func failure<S: AsyncSequence>(of _: S.Type) -> ObjectIdentifier { ObjectIdentifier(S.Failure.self) }

  @Test func sequencesThrowEtcdError() {
    #expect(Self.failure(of: WatchSequence.self) == ObjectIdentifier(EtcdError.self))
    #expect(Self.failure(of: LeaseKeepAliveSequence.self) == ObjectIdentifier(EtcdError.self))
    #expect(Self.failure(of: EtcdElectionObservation.self) == ObjectIdentifier(EtcdError.self))
  }
}
