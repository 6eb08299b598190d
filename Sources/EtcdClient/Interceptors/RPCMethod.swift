/// One RPC of the etcd v3 API: its service, name, call type and whether it is safe to repeat.
///
/// The client's methods are static members (`RPCMethod.KV.range`). Each carries a dense `index`, so an
/// interceptor can keep per-method state in an array and find it without hashing.
public struct RPCMethod: Sendable, Hashable, CustomStringConvertible {
  /// The shape of a call, as go-grpc-prometheus' `grpc_type` label names it.
  public enum CallType: String, Sendable, Hashable, CaseIterable {
    /// One request, one response.
    case unary
    /// A stream of requests, one response.
    case clientStream = "client_stream"
    /// One request, a stream of responses.
    case serverStream = "server_stream"
    /// Streams both ways.
    case bidiStream = "bidi_stream"
  }

  /// The fully qualified service, e.g. `etcdserverpb.KV`.
  public let service: String
  /// The method, e.g. `Range`.
  public let method: String
  /// The call type.
  public let type: CallType
  /// Whether repeating the call cannot change the server's state (Range, read-only Maintenance and Cluster
  /// calls), as etcd's clientv3 classifies them for retries.
  public let isRepeatable: Bool
  /// A dense index in `RPCMethod.all`.
  public let index: Int

  /// The HTTP/2 `:path`, e.g. `/etcdserverpb.KV/Range`.
  public var path: String { "/\(service)/\(method)" }

  public var description: String { path }

  init(service: String, method: String, type: CallType, isRepeatable: Bool, index: Int) {
    self.service = service
    self.method = method
    self.type = type
    self.isRepeatable = isRepeatable
    self.index = index
  }
}

extension RPCMethod {
  /// The KV service.
  public enum KV {
    /// `etcdserverpb.KV/Range`.
    public static let range = RPCMethod(
      service: "etcdserverpb.KV", method: "Range", type: .unary, isRepeatable: true, index: 0)
    /// `etcdserverpb.KV/Put`.
    public static let put = RPCMethod(
      service: "etcdserverpb.KV", method: "Put", type: .unary, isRepeatable: false, index: 1)
    /// `etcdserverpb.KV/DeleteRange`.
    public static let deleteRange = RPCMethod(
      service: "etcdserverpb.KV", method: "DeleteRange", type: .unary, isRepeatable: false,
      index: 2)
    /// `etcdserverpb.KV/Txn`.
    public static let txn = RPCMethod(
      service: "etcdserverpb.KV", method: "Txn", type: .unary, isRepeatable: false, index: 3)
    /// `etcdserverpb.KV/Compact`.
    public static let compact = RPCMethod(
      service: "etcdserverpb.KV", method: "Compact", type: .unary, isRepeatable: false, index: 4)
  }

  /// The Watch service.
  public enum Watch {
    /// `etcdserverpb.Watch/Watch`.
    public static let watch = RPCMethod(
      service: "etcdserverpb.Watch", method: "Watch", type: .bidiStream, isRepeatable: true,
      index: 5)
  }

  /// The Lease service.
  public enum Lease {
    /// `etcdserverpb.Lease/LeaseGrant`.
    public static let grant = RPCMethod(
      service: "etcdserverpb.Lease", method: "LeaseGrant", type: .unary, isRepeatable: false,
      index: 6)
    /// `etcdserverpb.Lease/LeaseRevoke`.
    public static let revoke = RPCMethod(
      service: "etcdserverpb.Lease", method: "LeaseRevoke", type: .unary, isRepeatable: false,
      index: 7)
    /// `etcdserverpb.Lease/LeaseKeepAlive`.
    public static let keepAlive = RPCMethod(
      service: "etcdserverpb.Lease", method: "LeaseKeepAlive", type: .bidiStream,
      isRepeatable: true, index: 8)
    /// `etcdserverpb.Lease/LeaseTimeToLive`.
    public static let timeToLive = RPCMethod(
      service: "etcdserverpb.Lease", method: "LeaseTimeToLive", type: .unary, isRepeatable: true,
      index: 9)
    /// `etcdserverpb.Lease/LeaseLeases`.
    public static let leases = RPCMethod(
      service: "etcdserverpb.Lease", method: "LeaseLeases", type: .unary, isRepeatable: true,
      index: 10)
  }

