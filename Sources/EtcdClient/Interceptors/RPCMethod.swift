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

  /// A dense index in `RPCMethod.all`.
  ///
  /// The only stored property: the rest is read from a static table, so an `RPCMethod` is a plain integer
  /// to copy (no reference counting), and `path` is built once per method rather than on every call.
  public let index: Int

  /// The fully qualified service, e.g. `etcdserverpb.KV`.
  public var service: String { descriptor.service }
  /// The method, e.g. `Range`.
  public var method: String { descriptor.method }
  /// The call type.
  public var type: CallType { descriptor.type }
  /// Whether repeating the call cannot change the server's state (Range, read-only Maintenance and Cluster
  /// calls), as etcd's clientv3 classifies them for retries.
  public var isRepeatable: Bool { descriptor.isRepeatable }
  /// The HTTP/2 `:path`, e.g. `/etcdserverpb.KV/Range`.
  public var path: String { descriptor.path }
  /// The oldest etcd release that serves the method (`3.5`), for a method newer than etcd 3.4, the
  /// oldest release the client supports; nil for the methods every supported release serves. An
  /// older server answers such a method with `UNIMPLEMENTED`, which the client reports as
  /// `EtcdError.Code.unsupportedByServer`.
  var minimumEtcdVersion: String? { descriptor.minimumEtcdVersion }

  /// The method's gRPC ``path``.
  public var description: String { path }

  private init(index: Int) {
    precondition(Self.descriptors.indices.contains(index), "no RPC method has index \(index)")
    self.index = index
  }

  private var descriptor: Descriptor { Self.descriptors[index] }

  /// What the table keeps per method.
  private struct Descriptor: Sendable {
    let service: String
    let method: String
    let path: String
    let type: CallType
    let isRepeatable: Bool
    let minimumEtcdVersion: String?

    init(
      _ service: String,
      _ method: String,
      _ type: CallType,
      isRepeatable: Bool,
      since minimumEtcdVersion: String? = nil
    ) {
      self.service = service
      self.method = method
      self.path = "/\(service)/\(method)"
      self.type = type
      self.isRepeatable = isRepeatable
      self.minimumEtcdVersion = minimumEtcdVersion
    }
  }

  /// Every method's service, name, type, retry class and, for a method etcd 3.4 lacks, the release
  /// that added it, at its `index`. New methods go at the end, so that the others keep their index.
  private static let descriptors: [Descriptor] = [
    Descriptor("etcdserverpb.KV", "Range", .unary, isRepeatable: true),  // 0
    Descriptor("etcdserverpb.KV", "Put", .unary, isRepeatable: false),  // 1
    Descriptor("etcdserverpb.KV", "DeleteRange", .unary, isRepeatable: false),  // 2
    Descriptor("etcdserverpb.KV", "Txn", .unary, isRepeatable: false),  // 3
    Descriptor("etcdserverpb.KV", "Compact", .unary, isRepeatable: false),  // 4
    Descriptor("etcdserverpb.Watch", "Watch", .bidiStream, isRepeatable: true),  // 5
    Descriptor("etcdserverpb.Lease", "LeaseGrant", .unary, isRepeatable: false),  // 6
    Descriptor("etcdserverpb.Lease", "LeaseRevoke", .unary, isRepeatable: false),  // 7
    Descriptor("etcdserverpb.Lease", "LeaseKeepAlive", .bidiStream, isRepeatable: true),  // 8
    Descriptor("etcdserverpb.Lease", "LeaseTimeToLive", .unary, isRepeatable: true),  // 9
    Descriptor("etcdserverpb.Lease", "LeaseLeases", .unary, isRepeatable: true),  // 10
    Descriptor("etcdserverpb.Maintenance", "Status", .unary, isRepeatable: true),  // 11
    Descriptor("etcdserverpb.Maintenance", "Alarm", .unary, isRepeatable: false),  // 12
    Descriptor("etcdserverpb.Maintenance", "Defragment", .unary, isRepeatable: false),  // 13
    Descriptor("etcdserverpb.Maintenance", "Hash", .unary, isRepeatable: true),  // 14
    Descriptor("etcdserverpb.Maintenance", "HashKV", .unary, isRepeatable: true),  // 15
    Descriptor("etcdserverpb.Maintenance", "Snapshot", .serverStream, isRepeatable: true),  // 16
    Descriptor("etcdserverpb.Maintenance", "MoveLeader", .unary, isRepeatable: false),  // 17
    Descriptor("etcdserverpb.Cluster", "MemberAdd", .unary, isRepeatable: false),  // 18
    Descriptor("etcdserverpb.Cluster", "MemberRemove", .unary, isRepeatable: false),  // 19
    Descriptor("etcdserverpb.Cluster", "MemberUpdate", .unary, isRepeatable: false),  // 20
    Descriptor("etcdserverpb.Cluster", "MemberList", .unary, isRepeatable: true),  // 21
    Descriptor("etcdserverpb.Cluster", "MemberPromote", .unary, isRepeatable: false),  // 22
    Descriptor("etcdserverpb.Auth", "AuthEnable", .unary, isRepeatable: false),  // 23
    Descriptor("etcdserverpb.Auth", "AuthDisable", .unary, isRepeatable: false),  // 24
    Descriptor("etcdserverpb.Auth", "Authenticate", .unary, isRepeatable: false),  // 25
    Descriptor("etcdserverpb.Auth", "UserAdd", .unary, isRepeatable: false),  // 26
    Descriptor("etcdserverpb.Auth", "UserGet", .unary, isRepeatable: true),  // 27
    Descriptor("etcdserverpb.Auth", "UserList", .unary, isRepeatable: true),  // 28
    Descriptor("etcdserverpb.Auth", "UserDelete", .unary, isRepeatable: false),  // 29
    Descriptor("etcdserverpb.Auth", "UserChangePassword", .unary, isRepeatable: false),  // 30
    Descriptor("etcdserverpb.Auth", "UserGrantRole", .unary, isRepeatable: false),  // 31
    Descriptor("etcdserverpb.Auth", "UserRevokeRole", .unary, isRepeatable: false),  // 32
    Descriptor("etcdserverpb.Auth", "RoleAdd", .unary, isRepeatable: false),  // 33
    Descriptor("etcdserverpb.Auth", "RoleGet", .unary, isRepeatable: true),  // 34
    Descriptor("etcdserverpb.Auth", "RoleList", .unary, isRepeatable: true),  // 35
    Descriptor("etcdserverpb.Auth", "RoleDelete", .unary, isRepeatable: false),  // 36
    Descriptor("etcdserverpb.Auth", "RoleGrantPermission", .unary, isRepeatable: false),  // 37
    Descriptor("etcdserverpb.Auth", "RoleRevokePermission", .unary, isRepeatable: false),  // 38
    // 39, 40: etcd 3.5.
    Descriptor("etcdserverpb.Maintenance", "Downgrade", .unary, isRepeatable: false, since: "3.5"),
    Descriptor("etcdserverpb.Auth", "AuthStatus", .unary, isRepeatable: true, since: "3.5"),
  ]
}

