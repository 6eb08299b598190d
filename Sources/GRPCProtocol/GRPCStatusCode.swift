/// A gRPC status code, as defined by gRPC's `statuscodes.md` and carried in the `grpc-status` trailer.
public enum GRPCStatusCode: Int, Sendable, Hashable, CaseIterable, CustomStringConvertible {
  /// Not an error; returned on success.
  case ok = 0
  /// The operation was cancelled, typically by the caller.
  case cancelled = 1
  /// Unknown error.
  case unknown = 2
  /// The client specified an invalid argument.
  case invalidArgument = 3
  /// The deadline expired before the operation could complete.
  case deadlineExceeded = 4
  /// Some requested entity was not found.
  case notFound = 5
  /// The entity that a client attempted to create already exists.
  case alreadyExists = 6
  /// The caller does not have permission to execute the operation.
  case permissionDenied = 7
  /// Some resource has been exhausted (quota, message size, ...).
  case resourceExhausted = 8
  /// The system is not in a state required for the operation's execution.
  case failedPrecondition = 9
  /// The operation was aborted, typically due to a concurrency issue.
  case aborted = 10
  /// The operation was attempted past the valid range.
  case outOfRange = 11
  /// The operation is not implemented or supported by the server.
  case unimplemented = 12
  /// Internal error: an invariant expected by the underlying system was broken.
  case `internal` = 13
  /// The service is currently unavailable; usually transient.
  case unavailable = 14
  /// Unrecoverable data loss or corruption.
  case dataLoss = 15
  /// The request does not have valid authentication credentials.
  case unauthenticated = 16

  /// The name gRPC uses for the code in upper snake case, e.g. `DEADLINE_EXCEEDED`; also the value of
  /// go-grpc-prometheus' `grpc_code` label (which uses the Go names, e.g. `DeadlineExceeded`, see `goName`).
  public var description: String {
    switch self {
    case .ok: "OK"
    case .cancelled: "CANCELLED"
    case .unknown: "UNKNOWN"
    case .invalidArgument: "INVALID_ARGUMENT"
    case .deadlineExceeded: "DEADLINE_EXCEEDED"
    case .notFound: "NOT_FOUND"
    case .alreadyExists: "ALREADY_EXISTS"
    case .permissionDenied: "PERMISSION_DENIED"
    case .resourceExhausted: "RESOURCE_EXHAUSTED"
    case .failedPrecondition: "FAILED_PRECONDITION"
    case .aborted: "ABORTED"
    case .outOfRange: "OUT_OF_RANGE"
    case .unimplemented: "UNIMPLEMENTED"
    case .internal: "INTERNAL"
    case .unavailable: "UNAVAILABLE"
    case .dataLoss: "DATA_LOSS"
    case .unauthenticated: "UNAUTHENTICATED"
    }
  }

  /// The name of the code in Go's `codes` package (`codes.Code.String()`), e.g. `DeadlineExceeded`.
  ///
  /// go-grpc-prometheus uses these names as the value of its `grpc_code` label.
  public var goName: String {
    switch self {
    case .ok: "OK"
    case .cancelled: "Canceled"
    case .unknown: "Unknown"
    case .invalidArgument: "InvalidArgument"
    case .deadlineExceeded: "DeadlineExceeded"
    case .notFound: "NotFound"
    case .alreadyExists: "AlreadyExists"
    case .permissionDenied: "PermissionDenied"
    case .resourceExhausted: "ResourceExhausted"
    case .failedPrecondition: "FailedPrecondition"
    case .aborted: "Aborted"
    case .outOfRange: "OutOfRange"
    case .unimplemented: "Unimplemented"
    case .internal: "Internal"
    case .unavailable: "Unavailable"
    case .dataLoss: "DataLoss"
    case .unauthenticated: "Unauthenticated"
    }
  }
}

/// A gRPC status: a code and an optional human-readable message.
public struct GRPCStatus: Sendable, Hashable, CustomStringConvertible {
  /// The status code.
  public var code: GRPCStatusCode
  /// The message sent with the status (`grpc-message`), percent-decoded; empty when none was sent.
  public var message: String

  /// Creates a status.
  public init(code: GRPCStatusCode, message: String = "") {
    self.code = code
    self.message = message
  }

  /// The status of a successful call.
  public static let ok = GRPCStatus(code: .ok)

  /// The code's name, followed by the message when there is one.
  public var description: String {
    message.isEmpty ? code.description : "\(code): \(message)"
  }
}