  /// The Maintenance service.
  public enum Maintenance {
    /// `etcdserverpb.Maintenance/Status`.
    public static let status = RPCMethod(
      service: "etcdserverpb.Maintenance", method: "Status", type: .unary, isRepeatable: true,
      index: 11)
    /// `etcdserverpb.Maintenance/Alarm`.
    public static let alarm = RPCMethod(
      service: "etcdserverpb.Maintenance", method: "Alarm", type: .unary, isRepeatable: false,
      index: 12)
    /// `etcdserverpb.Maintenance/Defragment`.
    public static let defragment = RPCMethod(
      service: "etcdserverpb.Maintenance", method: "Defragment", type: .unary,
      isRepeatable: false, index: 13)
    /// `etcdserverpb.Maintenance/Hash`.
    public static let hash = RPCMethod(
      service: "etcdserverpb.Maintenance", method: "Hash", type: .unary, isRepeatable: true,
      index: 14)
    /// `etcdserverpb.Maintenance/HashKV`.
    public static let hashKV = RPCMethod(
      service: "etcdserverpb.Maintenance", method: "HashKV", type: .unary, isRepeatable: true,
      index: 15)
    /// `etcdserverpb.Maintenance/Snapshot`.
    public static let snapshot = RPCMethod(
      service: "etcdserverpb.Maintenance", method: "Snapshot", type: .serverStream,
      isRepeatable: true, index: 16)
    /// `etcdserverpb.Maintenance/MoveLeader`.
    public static let moveLeader = RPCMethod(
      service: "etcdserverpb.Maintenance", method: "MoveLeader", type: .unary,
      isRepeatable: false, index: 17)
  }

  /// The Cluster service.
  public enum Cluster {
    /// `etcdserverpb.Cluster/MemberAdd`.
    public static let memberAdd = RPCMethod(
      service: "etcdserverpb.Cluster", method: "MemberAdd", type: .unary, isRepeatable: false,
      index: 18)
    /// `etcdserverpb.Cluster/MemberRemove`.
    public static let memberRemove = RPCMethod(
      service: "etcdserverpb.Cluster", method: "MemberRemove", type: .unary, isRepeatable: false,
      index: 19)
    /// `etcdserverpb.Cluster/MemberUpdate`.
    public static let memberUpdate = RPCMethod(
      service: "etcdserverpb.Cluster", method: "MemberUpdate", type: .unary, isRepeatable: false,
      index: 20)
    /// `etcdserverpb.Cluster/MemberList`.
    public static let memberList = RPCMethod(
      service: "etcdserverpb.Cluster", method: "MemberList", type: .unary, isRepeatable: true,
      index: 21)
    /// `etcdserverpb.Cluster/MemberPromote`.
    public static let memberPromote = RPCMethod(
      service: "etcdserverpb.Cluster", method: "MemberPromote", type: .unary,
      isRepeatable: false, index: 22)
  }

