import Synchronization

/// Checks requests' basic-auth credentials against users with bcrypt password hashes, as
/// exporter-toolkit's `basic_auth_users` does.
///
/// Called concurrently from the server's threads; bcrypt runs on the calling thread. The time an
/// answer takes does not tell whether a user exists: an unknown user's password is still run
/// through bcrypt, against a decoy hash whose cost is the highest of the configured users', and
/// hashes are compared in constant time. Credentials that passed are remembered in a
/// ``CredentialCache`` under the SHA-256 digest of the user's hash, name and password.
final class BasicAuthenticator: Sendable {
  /// Why a request was refused; the values are the `reason` label of the failure counter.
  enum Refusal: String, Sendable, CaseIterable {
    /// No `Authorization` header.
    case missing
    /// An `Authorization` header that is not Basic or does not decode.
    case malformed
    /// An unknown user, or a wrong password.
    case invalid
  }

  /// The result of checking a request.
  enum Outcome: Sendable, Equatable {
    /// The credentials are those of this user.
    case authenticated(user: String)
    /// The request is refused.
    case refused(Refusal)
  }

  /// The most verified credentials remembered.
  static let cacheCapacity = 100

  private let users: [String: String]
  /// The hash an unknown user's password is checked against.
  let decoyHash: String
  private let cache: Mutex<CredentialCache>

  /// Creates an authenticator.
  ///
  /// - Parameters:
  ///   - users: The users' bcrypt hashes by name. A hash that is not bcrypt matches no password
  ///     (``MetricsServer/Configuration`` refuses such hashes before a server starts).
  ///   - cacheCapacity: The most verified credentials remembered.
  init(users: [String: String], cacheCapacity: Int = BasicAuthenticator.cacheCapacity) {
    self.users = users
    let highestCost = users.values.compactMap { BcryptHash($0)?.cost }.max() ?? 10
    self.decoyHash = BcryptHash.decoy(cost: highestCost)
    self.cache = Mutex(CredentialCache(capacity: cacheCapacity))
  }

  /// Checks the credentials of a request.
  ///
  /// - Parameter authorization: The request's `Authorization` header, if any.
  /// - Returns: The user, or why the request is refused.
  func authenticate(authorization: String?) -> Outcome {
    let credentials: BasicCredentials
    switch BasicAuthorization.parse(authorization) {
    case .missing: return .refused(.missing)
    case .malformed: return .refused(.malformed)
    case .credentials(let parsed): credentials = parsed
    }
    let storedHash = users[credentials.user]
    let reference = storedHash ?? decoyHash
    // The user name cannot hold a colon and the hash cannot hold a newline, so this text names one
    // (hash, user, password) triple.
    let digest = SHA256.hash(
      Array("\(reference)\n\(credentials.user):\(credentials.password)".utf8))
    if storedHash != nil, cache.withLock({ $0.contains(digest) }) {
      return .authenticated(user: credentials.user)
    }
    let computed = Bcrypt.hash(password: credentials.password, setting: reference)
    let matches = ConstantTime.equal(Array((computed ?? "").utf8), Array(reference.utf8))
    guard storedHash != nil, matches else { return .refused(.invalid) }
    cache.withLock { $0.insert(digest) }
    return .authenticated(user: credentials.user)
  }

  /// The number of verified credentials remembered.
  var cachedCount: Int { cache.withLock { $0.count } }
}
