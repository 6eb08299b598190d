import EtcdProto
import Foundation

// Authentication and role-based access control. Once authentication is enabled, every call but
// `authenticate` needs a user's token, and managing users, roles and authentication itself needs
// the root role.

extension EtcdClient {
  // MARK: - Authentication

  /// Enables authentication.
  ///
  /// A `root` user holding the `root` role must exist first:
  ///
  /// ```swift
  /// try await client.addRole("root")
  /// try await client.addUser("root", password: rootPassword)
  /// try await client.grantRole("root", toUser: "root")
  /// try await client.enableAuth()
  /// ```
  /// - Parameter timeout: The call's deadline; the configuration's default when nil.
  /// - Throws: `EtcdError` (`.rootUserNotExist`, `.rootRoleNotExist`).
  @discardableResult
  public func enableAuth(timeout: Duration? = nil) async throws(EtcdError) -> AuthResponse {
    let response: Etcdserverpb_AuthEnableResponse = try await unary(
      RPCMethod.Auth.authEnable,
      Etcdserverpb_AuthEnableRequest(),
      timeout: timeout
    )
    return AuthResponse(header: ResponseHeader(response.header))
  }

  /// Disables authentication. Needs the root user's token while authentication is enabled; does
  /// nothing when it is not.
  ///
  /// - Parameter timeout: The call's deadline; the configuration's default when nil.
  /// - Throws: `EtcdError` (`.permissionDenied`, `.userEmpty` or `.invalidAuthToken` without a root
  ///   token).
  @discardableResult
  public func disableAuth(timeout: Duration? = nil) async throws(EtcdError) -> AuthResponse {
    let response: Etcdserverpb_AuthDisableResponse = try await unary(
      RPCMethod.Auth.authDisable,
      Etcdserverpb_AuthDisableRequest(),
      timeout: timeout
    )
    return AuthResponse(header: ResponseHeader(response.header))
  }

  /// Reads whether authentication is enabled, and the auth store's revision (etcd 3.5 and later).
  ///
  /// While authentication is enabled, the call needs the root role, as managing users does: a
  /// client configured with the root user's name and password.
  ///
  /// - Parameter timeout: The call's deadline; the configuration's default when nil.
  /// - Throws: `EtcdError` (`.unsupportedByServer` from a server older than etcd 3.5, which
  ///   answers gRPC `UNIMPLEMENTED`; while authentication is enabled, `.userEmpty` without a
  ///   token, `.permissionDenied` for a user without the root role).
  public func authStatus(timeout: Duration? = nil) async throws(EtcdError) -> AuthStatusResponse {
    let response: Etcdserverpb_AuthStatusResponse = try await unary(
      RPCMethod.Auth.authStatus,
      Etcdserverpb_AuthStatusRequest(),
      timeout: timeout
    )
    return AuthStatusResponse(
      header: ResponseHeader(response.header),
      enabled: response.enabled,
      authRevision: response.authRevision
    )
  }

  /// Authenticates a user and returns a token for the user's later calls.
  ///
  /// - Parameters:
  ///   - name: The user's name.
  ///   - password: The user's password.
  ///   - timeout: The call's deadline; the configuration's default when nil.
  /// - Returns: The token (simple or JWT, as the server is configured).
  /// - Throws: `EtcdError` (`.authFailed` for a wrong name or password, `.authNotEnabled`).
  public func authenticate(name: String, password: String, timeout: Duration? = nil)
    async throws(EtcdError) -> String
  {
    var request = Etcdserverpb_AuthenticateRequest()
    request.name = name
    request.password = password
    let response: Etcdserverpb_AuthenticateResponse = try await unary(
      RPCMethod.Auth.authenticate,
      request,
      timeout: timeout
    )
    return response.token
  }

  // MARK: - Users

  /// Adds a user.
  ///
  /// - Parameters:
  ///   - name: The user's name; must not be empty.
  ///   - password: The user's password.
  ///   - timeout: The call's deadline; the configuration's default when nil.
  /// - Throws: `EtcdError` (`.userAlreadyExist`, `.userEmpty`).
  @discardableResult
  public func addUser(_ name: String, password: String, timeout: Duration? = nil)
    async throws(EtcdError) -> AuthResponse
  {
    var request = Etcdserverpb_AuthUserAddRequest()
    request.name = name
    request.password = password
    let response: Etcdserverpb_AuthUserAddResponse = try await unary(
      RPCMethod.Auth.userAdd,
      request,
      timeout: timeout
    )
    return AuthResponse(header: ResponseHeader(response.header))
  }

