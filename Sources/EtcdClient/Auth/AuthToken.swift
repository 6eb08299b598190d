import EtcdProto
import Synchronization

/// The client's auth token when it authenticates with a user name and password: fetched on first use, sent as
/// `token` metadata on every call by `AuthTokenInterceptor`, and fetched again once when the server says it is
/// invalid (etcd's simple tokens expire after `--auth-token-ttl`, and a restart invalidates them).
final class AuthTokenStore: Sendable {
  let username: String
  let password: String
  private let state = Mutex<(token: String?, generation: Int)>((nil, 0))

  init(username: String, password: String) {
    self.username = username
    self.password = password
  }

  /// The current token and its generation.
  var current: (token: String?, generation: Int) { state.withLock { $0 } }

  /// Stores a new token unless another caller already replaced the one of `generation`.
  func store(_ token: String, replacing generation: Int) {
    state.withLock { state in
      if state.generation == generation { state = (token, generation + 1) }
    }
  }
}

/// Adds the auth token as `token` metadata to every call.
struct AuthTokenInterceptor: ClientInterceptor {
  let store: AuthTokenStore

  func callStarted(_ call: ClientCallInfo, metadata: inout ClientMetadata) {
    if let token = store.current.token { metadata.add("token", token) }
  }
}

extension EtcdClient {
  /// Fetches a token unless a newer one than `generation` is already there. Uses the configured interceptors
  /// but not the token itself.
  func refreshToken(after generation: Int?) async throws(EtcdError) {
    guard let store = authTokenStore else { return }
    let current = store.current
    if let generation, current.generation != generation, current.token != nil { return }
    if generation == nil, current.token != nil { return }
    var request = Etcdserverpb_AuthenticateRequest()
    request.name = store.username
    request.password = store.password
    let response: Etcdserverpb_AuthenticateResponse = try await performUnary(
      RPCMethod.Auth.authenticate,
      request,
      timeout: nil,
      interceptors: interceptorsWithoutToken
    )
    store.store(response.token, replacing: current.generation)
    configuration.logger.info(
      current.token == nil ? "auth token fetched" : "auth token refreshed",
      metadata: ["etcd.user": "\(store.username)"])
  }
}