extension RPCMethod {
  /// The KV service.
  public enum KV {
    /// `etcdserverpb.KV/Range`.
    public static let range = RPCMethod(index: 0)
    /// `etcdserverpb.KV/Put`.
    public static let put = RPCMethod(index: 1)
    /// `etcdserverpb.KV/DeleteRange`.
    public static let deleteRange = RPCMethod(index: 2)
    /// `etcdserverpb.KV/Txn`.
    public static let txn = RPCMethod(index: 3)
    /// `etcdserverpb.KV/Compact`.
    public static let compact = RPCMethod(index: 4)
  }

  /// The Watch service.
  public enum Watch {
    /// `etcdserverpb.Watch/Watch`.
    public static let watch = RPCMethod(index: 5)
  }

  /// The Lease service.
  public enum Lease {
    /// `etcdserverpb.Lease/LeaseGrant`.
    public static let grant = RPCMethod(index: 6)
    /// `etcdserverpb.Lease/LeaseRevoke`.
    public static let revoke = RPCMethod(index: 7)
    /// `etcdserverpb.Lease/LeaseKeepAlive`.
    public static let keepAlive = RPCMethod(index: 8)
    /// `etcdserverpb.Lease/LeaseTimeToLive`.
    public static let timeToLive = RPCMethod(index: 9)
    /// `etcdserverpb.Lease/LeaseLeases`.
    public static let leases = RPCMethod(index: 10)
  }

