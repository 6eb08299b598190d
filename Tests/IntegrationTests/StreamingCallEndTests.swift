import EtcdProto
import Foundation
import Testing

@testable import EtcdClient

/// A streaming call's reader that goes away before the end (its iterator dropped, its task cancelled) cancels
/// the call: the stream is reset and the server closes its side.
@Suite("Streaming calls whose reader goes away, against a real etcd", .serialized)
struct StreamingCallEndTests {
  /// Opens a raw Watch stream with one watcher on `key` and reads its `created` response with `iterator`.
  private static func openWatch(
    _ client: EtcdClient, key: String
  ) async throws -> (GRPCStreamingCall, GRPCStreamingCall.Responses.AsyncIterator) {
    let stream = try client.bidirectionalStream(RPCMethod.Watch.watch)
    var request = Etcdserverpb_WatchRequest()
    var create = Etcdserverpb_WatchCreateRequest()
    create.key = Data(key.utf8)
    request.createRequest = create
    stream.send(try client.frame(request))
    var iterator = stream.responses.makeAsyncIterator()
    let created = try Etcdserverpb_WatchResponse(serializedBytes: try #require(await iterator.next()))
    #expect(created.created)
    return (stream, iterator)
  }

  @Test func droppingTheIteratorCancelsTheCall() async throws {
    try await withEtcd { etcd in
      let recorder = RecordingInterceptor()
      var configuration = EtcdClient.Configuration(endpoints: etcd.endpoints)
      configuration.interceptors = [recorder]
      let client = try EtcdClient(configuration: configuration)
      defer { Task { await client.close() } }
      let endpoint = etcd.endpoints[0]

      let stream: GRPCStreamingCall
      do {
        let opened = try await Self.openWatch(client, key: "dropped")
        stream = opened.0
        #expect(try await etcdWatchGauges(endpoint).streams == 1)
        // An event is queued for the reader, which never takes it.
        try await client.put("dropped", "1")
      }
      // The iterator is gone; the call object lives on in `stream`.
      #expect(try await waitForWatchGauges(endpoint) { $0.streams == 0 }.streams == 0)
      #expect(
        recorder.events.last == .finished(method: "/etcdserverpb.Watch/Watch", code: .cancelled, error: .cancelled),
        "\(recorder.events)")
      withExtendedLifetime(stream) {}
    }
  }

  @Test func cancellingTheReadingTaskCancelsTheCall() async throws {
    try await withEtcd { etcd in
      let client = try EtcdClient(endpoints: etcd.endpoints)
      defer { Task { await client.close() } }
      let endpoint = etcd.endpoints[0]
      let (stream, iterator) = try await Self.openWatch(client, key: "cancelled")
      let reader = Task {
        var iterator = iterator
        do {
          while try await iterator.next() != nil {}
          return EtcdError.Code?.none
        } catch {
          return (error as? EtcdError)?.code
        }
      }
      #expect(try await etcdWatchGauges(endpoint).streams == 1)
      reader.cancel()
      #expect(await reader.value == .cancelled)
      #expect(try await waitForWatchGauges(endpoint) { $0.streams == 0 }.streams == 0)
      withExtendedLifetime(stream) {}
    }
  }
}
