import Foundation
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
      (RPCMethod.Maintenance.downgrade, "/etcdserverpb.Maintenance/Downgrade", .unary, false),
      (RPCMethod.Auth.authStatus, "/etcdserverpb.Auth/AuthStatus", .unary, true),
      (RPCMethod.Auth.authEnable, "/etcdserverpb.Auth/AuthEnable", .unary, false),
      (RPCMethod.Auth.userList, "/etcdserverpb.Auth/UserList", .unary, true),
    ]
  )
  func method(method: RPCMethod, path: String, type: RPCMethod.CallType, isRepeatable: Bool) {
    #expect(method.path == path)
    #expect(method.type == type)
    #expect(method.isRepeatable == isRepeatable)
    #expect(RPCMethod.all[method.index] == method)
  }

  @Test("the methods etcd 3.4 lacks name etcd 3.5; the others name no release")
  func minimumEtcdVersions() {
    let newer = RPCMethod.all.filter { $0.minimumEtcdVersion != nil }
    #expect(newer == [RPCMethod.Maintenance.downgrade, RPCMethod.Auth.authStatus])
    #expect(newer.allSatisfy { $0.minimumEtcdVersion == "3.5" })
    // Added at the end: the methods of etcd 3.4 keep their index.
    #expect(RPCMethod.Maintenance.downgrade.index == 39)
    #expect(RPCMethod.Auth.authStatus.index == 40)
    #expect(RPCMethod.Auth.roleRevokePermission.index == 38)
  }

  /// The `rpc` lines of `Protos/etcdserverpb/rpc.proto`, as `(service, method, call type)`.
  static func protoMethods() throws -> [(String, String, RPCMethod.CallType)] {
    let root = URL(fileURLWithPath: #filePath)
      .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
      .deletingLastPathComponent()
    let text = try String(
      contentsOf: root.appendingPathComponent("Protos/etcdserverpb/rpc.proto"), encoding: .utf8)
    var service = ""
    var methods: [(String, String, RPCMethod.CallType)] = []
    for line in text.split(separator: "\n") {
      let words = line.split(whereSeparator: { " (){;".contains($0) })
      if words.first == "service", words.count > 1 {
        service = "etcdserverpb." + words[1]
      } else if words.first == "rpc", words.count > 4 {
        let requestStream = words[2] == "stream"
        let returns = try #require(words.firstIndex(of: "returns"))
        let responseStream = words[returns + 1] == "stream"
        let type: RPCMethod.CallType =
          switch (requestStream, responseStream) {
          case (false, false): .unary
          case (true, false): .clientStream
          case (false, true): .serverStream
          case (true, true): .bidiStream
          }
        methods.append((service, String(words[1]), type))
      }
    }
    return methods
  }

  @Test("the table has every RPC of Protos/etcdserverpb/rpc.proto, with its call type")
  func tableMatchesProtos() throws {
    let protos = try Self.protoMethods()
    #expect(protos.count == 41)
    let fromProtos = Set(protos.map { "/\($0.0)/\($0.1) \($0.2)" })
    let fromTable = Set(RPCMethod.all.map { "\($0.path) \($0.type)" })
    #expect(fromTable == fromProtos)
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
