import GRPCProtocol

/// The one error type of the client: every failed call throws it.
///
/// `code` says what went wrong in etcd's terms (the server errors are recognised as Go's `rpctypes` does);
/// `status` is the gRPC status the call ended with, also for failures found on the client side (a deadline, a
/// refused connection, an oversized request), so every failure has a real gRPC code.
///
/// ```swift
/// do {
///   _ = try await client.get("config", options: .init(revision: 3))
/// } catch let error as EtcdError where error.code == .compacted {
///   // read a newer revision
/// }
/// ```
public struct EtcdError: Error, Sendable, CustomStringConvertible {
  /// What went wrong. Compare with the static members: `error.code == .noLeader`.
  public struct Code: Hashable, Sendable, CustomStringConvertible {
    fileprivate enum Wrapped: String, Hashable, Sendable {
      // Client side and transport.
      case cancelled, deadlineExceeded, connectionFailed, connectionClosed, clientClosed
      case invalidRequest, invalidResponse, invalidConfiguration, requestTooLarge, responseTooLarge
      case rpcFailed, leaseExpired, clusterChanged, unsupportedByServer
      // etcd server errors (etcd's rpctypes).
      case emptyKey, keyNotFound, valueProvided, leaseProvided, tooManyOps, duplicateKey
      case compacted, futureRevision, noSpace
      case leaseNotFound, leaseExist, leaseTTLTooLarge, watchCanceled
      case memberExist, peerURLExist, memberNotEnoughStarted, memberNotFound
      // A plural acronym would split before its "s": spelled for `name`.
      case memberBadURLs = "memberBadUrls"
      case memberNotLearner, learnerNotReady, tooManyLearners
      case serverRequestTooLarge, tooManyRequests
      case rootUserNotExist, rootRoleNotExist, userAlreadyExist, userEmpty, userNotFound
      case roleAlreadyExist, roleNotFound, roleEmpty, authFailed, permissionNotGiven
      case permissionDenied
      case roleNotGranted, permissionNotGranted, authNotEnabled, invalidAuthToken
      case invalidAuthManagement, authOldRevision
      case noLeader, notLeader, leaderChanged, notCapable, stopped, timeout
      case timeoutDueToLeaderFail, timeoutDueToConnectionLost, timeoutWaitAppliedIndex
      case unhealthy, corrupt, notSupportedForLearner, badLeaderTransferee
      case clusterVersionUnavailable, wrongDowngradeVersionFormat, invalidDowngradeTargetVersion
      case downgradeInProcess, noInflightDowngrade
    }
    fileprivate let wrapped: Wrapped
    fileprivate init(_ wrapped: Wrapped) { self.wrapped = wrapped }

    /// A short, stable, snake_case name: usable as a bounded metric label value.
    ///
    /// Acronyms stay one word: `leaseTTLTooLarge` is `lease_ttl_too_large`.
    public var name: String {
      let characters = Array(wrapped.rawValue)
      var out = ""
      for (index, character) in characters.enumerated() {
        if character.isUppercase && index > 0 {
          let previous = characters[index - 1]
          let next = index + 1 < characters.count ? characters[index + 1] : nil
          // A word starts at an upper-case letter after a lower-case one, or at the last capital of an
          // acronym that a lower-case word follows ("TTLToo": before "Too").
          if previous.isLowercase || (previous.isUppercase && next?.isLowercase == true) {
            out.append("_")
          }
        }
        out.append(contentsOf: character.lowercased())
      }
      return out
    }

    /// The code's ``name``.
    public var description: String { name }

    // MARK: Client side

