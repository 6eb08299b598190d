import Foundation
import Testing

@testable import EtcdClient

@Suite("Auth against a real etcd", .serialized)
struct AuthTests {
  @Test func usersAndRoles() async throws {
    try await withEtcd { etcd in
      let client = try EtcdClient(endpoints: etcd.endpoints)
      defer { Task { await client.close() } }

      try await client.addUser("alice", password: "secret")
      try await client.addUser("bob", password: "hunter2")
      #expect(try await client.users() == ["alice", "bob"])
      await expectEtcdError(.userAlreadyExist, grpcCode: .failedPrecondition) {
        try await client.addUser("alice", password: "again")
      }
      await expectEtcdError(.userEmpty, grpcCode: .invalidArgument) {
        try await client.addUser("", password: "nobody")
      }

      try await client.addRole("reader")
      try await client.addRole("writer")
      #expect(try await client.roles() == ["reader", "writer"])
      await expectEtcdError(.roleAlreadyExist, grpcCode: .failedPrecondition) {
        try await client.addRole("reader")
      }
      await expectEtcdError(.roleEmpty, grpcCode: .invalidArgument) {
        try await client.addRole("")
      }

      try await client.grantRole("reader", toUser: "alice")
      try await client.grantRole("writer", toUser: "alice")
      #expect(try await client.roles(ofUser: "alice") == ["reader", "writer"])
      #expect(try await client.roles(ofUser: "bob") == [])
      await expectEtcdError(.roleNotFound, grpcCode: .failedPrecondition) {
        try await client.grantRole("nope", toUser: "alice")
      }
      await expectEtcdError(.userNotFound, grpcCode: .failedPrecondition) {
        try await client.grantRole("reader", toUser: "nobody")
      }

      try await client.revokeRole("writer", fromUser: "alice")
      #expect(try await client.roles(ofUser: "alice") == ["reader"])
      await expectEtcdError(.roleNotGranted, grpcCode: .failedPrecondition) {
        try await client.revokeRole("writer", fromUser: "alice")
      }

      try await client.changePassword(ofUser: "bob", to: "correct horse")
      await expectEtcdError(.userNotFound, grpcCode: .failedPrecondition) {
        try await client.changePassword(ofUser: "nobody", to: "x")
      }

      try await client.deleteUser("bob")
      #expect(try await client.users() == ["alice"])
      await expectEtcdError(.userNotFound, grpcCode: .failedPrecondition) {
        _ = try await client.roles(ofUser: "bob")
      }

      // Deleting a role revokes it from its users.
      try await client.deleteRole("reader")
      #expect(try await client.roles() == ["writer"])
      #expect(try await client.roles(ofUser: "alice") == [])
      await expectEtcdError(.roleNotFound, grpcCode: .failedPrecondition) {
        _ = try await client.permissions(ofRole: "reader")
      }

      // Authentication is off: there is nothing to authenticate against.
      await expectEtcdError(.authNotEnabled, grpcCode: .failedPrecondition) {
        _ = try await client.authenticate(name: "alice", password: "secret")
      }
    }
  }

  @Test func rolePermissionsGrantGetRevoke() async throws {
    try await withEtcd { etcd in
      let client = try EtcdClient(endpoints: etcd.endpoints)
      defer { Task { await client.close() } }
      try await client.addRole("app")
      #expect(try await client.permissions(ofRole: "app").isEmpty)

      let prefix = Permission(.readWrite, key: "app/", range: .prefix)
      #expect(prefix.key == Array("app/".utf8))
      #expect(prefix.rangeEnd == Array("app0".utf8))
      let single = Permission(.read, key: "config")
      #expect(single.rangeEnd.isEmpty)
      let fromKey = Permission(.write, key: "logs/", range: .fromKey)
      #expect(fromKey.rangeEnd == [0])

      try await client.grantPermission(prefix, toRole: "app")
      try await client.grantPermission(single, toRole: "app")
      try await client.grantPermission(fromKey, toRole: "app")
      let granted = try await client.permissions(ofRole: "app")
      #expect(Set(granted) == [prefix, single, fromKey])
      #expect(granted.map(\.keyString) == ["app/", "config", "logs/"])

      // Granting on the same key and range end replaces the type.
      try await client.grantPermission(Permission(.read, key: "app/", range: .prefix), toRole: "app")
      #expect(try await client.permissions(ofRole: "app").first { $0.keyString == "app/" }?.type == .read)

      try await client.revokePermission(key: "config", fromRole: "app")
      try await client.revokePermission(key: "app/", rangeEnd: prefix.rangeEnd, fromRole: "app")
      #expect(try await client.permissions(ofRole: "app") == [fromKey])
      await expectEtcdError(.permissionNotGranted, grpcCode: .failedPrecondition) {
        try await client.revokePermission(key: "config", fromRole: "app")
      }
      await expectEtcdError(.roleNotFound, grpcCode: .failedPrecondition) {
        try await client.grantPermission(single, toRole: "nope")
      }
    }
  }

