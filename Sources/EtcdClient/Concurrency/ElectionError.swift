/// An election call that cannot go on for a reason of the election itself, not of etcd: kept apart from
/// `EtcdError` (whose `.notLeader` and `.noLeader` are about etcd's raft leader, not an election's).
///
/// ```swift
/// do {
///   try await election.proclaim("10.0.0.2:8080")
/// } catch let error as ElectionError where error.code == .notLeader {
///   try await election.campaign(value: "10.0.0.2:8080")
/// }
/// ```
public struct ElectionError: Error, Sendable, Hashable, CustomStringConvertible {
  /// What went wrong. Compare with the static members: `error.code == .notLeader`.
  public struct Code: Hashable, Sendable, CustomStringConvertible {
    fileprivate enum Wrapped: String, Hashable, Sendable {
      case notLeader = "not_leader"
    }
    fileprivate let wrapped: Wrapped
    fileprivate init(_ wrapped: Wrapped) { self.wrapped = wrapped }

    /// A short, stable, snake_case name.
    public var name: String { wrapped.rawValue }

    /// The code's ``name``.
    public var description: String { name }

    /// This candidate is not the leader: it has not campaigned, has resigned, or its key was deleted or
    /// re-created (its session's lease was lost) (Go's `ErrElectionNotLeader`).
    public static let notLeader = Code(.notLeader)
  }

  /// What went wrong.
  public var code: Code
  /// A description of the failure.
  public var message: String

  /// Creates an error.
  public init(code: Code, message: String) {
    self.code = code
    self.message = message
  }

  /// The code's name and the message, for logs.
  public var description: String { "ElectionError(\(code.name)): \(message)" }
}