    /// The caller cancelled the call (its Task was cancelled). gRPC code `CANCELLED`.
    public static let cancelled = Code(.cancelled)
    /// The call's deadline passed before it completed. gRPC code `DEADLINE_EXCEEDED`.
    public static let deadlineExceeded = Code(.deadlineExceeded)
    /// No connection could be made to the endpoint (refused, unreachable, timed out). `UNAVAILABLE`.
    public static let connectionFailed = Code(.connectionFailed)
    /// The connection closed or was reset while the call was in flight, or the server sent GOAWAY. `UNAVAILABLE`.
    public static let connectionClosed = Code(.connectionClosed)
    /// The client was closed; no call can start. Lifecycle misuse, not an RPC failure.
    public static let clientClosed = Code(.clientClosed)
    /// The request was rejected on the client side before it was sent (e.g. an empty key).
    public static let invalidRequest = Code(.invalidRequest)
    /// The server's response broke the gRPC or protobuf rules (bad frame, bad status, undecodable message).
    public static let invalidResponse = Code(.invalidResponse)
    /// The client's configuration is unusable (e.g. a malformed endpoint).
    public static let invalidConfiguration = Code(.invalidConfiguration)
    /// The request is over the client's send limit; it was not sent. `RESOURCE_EXHAUSTED`.
    public static let requestTooLarge = Code(.requestTooLarge)
    /// A response message is over the client's receive limit; it was not buffered. `RESOURCE_EXHAUSTED`.
    public static let responseTooLarge = Code(.responseTooLarge)
    /// A kept-alive lease got no renewal within its TTL: the client must assume it expired.
    public static let leaseExpired = Code(.leaseExpired)
    /// The server failed the call with a status that is not one of etcd's known errors; see `status`.
    public static let rpcFailed = Code(.rpcFailed)
    /// A watch's stream resumed on a server of another cluster (a different cluster id, e.g. a member
    /// recreated with new data behind the same address): its revisions do not carry over, so the watch ended
    /// rather than skip or repeat history. `FAILED_PRECONDITION`.
    public static let clusterChanged = Code(.clusterChanged)
    /// The server does not implement the method: it is an etcd release older than the method, as
    /// etcd 3.4 is for `downgrade(_:version:)` and `authStatus()`, which need etcd 3.5. The server
    /// answered `UNIMPLEMENTED`; the message names the method and the release it needs.
    ///
    /// Not etcd's `.notCapable`, which a server of a new enough release sends when its cluster's
    /// version is too low for a feature.
    public static let unsupportedByServer = Code(.unsupportedByServer)

    // MARK: etcd server errors