  /// AuthStatus is an etcd 3.5 RPC: through the same steps, etcd 3.4 answers every call
  /// `UNIMPLEMENTED` (`.unsupportedByServer`), and etcd 3.5.1 reports the state and revision.
  @Test func authStatusOnEachServerVersion() async throws {
    try await withEtcd { etcd in
      let version = try #require(
        EtcdTestCluster.binaryMinorVersion, "\(EtcdTestCluster.binary) --version failed")
      let client = try EtcdClient(endpoints: etcd.endpoints)
      defer { Task { await client.close() } }

      /// Checks `client.authStatus()` against etcd 3.5's answer, or etcd 3.4's refusal.
      func expectStatus(
        of client: EtcdClient,
        enabled: Bool,
        authRevision: UInt64,
        sourceLocation: SourceLocation = #_sourceLocation
      ) async {
        switch version {
        case "3.4":
          let error = await expectEtcdError(
            .unsupportedByServer, grpcCode: .unimplemented, sourceLocation: sourceLocation
          ) {
            _ = try await client.authStatus()
          }
          #expect(
            error?.message
              == "etcdserverpb.Auth/AuthStatus needs etcd 3.5 or later: the server does not"
              + " implement it (unknown method AuthStatus for service etcdserverpb.Auth)",
            sourceLocation: sourceLocation
          )
        case "3.5":
          do {
            let status = try await client.authStatus()
            #expect(status.enabled == enabled, sourceLocation: sourceLocation)
            #expect(status.authRevision == authRevision, sourceLocation: sourceLocation)
            #expect(status.header.memberID != 0, sourceLocation: sourceLocation)
          } catch {
            Issue.record("authStatus failed: \(error)", sourceLocation: sourceLocation)
          }
        default:
          Issue.record("no expectation for etcd \(version)", sourceLocation: sourceLocation)
        }
      }

      // A fresh auth store is at revision 1; each user or role change adds one.
      await expectStatus(of: client, enabled: false, authRevision: 1)
      try await client.addUser("root", password: "rootpw")
      try await client.grantRole("root", toUser: "root")
      try await client.addUser("alice", password: "secret")
      await expectStatus(of: client, enabled: false, authRevision: 4)

      // Enabling keeps the revision; from then on, AuthStatus needs the root role.
      try await client.enableAuth()
      var configuration = EtcdClient.Configuration(endpoints: etcd.endpoints)
      configuration.username = "root"
      configuration.password = "rootpw"
      let root = try EtcdClient(configuration: configuration)
      defer { Task { await root.close() } }
      configuration.username = "alice"
      configuration.password = "secret"
      let alice = try EtcdClient(configuration: configuration)
      defer { Task { await alice.close() } }
      await expectStatus(of: root, enabled: true, authRevision: 4)
      if version == "3.5" {
        await expectEtcdError(.userEmpty, grpcCode: .invalidArgument) {
          _ = try await client.authStatus()
        }
        await expectEtcdError(.permissionDenied, grpcCode: .permissionDenied) {
          _ = try await alice.authStatus()
        }
      } else {
        await expectStatus(of: client, enabled: true, authRevision: 4)
        await expectStatus(of: alice, enabled: true, authRevision: 4)
      }

      // Disabling adds one.
      try await root.disableAuth()
      await expectStatus(of: client, enabled: false, authRevision: 5)
    }
  }

  @Test func enableAuthenticationThenAuthenticate() async throws {
    try await withEtcd { etcd in
      let client = try EtcdClient(endpoints: etcd.endpoints)
      defer { Task { await client.close() } }
      try await client.put("before", "auth")

      await expectEtcdError(.rootUserNotExist, grpcCode: .failedPrecondition) {
        try await client.enableAuth()
      }
      try await client.addUser("root", password: "rootpw")
      await expectEtcdError(.rootRoleNotExist, grpcCode: .failedPrecondition) {
        try await client.enableAuth()
      }
      // The root role is built in: it can be granted without adding it.
      try await client.grantRole("root", toUser: "root")
      try await client.addUser("alice", password: "secret")
      // Disabling authentication that is off does nothing.
      try await client.disableAuth()
      try await client.enableAuth()

      // Without a token every KV call is refused.
      let putError = await expectEtcdError(.userEmpty, grpcCode: .invalidArgument) {
        try await client.put("after", "auth")
      }
      #expect(putError?.message == "etcdserver: user name is empty")
      await expectEtcdError(.userEmpty, grpcCode: .invalidArgument) {
        _ = try await client.get("before")
      }

      let token = try await client.authenticate(name: "root", password: "rootpw")
      #expect(!token.isEmpty)
      #expect(!(try await client.authenticate(name: "alice", password: "secret")).isEmpty)
      await expectEtcdError(.authFailed, grpcCode: .invalidArgument) {
        _ = try await client.authenticate(name: "root", password: "wrong")
      }
      await expectEtcdError(.authFailed, grpcCode: .invalidArgument) {
        _ = try await client.authenticate(name: "nobody", password: "rootpw")
      }
      // Managing auth needs the root user's token, which calls cannot carry yet: the cluster stays
      // as it is and is torn down.
    }
  }
}