  /// The Auth service. Only the user and role reads are repeatable, as in clientv3's `retry.go`.
  public enum Auth {
    /// `etcdserverpb.Auth/AuthEnable`.
    public static let authEnable = RPCMethod(
      service: "etcdserverpb.Auth", method: "AuthEnable", type: .unary, isRepeatable: false,
      index: 23)
    /// `etcdserverpb.Auth/AuthDisable`.
    public static let authDisable = RPCMethod(
      service: "etcdserverpb.Auth", method: "AuthDisable", type: .unary, isRepeatable: false,
      index: 24)
    /// `etcdserverpb.Auth/Authenticate`.
    public static let authenticate = RPCMethod(
      service: "etcdserverpb.Auth", method: "Authenticate", type: .unary, isRepeatable: false,
      index: 25)
    /// `etcdserverpb.Auth/UserAdd`.
    public static let userAdd = RPCMethod(
      service: "etcdserverpb.Auth", method: "UserAdd", type: .unary, isRepeatable: false,
      index: 26)
    /// `etcdserverpb.Auth/UserGet`.
    public static let userGet = RPCMethod(
      service: "etcdserverpb.Auth", method: "UserGet", type: .unary, isRepeatable: true,
      index: 27)
    /// `etcdserverpb.Auth/UserList`.
    public static let userList = RPCMethod(
      service: "etcdserverpb.Auth", method: "UserList", type: .unary, isRepeatable: true,
      index: 28)
    /// `etcdserverpb.Auth/UserDelete`.
    public static let userDelete = RPCMethod(
      service: "etcdserverpb.Auth", method: "UserDelete", type: .unary, isRepeatable: false,
      index: 29)
    /// `etcdserverpb.Auth/UserChangePassword`.
    public static let userChangePassword = RPCMethod(
      service: "etcdserverpb.Auth", method: "UserChangePassword", type: .unary, isRepeatable: false,
      index: 30)
    /// `etcdserverpb.Auth/UserGrantRole`.
    public static let userGrantRole = RPCMethod(
      service: "etcdserverpb.Auth", method: "UserGrantRole", type: .unary, isRepeatable: false,
      index: 31)
    /// `etcdserverpb.Auth/UserRevokeRole`.
    public static let userRevokeRole = RPCMethod(
      service: "etcdserverpb.Auth", method: "UserRevokeRole", type: .unary, isRepeatable: false,
      index: 32)
    /// `etcdserverpb.Auth/RoleAdd`.
    public static let roleAdd = RPCMethod(
      service: "etcdserverpb.Auth", method: "RoleAdd", type: .unary, isRepeatable: false,
      index: 33)
    /// `etcdserverpb.Auth/RoleGet`.
    public static let roleGet = RPCMethod(
      service: "etcdserverpb.Auth", method: "RoleGet", type: .unary, isRepeatable: true,
      index: 34)
    /// `etcdserverpb.Auth/RoleList`.
    public static let roleList = RPCMethod(
      service: "etcdserverpb.Auth", method: "RoleList", type: .unary, isRepeatable: true,
      index: 35)
    /// `etcdserverpb.Auth/RoleDelete`.
    public static let roleDelete = RPCMethod(
      service: "etcdserverpb.Auth", method: "RoleDelete", type: .unary, isRepeatable: false,
      index: 36)
    /// `etcdserverpb.Auth/RoleGrantPermission`.
    public static let roleGrantPermission = RPCMethod(
      service: "etcdserverpb.Auth", method: "RoleGrantPermission", type: .unary,
      isRepeatable: false, index: 37)
    /// `etcdserverpb.Auth/RoleRevokePermission`.
    public static let roleRevokePermission = RPCMethod(
      service: "etcdserverpb.Auth", method: "RoleRevokePermission", type: .unary,
      isRepeatable: false, index: 38)
  }

  /// Every method of the API, ordered by `index`.
  public static let all: [RPCMethod] = [
    KV.range, KV.put, KV.deleteRange, KV.txn, KV.compact,
    Watch.watch,
    Lease.grant, Lease.revoke, Lease.keepAlive, Lease.timeToLive, Lease.leases,
    Maintenance.status, Maintenance.alarm, Maintenance.defragment, Maintenance.hash,
    Maintenance.hashKV, Maintenance.snapshot, Maintenance.moveLeader,
    Cluster.memberAdd, Cluster.memberRemove, Cluster.memberUpdate, Cluster.memberList,
    Cluster.memberPromote,
    Auth.authEnable, Auth.authDisable, Auth.authenticate, Auth.userAdd, Auth.userGet, Auth.userList,
    Auth.userDelete, Auth.userChangePassword, Auth.userGrantRole, Auth.userRevokeRole,
    Auth.roleAdd, Auth.roleGet, Auth.roleList, Auth.roleDelete, Auth.roleGrantPermission,
    Auth.roleRevokePermission,
  ]
}