    /// `etcdserver: key is not provided`.
    public static let emptyKey = Code(.emptyKey)
    /// `etcdserver: key not found`.
    public static let keyNotFound = Code(.keyNotFound)
    /// `etcdserver: value is provided`.
    public static let valueProvided = Code(.valueProvided)
    /// `etcdserver: lease is provided`.
    public static let leaseProvided = Code(.leaseProvided)
    /// `etcdserver: too many operations in txn request`.
    public static let tooManyOps = Code(.tooManyOps)
    /// `etcdserver: duplicate key given in txn request`.
    public static let duplicateKey = Code(.duplicateKey)
    /// `etcdserver: mvcc: required revision has been compacted`.
    public static let compacted = Code(.compacted)
    /// `etcdserver: mvcc: required revision is a future revision`.
    public static let futureRevision = Code(.futureRevision)
    /// `etcdserver: mvcc: database space exceeded` (the NOSPACE alarm is raised).
    public static let noSpace = Code(.noSpace)
    /// `etcdserver: requested lease not found`.
    public static let leaseNotFound = Code(.leaseNotFound)
    /// `etcdserver: lease already exists`.
    public static let leaseExist = Code(.leaseExist)
    /// `etcdserver: too large lease TTL`.
    public static let leaseTTLTooLarge = Code(.leaseTTLTooLarge)
    /// `etcdserver: watch canceled`.
    public static let watchCanceled = Code(.watchCanceled)
    /// `etcdserver: member ID already exist`.
    public static let memberExist = Code(.memberExist)
    /// `etcdserver: Peer URLs already exists`.
    public static let peerURLExist = Code(.peerURLExist)
    /// `etcdserver: re-configuration failed due to not enough started members`.
    public static let memberNotEnoughStarted = Code(.memberNotEnoughStarted)
    /// `etcdserver: given member URLs are invalid`.
    public static let memberBadURLs = Code(.memberBadURLs)
    /// `etcdserver: member not found`.
    public static let memberNotFound = Code(.memberNotFound)
    /// `etcdserver: can only promote a learner member`.
    public static let memberNotLearner = Code(.memberNotLearner)
    /// `etcdserver: can only promote a learner member which is in sync with leader`.
    public static let learnerNotReady = Code(.learnerNotReady)
    /// `etcdserver: too many learner members in cluster`.
    public static let tooManyLearners = Code(.tooManyLearners)
    /// `etcdserver: request is too large`: the server's own request limit (`--max-request-bytes`).
    public static let serverRequestTooLarge = Code(.serverRequestTooLarge)
    /// `etcdserver: too many requests`.
    public static let tooManyRequests = Code(.tooManyRequests)
    /// `etcdserver: root user does not exist`.
    public static let rootUserNotExist = Code(.rootUserNotExist)
    /// `etcdserver: root user does not have root role`.
    public static let rootRoleNotExist = Code(.rootRoleNotExist)
    /// `etcdserver: user name already exists`.
    public static let userAlreadyExist = Code(.userAlreadyExist)
    /// `etcdserver: user name is empty`.
    public static let userEmpty = Code(.userEmpty)
    /// `etcdserver: user name not found`.
    public static let userNotFound = Code(.userNotFound)
    /// `etcdserver: role name already exists`.
    public static let roleAlreadyExist = Code(.roleAlreadyExist)
    /// `etcdserver: role name not found`.
    public static let roleNotFound = Code(.roleNotFound)
    /// `etcdserver: role name is empty`.
    public static let roleEmpty = Code(.roleEmpty)
    /// `etcdserver: authentication failed, invalid user ID or password`.
    public static let authFailed = Code(.authFailed)
    /// `etcdserver: permission not given` (etcd 3.5: a permission grant without a permission).
    public static let permissionNotGiven = Code(.permissionNotGiven)
    /// `etcdserver: permission denied`.
    public static let permissionDenied = Code(.permissionDenied)
    /// `etcdserver: role is not granted to the user`.
    public static let roleNotGranted = Code(.roleNotGranted)
    /// `etcdserver: permission is not granted to the role`.
    public static let permissionNotGranted = Code(.permissionNotGranted)
    /// `etcdserver: authentication is not enabled`.
    public static let authNotEnabled = Code(.authNotEnabled)
    /// `etcdserver: invalid auth token`.
    public static let invalidAuthToken = Code(.invalidAuthToken)
    /// `etcdserver: invalid auth management`.
    public static let invalidAuthManagement = Code(.invalidAuthManagement)
    /// `etcdserver: revision of auth store is old`.
    public static let authOldRevision = Code(.authOldRevision)
    /// `etcdserver: no leader`.
    public static let noLeader = Code(.noLeader)
    /// `etcdserver: not leader`.
    public static let notLeader = Code(.notLeader)
    /// `etcdserver: leader changed`.
    public static let leaderChanged = Code(.leaderChanged)
    /// `etcdserver: not capable`.
    public static let notCapable = Code(.notCapable)
    /// `etcdserver: server stopped`.
    public static let stopped = Code(.stopped)
    /// `etcdserver: request timed out` (the server's own timeout, not the client's deadline).
    public static let timeout = Code(.timeout)
    /// `etcdserver: request timed out, possibly due to previous leader failure`.
    public static let timeoutDueToLeaderFail = Code(.timeoutDueToLeaderFail)
    /// `etcdserver: request timed out, possibly due to connection lost`.
    public static let timeoutDueToConnectionLost = Code(.timeoutDueToConnectionLost)
    /// `etcdserver: request timed out, waiting for the applied index took too long`.
    public static let timeoutWaitAppliedIndex = Code(.timeoutWaitAppliedIndex)
    /// `etcdserver: unhealthy cluster`.
    public static let unhealthy = Code(.unhealthy)
    /// `etcdserver: corrupt cluster`.
    public static let corrupt = Code(.corrupt)
    /// `etcdserver: rpc not supported for learner`.
    public static let notSupportedForLearner = Code(.notSupportedForLearner)
    /// `etcdserver: bad leader transferee`.
    public static let badLeaderTransferee = Code(.badLeaderTransferee)
    /// `etcdserver: cluster version not found during downgrade` (etcd 3.5: the cluster has not
    /// decided its version yet, as right after it starts).
    public static let clusterVersionUnavailable = Code(.clusterVersionUnavailable)
    /// `etcdserver: wrong downgrade target version format` (etcd 3.5: not `major.minor[.patch]`).
    public static let wrongDowngradeVersionFormat = Code(.wrongDowngradeVersionFormat)
    /// `etcdserver: invalid downgrade target version` (etcd 3.5: not the minor release just below
    /// the cluster's version).
    public static let invalidDowngradeTargetVersion = Code(.invalidDowngradeTargetVersion)
    /// `etcdserver: cluster has a downgrade job in progress` (etcd 3.5).
    public static let downgradeInProcess = Code(.downgradeInProcess)
    /// `etcdserver: no inflight downgrade job` (etcd 3.5: there is no downgrade to cancel).
    public static let noInflightDowngrade = Code(.noInflightDowngrade)
  }