  /// Reads a user's roles.
  ///
  /// - Parameters:
  ///   - name: The user's name.
  ///   - timeout: The call's deadline; the configuration's default when nil.
  /// - Returns: The names of the roles granted to the user.
  /// - Throws: `EtcdError` (`.userNotFound`).
  public func roles(ofUser name: String, timeout: Duration? = nil) async throws(EtcdError) -> [String] {
    var request = Etcdserverpb_AuthUserGetRequest()
    request.name = name
    let response: Etcdserverpb_AuthUserGetResponse = try await unary(
      RPCMethod.Auth.userGet,
      request,
      timeout: timeout
    )
    return response.roles
  }

  /// Lists the users.
  ///
  /// - Parameter timeout: The call's deadline; the configuration's default when nil.
  /// - Returns: The users' names, sorted.
  /// - Throws: `EtcdError`.
  public func users(timeout: Duration? = nil) async throws(EtcdError) -> [String] {
    let response: Etcdserverpb_AuthUserListResponse = try await unary(
      RPCMethod.Auth.userList,
      Etcdserverpb_AuthUserListRequest(),
      timeout: timeout
    )
    return response.users
  }

  /// Deletes a user.
  ///
  /// - Parameters:
  ///   - name: The user's name.
  ///   - timeout: The call's deadline; the configuration's default when nil.
  /// - Throws: `EtcdError` (`.userNotFound`, `.invalidAuthManagement` for the root user while
  ///   authentication is enabled).
  @discardableResult
  public func deleteUser(_ name: String, timeout: Duration? = nil) async throws(EtcdError)
    -> AuthResponse
  {
    var request = Etcdserverpb_AuthUserDeleteRequest()
    request.name = name
    let response: Etcdserverpb_AuthUserDeleteResponse = try await unary(
      RPCMethod.Auth.userDelete,
      request,
      timeout: timeout
    )
    return AuthResponse(header: ResponseHeader(response.header))
  }

  /// Changes a user's password.
  ///
  /// - Parameters:
  ///   - name: The user's name.
  ///   - password: The new password.
  ///   - timeout: The call's deadline; the configuration's default when nil.
  /// - Throws: `EtcdError` (`.userNotFound`).
  @discardableResult
  public func changePassword(ofUser name: String, to password: String, timeout: Duration? = nil)
    async throws(EtcdError) -> AuthResponse
  {
    var request = Etcdserverpb_AuthUserChangePasswordRequest()
    request.name = name
    request.password = password
    let response: Etcdserverpb_AuthUserChangePasswordResponse = try await unary(
      RPCMethod.Auth.userChangePassword,
      request,
      timeout: timeout
    )
    return AuthResponse(header: ResponseHeader(response.header))
  }

  /// Grants a role to a user.
  ///
  /// - Parameters:
  ///   - user: The user's name.
  ///   - role: The role's name; `root` needs no `addRole` first.
  ///   - timeout: The call's deadline; the configuration's default when nil.
  /// - Throws: `EtcdError` (`.userNotFound`, `.roleNotFound`).
  @discardableResult
  public func grantRole(_ role: String, toUser user: String, timeout: Duration? = nil)
    async throws(EtcdError) -> AuthResponse
  {
    var request = Etcdserverpb_AuthUserGrantRoleRequest()
    request.user = user
    request.role = role
    let response: Etcdserverpb_AuthUserGrantRoleResponse = try await unary(
      RPCMethod.Auth.userGrantRole,
      request,
      timeout: timeout
    )
    return AuthResponse(header: ResponseHeader(response.header))
  }

  /// Revokes a role from a user.
  ///
  /// - Parameters:
  ///   - user: The user's name.
  ///   - role: The role's name.
  ///   - timeout: The call's deadline; the configuration's default when nil.
  /// - Throws: `EtcdError` (`.userNotFound`, `.roleNotGranted`).
  @discardableResult
  public func revokeRole(_ role: String, fromUser user: String, timeout: Duration? = nil)
    async throws(EtcdError) -> AuthResponse
  {
    var request = Etcdserverpb_AuthUserRevokeRoleRequest()
    request.name = user
    request.role = role
    let response: Etcdserverpb_AuthUserRevokeRoleResponse = try await unary(
      RPCMethod.Auth.userRevokeRole,
      request,
      timeout: timeout
    )
    return AuthResponse(header: ResponseHeader(response.header))
  }

  // MARK: - Roles

  /// Adds a role, with no permissions.
  ///
  /// - Parameters:
  ///   - role: The role's name; must not be empty.
  ///   - timeout: The call's deadline; the configuration's default when nil.
  /// - Throws: `EtcdError` (`.roleAlreadyExist`, `.roleEmpty`).
  @discardableResult
  public func addRole(_ role: String, timeout: Duration? = nil) async throws(EtcdError)
    -> AuthResponse
  {
    var request = Etcdserverpb_AuthRoleAddRequest()
    request.name = role
    let response: Etcdserverpb_AuthRoleAddResponse = try await unary(
      RPCMethod.Auth.roleAdd,
      request,
      timeout: timeout
    )
    return AuthResponse(header: ResponseHeader(response.header))
  }

