import Foundation
import Testing
import LoopbackTestSupport

#if canImport(Glibc)
  import Glibc
#endif

@testable import EtcdClient

/// `Support/misbehaving-server.py` in one of its modes, on a free loopback port, stopped by PID.
private func misbehavingServer(mode: String) async throws -> LoopbackServerProcess {
  try await .script("misbehaving-server.py", arguments: [mode])
}

/// Endpoints that are not etcd's gRPC port: each call gets a typed error naming the endpoint within its
/// deadline, and a client of a real etcd in the same process is not disturbed.
@Suite("Wrong and misbehaving peers", .serialized)
struct BadPeerTests {
  /// Calls `endpoint` the way a user would, checks the failure is typed, prompt and names the endpoint, and
  /// that `healthy` still works afterwards.
  private func expectCleanFailure(
    _ endpoint: String,
    codes: Set<EtcdError.Code>,
    messageContains expected: String? = nil,
    healthy: EtcdClient,
    sourceLocation: SourceLocation = #_sourceLocation
  ) async throws {
    var configuration = EtcdClient.Configuration(endpoints: [endpoint])
    configuration.dialTimeout = .seconds(1)
    let client = try EtcdClient(configuration: configuration)
    defer { Task { await client.close() } }
    for _ in 0..<2 {
      let began = ContinuousClock.now
      do {
        _ = try await client.get("k", timeout: .seconds(1))
        Issue.record("a call to \(endpoint) succeeded", sourceLocation: sourceLocation)
      } catch {
        #expect(codes.contains(error.code), "\(error)", sourceLocation: sourceLocation)
        #expect(error.endpoint == endpoint, "\(error)", sourceLocation: sourceLocation)
        if let expected {
          #expect(error.message.contains(expected), "\(error)", sourceLocation: sourceLocation)
        }
      }
      // Bounded by the deadline (1 s; the client retries until then) with room for a loaded machine.
      #expect(ContinuousClock.now - began < .seconds(6), sourceLocation: sourceLocation)
      #expect(try await healthy.put("still", "fine").header.revision > 0, sourceLocation: sourceLocation)
    }
  }

  @Test func anHTTP1ServerIsNotMistakenForEtcd() async throws {
    try await withEtcd { etcd in
      let healthy = try EtcdClient(endpoints: etcd.endpoints)
      defer { Task { await healthy.close() } }
      let server = try await misbehavingServer(mode: "http1")
      try await expectCleanFailure(
        server.endpoint, codes: [.connectionFailed, .connectionClosed], messageContains: "HTTP/1",
        healthy: healthy)
    }
  }

  @Test(arguments: ["garbage", "settings-garbage", "bad-frame"])
  func anHTTP2ServerSendingGarbageIsAProtocolError(mode: String) async throws {
    try await withEtcd { etcd in
      let healthy = try EtcdClient(endpoints: etcd.endpoints)
      defer { Task { await healthy.close() } }
      let server = try await misbehavingServer(mode: mode)
      try await expectCleanFailure(
        server.endpoint, codes: [.connectionFailed, .connectionClosed, .invalidResponse], healthy: healthy)
    }
  }

  @Test func aServerThatNeverAnswersEndsAtTheDeadline() async throws {
    try await withEtcd { etcd in
      let healthy = try EtcdClient(endpoints: etcd.endpoints)
      defer { Task { await healthy.close() } }
      let server = try await misbehavingServer(mode: "silent")
      try await expectCleanFailure(
        server.endpoint, codes: [.connectionFailed, .deadlineExceeded], healthy: healthy)
    }
  }
}