  /// The Maintenance service.
  public enum Maintenance {
    /// `etcdserverpb.Maintenance/Status`.
    public static let status = RPCMethod(index: 11)
    /// `etcdserverpb.Maintenance/Alarm`.
    public static let alarm = RPCMethod(index: 12)
    /// `etcdserverpb.Maintenance/Defragment`.
    public static let defragment = RPCMethod(index: 13)
    /// `etcdserverpb.Maintenance/Hash`.
    public static let hash = RPCMethod(index: 14)
    /// `etcdserverpb.Maintenance/HashKV`.
    public static let hashKV = RPCMethod(index: 15)
    /// `etcdserverpb.Maintenance/Snapshot`.
    public static let snapshot = RPCMethod(index: 16)
    /// `etcdserverpb.Maintenance/MoveLeader`.
    public static let moveLeader = RPCMethod(index: 17)
    /// `etcdserverpb.Maintenance/Downgrade` (etcd 3.5 and later). Not repeatable: `.enable` and
    /// `.cancel` change the cluster's downgrade state.
    public static let downgrade = RPCMethod(index: 39)
  }

  /// The Cluster service.
  public enum Cluster {
    /// `etcdserverpb.Cluster/MemberAdd`.
    public static let memberAdd = RPCMethod(index: 18)
    /// `etcdserverpb.Cluster/MemberRemove`.
    public static let memberRemove = RPCMethod(index: 19)
    /// `etcdserverpb.Cluster/MemberUpdate`.
    public static let memberUpdate = RPCMethod(index: 20)
    /// `etcdserverpb.Cluster/MemberList`.
    public static let memberList = RPCMethod(index: 21)
    /// `etcdserverpb.Cluster/MemberPromote`.
    public static let memberPromote = RPCMethod(index: 22)
  }

  /// The Auth service. The user and role reads are repeatable, as in clientv3's `retry.go`, and so
  /// is AuthStatus, which reads the auth store's state and changes nothing (clientv3 does not retry
  /// it).
  public enum Auth {
    /// `etcdserverpb.Auth/AuthEnable`.
    public static let authEnable = RPCMethod(index: 23)
    /// `etcdserverpb.Auth/AuthDisable`.
    public static let authDisable = RPCMethod(index: 24)
    /// `etcdserverpb.Auth/AuthStatus` (etcd 3.5 and later).
    public static let authStatus = RPCMethod(index: 40)
    /// `etcdserverpb.Auth/Authenticate`.
    public static let authenticate = RPCMethod(index: 25)
    /// `etcdserverpb.Auth/UserAdd`.
    public static let userAdd = RPCMethod(index: 26)
    /// `etcdserverpb.Auth/UserGet`.
    public static let userGet = RPCMethod(index: 27)
    /// `etcdserverpb.Auth/UserList`.
    public static let userList = RPCMethod(index: 28)
    /// `etcdserverpb.Auth/UserDelete`.
    public static let userDelete = RPCMethod(index: 29)
    /// `etcdserverpb.Auth/UserChangePassword`.
    public static let userChangePassword = RPCMethod(index: 30)
    /// `etcdserverpb.Auth/UserGrantRole`.
    public static let userGrantRole = RPCMethod(index: 31)
    /// `etcdserverpb.Auth/UserRevokeRole`.
    public static let userRevokeRole = RPCMethod(index: 32)
    /// `etcdserverpb.Auth/RoleAdd`.
    public static let roleAdd = RPCMethod(index: 33)
    /// `etcdserverpb.Auth/RoleGet`.
    public static let roleGet = RPCMethod(index: 34)
    /// `etcdserverpb.Auth/RoleList`.
    public static let roleList = RPCMethod(index: 35)
    /// `etcdserverpb.Auth/RoleDelete`.
    public static let roleDelete = RPCMethod(index: 36)
    /// `etcdserverpb.Auth/RoleGrantPermission`.
    public static let roleGrantPermission = RPCMethod(index: 37)
    /// `etcdserverpb.Auth/RoleRevokePermission`.
    public static let roleRevokePermission = RPCMethod(index: 38)
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
    // etcd 3.5
    Maintenance.downgrade, Auth.authStatus,
  ]
}
