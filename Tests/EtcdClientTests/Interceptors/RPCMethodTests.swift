import Testing

@testable import EtcdClient

@Suite("RPCMethod")
struct RPCMethodTests {
  @Test("indexes are dense and in order")
  func denseIndexes() {
    // No fixed count: the API grows service by service.
    #expect(RPCMethod.all.count >= 23)
    #expect(RPCMethod.all.map(\.index) == Array(0..<RPCMethod.all.count))
    #expect(Set(RPCMethod.all.map(\.index)).count == RPCMethod.all.count)
  }

  @Test("methods and paths are unique and well formed")
  func paths() {
    #expect(Set(RPCMethod.all).count == RPCMethod.all.count)
    #expect(Set(RPCMethod.all.map(\.path)).count == RPCMethod.all.count)
    for method in RPCMethod.all {
      #expect(method.path == "/\(method.service)/\(method.method)")
      #expect(method.description == method.path)
      // `package.Service`, as `etcdserverpb.KV` (or `v3lockpb.Lock` if those services are added).
      let service = method.service.split(separator: ".", omittingEmptySubsequences: false)
      #expect(service.count == 2, "\(method)")
      #expect(service.first?.allSatisfy { $0.isLowercase || $0.isNumber } == true, "\(method)")
      #expect(service.last?.first?.isUppercase == true, "\(method)")
      #expect(method.method.first?.isUppercase == true, "\(method)")
      let parts = method.path.split(separator: "/", omittingEmptySubsequences: false)
      #expect(parts.count == 3 && parts[0].isEmpty, "\(method)")
      #expect(
        parts.dropFirst().allSatisfy { !$0.isEmpty && $0.allSatisfy { $0.isLetter || $0 == "." } },
        "\(method)"
      )
    }
  }

  @Test(
    "paths, call types and retry classes",
    arguments: [
      (RPCMethod.KV.range, "/etcdserverpb.KV/Range", RPCMethod.CallType.unary, true),
      (RPCMethod.KV.put, "/etcdserverpb.KV/Put", .unary, false),
      (RPCMethod.KV.deleteRange, "/etcdserverpb.KV/DeleteRange", .unary, false),
      (RPCMethod.KV.txn, "/etcdserverpb.KV/Txn", .unary, false),
      (RPCMethod.KV.compact, "/etcdserverpb.KV/Compact", .unary, false),
      (RPCMethod.Watch.watch, "/etcdserverpb.Watch/Watch", .bidiStream, true),
      (RPCMethod.Lease.grant, "/etcdserverpb.Lease/LeaseGrant", .unary, false),
      (RPCMethod.Lease.keepAlive, "/etcdserverpb.Lease/LeaseKeepAlive", .bidiStream, true),
      (RPCMethod.Lease.timeToLive, "/etcdserverpb.Lease/LeaseTimeToLive", .unary, true),
      (RPCMethod.Maintenance.status, "/etcdserverpb.Maintenance/Status", .unary, true),
      (RPCMethod.Maintenance.snapshot, "/etcdserverpb.Maintenance/Snapshot", .serverStream, true),
      (RPCMethod.Maintenance.moveLeader, "/etcdserverpb.Maintenance/MoveLeader", .unary, false),
      (RPCMethod.Cluster.memberList, "/etcdserverpb.Cluster/MemberList", .unary, true),
      (RPCMethod.Cluster.memberAdd, "/etcdserverpb.Cluster/MemberAdd", .unary, false),
    ]
  )
  func method(method: RPCMethod, path: String, type: RPCMethod.CallType, isRepeatable: Bool) {
    #expect(method.path == path)
    #expect(method.type == type)
    #expect(method.isRepeatable == isRepeatable)
    #expect(RPCMethod.all[method.index] == method)
  }

  @Test("call type labels use go-grpc-prometheus' names")
  func callTypeLabels() {
    #expect(
      RPCMethod.CallType.allCases.map(\.rawValue) == [
        "unary", "client_stream", "server_stream", "bidi_stream",
      ]
    )
  }
}