  /// What went wrong.
  public var code: Code
  /// The gRPC status the call ended with (for client-side failures, the status gRPC gives them).
  public var status: GRPCStatus
  /// The endpoint the call was sent to (or tried), when one was chosen.
  public var endpoint: String?
  /// The underlying error, when there is one (a socket error, a protobuf decoding error).
  public var cause: (any Error)?
  /// For `.compacted` errors of a watch: the store's compact revision. A new watch can start from it.
  public var compactRevision: Int64?
  /// Whether the request provably never reached a server (no connection, REFUSED_STREAM, a stream above a
  /// GOAWAY's last stream id), so that even a call changing state may be sent again.
  public internal(set) var requestNeverProcessed: Bool = false
  /// Whether this is a TLS handshake failure: retrying the same endpoint cannot help.
  var isTLSHandshakeFailure: Bool = false

  /// Creates an error.
  public init(code: Code, status: GRPCStatus, endpoint: String? = nil, cause: (any Error)? = nil) {
    self.code = code
    self.status = status
    self.endpoint = endpoint
    self.cause = cause
  }

  /// The message: the server's, or the client's description of the failure.
  public var message: String { status.message }

  /// The code, the gRPC status and its message, and the endpoint and cause when known, for logs.
  public var description: String {
    var text = "EtcdError(\(code.name), \(status.code)): \(status.message)"
    if let endpoint { text += " [endpoint \(endpoint)]" }
    if let cause { text += " (cause: \(cause))" }
    return text
  }
}

extension EtcdError {
  /// The error for a call that ended with a non-OK status from the server or the transport.
  ///
  /// etcd's own errors are recognised by their exact message, as `rpctypes.Error` does, in one table; the
  /// failures the client finds itself are told apart by where the call's end came from.
  /// `UNIMPLEMENTED` for a method that `method` says is newer than etcd 3.4 means a server too old
  /// for it: `.unsupportedByServer`, with a message naming the method and the release it needs,
  /// followed by the server's.
  init(
    status: GRPCStatus,
    origin: GRPCCallStateMachine.CallEnd.Origin,
    endpoint: String?,
    method: RPCMethod? = nil
  ) {
    let code: Code
    var status = status
    switch origin {
    case .server:
      if let known = EtcdError.serverErrors[status.message] {
        code = Code(known)
      } else if let context = EtcdError.serverContextEnd(status) {
        code = context
      } else if status.code == .unimplemented, let method, let version = method.minimumEtcdVersion {
        code = .unsupportedByServer
        let answer = status.message.isEmpty ? "" : " (\(status.message))"
        status.message =
          "\(method.service)/\(method.method) needs etcd \(version) or later:"
          + " the server does not implement it\(answer)"
      } else {
        code = .rpcFailed
      }
    case .malformedResponse: code = .invalidResponse
    case .responseTooLarge: code = .responseTooLarge
    case .connection: code = .connectionClosed
    case .cancelled: code = .cancelled
    case .deadline: code = .deadlineExceeded
    }
    self.init(code: code, status: status, endpoint: endpoint)
  }

  /// The code of a call the server ended because the call's own context ended there: gRPC's
  /// `DEADLINE_EXCEEDED` and `CANCELLED`, and the `UNKNOWN` status with Go's context error text that an
  /// etcd handler returns when the deadline the client sent passes inside it (as while a proposal waits
  /// for a leader).
  private static func serverContextEnd(_ status: GRPCStatus) -> Code? {
    switch (status.code, status.message) {
    case (.deadlineExceeded, _), (.unknown, "context deadline exceeded"): .deadlineExceeded
    case (.cancelled, _), (.unknown, "context canceled"): .cancelled
    default: nil
    }
  }