  /// Reads a role's permissions.
  ///
  /// - Parameters:
  ///   - role: The role's name.
  ///   - timeout: The call's deadline; the configuration's default when nil.
  /// - Returns: The permissions the role grants.
  /// - Throws: `EtcdError` (`.roleNotFound`; `.invalidResponse` for a permission type this client
  ///   does not know).
  public func permissions(ofRole role: String, timeout: Duration? = nil) async throws(EtcdError)
    -> [Permission]
  {
    var request = Etcdserverpb_AuthRoleGetRequest()
    request.role = role
    let response: Etcdserverpb_AuthRoleGetResponse = try await unary(
      RPCMethod.Auth.roleGet,
      request,
      timeout: timeout
    )
    var permissions: [Permission] = []
    for permission in response.perm { permissions.append(try Permission(permission)) }
    return permissions
  }

  /// Lists the roles.
  ///
  /// - Parameter timeout: The call's deadline; the configuration's default when nil.
  /// - Returns: The roles' names, sorted.
  /// - Throws: `EtcdError`.
  public func roles(timeout: Duration? = nil) async throws(EtcdError) -> [String] {
    let response: Etcdserverpb_AuthRoleListResponse = try await unary(
      RPCMethod.Auth.roleList,
      Etcdserverpb_AuthRoleListRequest(),
      timeout: timeout
    )
    return response.roles
  }

  /// Deletes a role, revoking it from every user that holds it.
  ///
  /// - Parameters:
  ///   - role: The role's name.
  ///   - timeout: The call's deadline; the configuration's default when nil.
  /// - Throws: `EtcdError` (`.roleNotFound`, `.invalidAuthManagement` for `root` while
  ///   authentication is enabled).
  @discardableResult
  public func deleteRole(_ role: String, timeout: Duration? = nil) async throws(EtcdError)
    -> AuthResponse
  {
    var request = Etcdserverpb_AuthRoleDeleteRequest()
    request.role = role
    let response: Etcdserverpb_AuthRoleDeleteResponse = try await unary(
      RPCMethod.Auth.roleDelete,
      request,
      timeout: timeout
    )
    return AuthResponse(header: ResponseHeader(response.header))
  }

  /// Grants a permission to a role; a permission on the same key and range end is replaced.
  ///
  /// ```swift
  /// let permission = Permission(.readWrite, key: "app/", range: .prefix)
  /// try await client.grantPermission(permission, toRole: "app")
  /// ```
  /// - Parameters:
  ///   - role: The role's name.
  ///   - permission: The permission.
  ///   - timeout: The call's deadline; the configuration's default when nil.
  /// - Throws: `EtcdError` (`.roleNotFound`).
  @discardableResult
  public func grantPermission(_ permission: Permission, toRole role: String, timeout: Duration? = nil)
    async throws(EtcdError) -> AuthResponse
  {
    var request = Etcdserverpb_AuthRoleGrantPermissionRequest()
    request.name = role
    request.perm = Authpb_Permission(permission)
    let response: Etcdserverpb_AuthRoleGrantPermissionResponse = try await unary(
      RPCMethod.Auth.roleGrantPermission,
      request,
      timeout: timeout
    )
    return AuthResponse(header: ResponseHeader(response.header))
  }

  /// Revokes a role's permission on a key or range, whatever its type.
  ///
  /// - Parameters:
  ///   - role: The role's name.
  ///   - key: The permission's key, as granted.
  ///   - rangeEnd: The permission's range end, as granted (a `Permission`'s `rangeEnd`); empty for
  ///     one key.
  ///   - timeout: The call's deadline; the configuration's default when nil.
  /// - Throws: `EtcdError` (`.roleNotFound`, `.permissionNotGranted`).
  @discardableResult
  public func revokePermission(
    key: some EtcdBytesConvertible,
    rangeEnd: [UInt8] = [],
    fromRole role: String,
    timeout: Duration? = nil
  ) async throws(EtcdError) -> AuthResponse {
    var request = Etcdserverpb_AuthRoleRevokePermissionRequest()
    request.role = role
    request.key = Data(key.etcdBytes)
    request.rangeEnd = Data(rangeEnd)
    let response: Etcdserverpb_AuthRoleRevokePermissionResponse = try await unary(
      RPCMethod.Auth.roleRevokePermission,
      request,
      timeout: timeout
    )
    return AuthResponse(header: ResponseHeader(response.header))
  }
}
