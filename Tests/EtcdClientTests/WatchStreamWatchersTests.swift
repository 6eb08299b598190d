import EtcdProto
import Foundation
import SwiftProtobuf
import Testing

@testable import EtcdClient

/// A Watch response as the server sends it, serialized.
private func serverMessage(
  watchID: Int64, revision: Int64, created: Bool = false, canceled: Bool = false, eventRevisions: [Int64] = []
) throws -> [UInt8] {
  var response = Etcdserverpb_WatchResponse()
  response.header.clusterID = 1
  response.header.revision = revision
  response.watchID = watchID
  response.created = created
  response.canceled = canceled
  response.events = eventRevisions.map { revision in
    var event = Mvccpb_Event()
    event.kv.key = Data("k".utf8)
    event.kv.modRevision = revision
    return event
  }
  return try response.serializedBytes()
}

/// A readable summary of the commands the watchers ask of the stream.
private func describe(_ commands: [WatchStreamWatchers.Command]) -> [String] {
  commands.map { command in
    switch command {
    case .open: "open"
    case .close: "close"
    case .send(let request):
      switch request.requestUnion {
      case .createRequest(let create): "create @\(create.startRevision)"
      case .cancelRequest(let cancel): "cancel \(cancel.watchID)"
      case .progressRequest: "progress"
      case nil: "empty"
      }
    }
  }
}

private func request() -> WatchStreamStateMachine.CreateRequest {
  WatchStreamStateMachine.CreateRequest(
    key: Array("k".utf8), rangeEnd: [], startRevision: 0, prevKV: false, progressNotify: false,
    filterPuts: false, filterDeletes: false, fragment: false)
}

@Suite("WatchStreamWatchers")
struct WatchStreamWatchersTests {
  @Test func aConsumerThatFallsBehindIsDetachedAndRecreatedOnceDrained() async throws {
    var watchers = WatchStreamWatchers(requireLeader: false)
    let (responses, consumer) = AsyncThrowingStream<WatchResponse, any Error>.makeStream()
    let buffer = SharedStreamConsumerBuffer(limit: 2)
    let key = WatchStreamWatchers.Key.unique()
    #expect(describe(watchers.apply(.add(key, request(), consumer, buffer))) == ["open"])
    #expect(describe(watchers.streamOpened()) == ["create @0"])
    #expect(describe(try watchers.received(serverMessage(watchID: 5, revision: 10, created: true))).isEmpty)
    #expect(describe(try watchers.received(serverMessage(watchID: 5, revision: 11, eventRevisions: [11]))).isEmpty)
    #expect(describe(try watchers.received(serverMessage(watchID: 5, revision: 12, eventRevisions: [12]))).isEmpty)
    // The buffer holds two responses: the third one detaches the watcher.
    #expect(describe(try watchers.received(serverMessage(watchID: 5, revision: 13, eventRevisions: [13]))) == ["cancel 5"])
    #expect(describe(try watchers.received(serverMessage(watchID: 5, revision: 14, eventRevisions: [14]))).isEmpty)

    var iterator = responses.makeAsyncIterator()
    var taken: [Int64] = []
    var drained = false
    for _ in 0..<2 {
      let response = try await iterator.next()
      taken += response?.events.map(\.kv.modRevision) ?? []
      drained = buffer.taken()
    }
    #expect(taken == [11, 12])
    #expect(drained)
    #expect(describe(watchers.apply(.drained(key))) == ["create @13"])
    #expect(describe(watchers.apply(.cancel(key))).isEmpty)  // its creation is in flight
    watchers.shutdown(EtcdError.clientClosed())
  }

  @Test func anUndecodableMessageIsAnInvalidResponse() {
    var watchers = WatchStreamWatchers(requireLeader: false)
    do {
      _ = try watchers.received([0xff, 0xff, 0xff])
      Issue.record("an undecodable message was accepted")
    } catch {
      #expect(error.code == .invalidResponse)
    }
  }

  @Test func requireLeaderAddsHasLeaderMetadata() {
    #expect(WatchStreamWatchers(requireLeader: true).metadata["hasleader"] == ["true"])
    #expect(WatchStreamWatchers(requireLeader: false).metadata["hasleader"].isEmpty)
  }
}