  /// etcd's server error messages (etcd's `rpctypes`, of etcd 3.4 and 3.5), each with its code.
  private static let serverErrors: [String: Code.Wrapped] = [
    "etcdserver: key is not provided": .emptyKey,
    "etcdserver: key not found": .keyNotFound,
    "etcdserver: value is provided": .valueProvided,
    "etcdserver: lease is provided": .leaseProvided,
    "etcdserver: too many operations in txn request": .tooManyOps,
    "etcdserver: duplicate key given in txn request": .duplicateKey,
    "etcdserver: mvcc: required revision has been compacted": .compacted,
    "etcdserver: mvcc: required revision is a future revision": .futureRevision,
    "etcdserver: mvcc: database space exceeded": .noSpace,
    "etcdserver: requested lease not found": .leaseNotFound,
    "etcdserver: lease already exists": .leaseExist,
    "etcdserver: too large lease TTL": .leaseTTLTooLarge,
    "etcdserver: watch canceled": .watchCanceled,
    "etcdserver: member ID already exist": .memberExist,
    "etcdserver: Peer URLs already exists": .peerURLExist,
    "etcdserver: re-configuration failed due to not enough started members": .memberNotEnoughStarted,
    "etcdserver: given member URLs are invalid": .memberBadURLs,
    "etcdserver: member not found": .memberNotFound,
    "etcdserver: can only promote a learner member": .memberNotLearner,
    "etcdserver: can only promote a learner member which is in sync with leader": .learnerNotReady,
    "etcdserver: too many learner members in cluster": .tooManyLearners,
    "etcdserver: request is too large": .serverRequestTooLarge,
    "etcdserver: too many requests": .tooManyRequests,
    "etcdserver: root user does not exist": .rootUserNotExist,
    "etcdserver: root user does not have root role": .rootRoleNotExist,
    "etcdserver: user name already exists": .userAlreadyExist,
    "etcdserver: user name is empty": .userEmpty,
    "etcdserver: user name not found": .userNotFound,
    "etcdserver: role name already exists": .roleAlreadyExist,
    "etcdserver: role name not found": .roleNotFound,
    "etcdserver: role name is empty": .roleEmpty,
    "etcdserver: authentication failed, invalid user ID or password": .authFailed,
    "etcdserver: permission not given": .permissionNotGiven,
    "etcdserver: permission denied": .permissionDenied,
    "etcdserver: role is not granted to the user": .roleNotGranted,
    "etcdserver: permission is not granted to the role": .permissionNotGranted,
    "etcdserver: authentication is not enabled": .authNotEnabled,
    "etcdserver: invalid auth token": .invalidAuthToken,
    "etcdserver: invalid auth management": .invalidAuthManagement,
    "etcdserver: revision of auth store is old": .authOldRevision,
    "etcdserver: no leader": .noLeader,
    "etcdserver: not leader": .notLeader,
    "etcdserver: leader changed": .leaderChanged,
    "etcdserver: not capable": .notCapable,
    "etcdserver: server stopped": .stopped,
    "etcdserver: request timed out": .timeout,
    "etcdserver: request timed out, possibly due to previous leader failure": .timeoutDueToLeaderFail,
    "etcdserver: request timed out, possibly due to connection lost": .timeoutDueToConnectionLost,
    "etcdserver: request timed out, waiting for the applied index took too long":
      .timeoutWaitAppliedIndex,
    "etcdserver: unhealthy cluster": .unhealthy,
    "etcdserver: corrupt cluster": .corrupt,
    "etcdserver: rpc not supported for learner": .notSupportedForLearner,
    "etcdserver: bad leader transferee": .badLeaderTransferee,
    "etcdserver: cluster version not found during downgrade": .clusterVersionUnavailable,
    "etcdserver: wrong downgrade target version format": .wrongDowngradeVersionFormat,
    "etcdserver: invalid downgrade target version": .invalidDowngradeTargetVersion,
    "etcdserver: cluster has a downgrade job in progress": .downgradeInProcess,
    "etcdserver: no inflight downgrade job": .noInflightDowngrade,
  ]
}

extension EtcdError {
  /// The error for a request that could not be framed: `.requestTooLarge` over the send limit,
  /// `.invalidRequest` when it cannot be serialized. Nothing was sent.
  init(framing error: GRPCMessageFramer.FramingError) {
    switch error {
    case .messageTooLarge:
      self.init(code: .requestTooLarge, status: error.status)
    case .serializationFailed(let cause):
      self.init(code: .invalidRequest, status: error.status, cause: cause)
    }
  }

  /// The error of a call made after `close()`, naming the endpoint when there is one.
  static func clientClosed(endpoint: String? = nil) -> EtcdError {
    EtcdError(
      code: .clientClosed,
      status: GRPCStatus(code: .unavailable, message: "the client is closed"),
      endpoint: endpoint
    )
  }
}
