/// A comparison in a transaction's `if` part (`etcdserverpb.Compare`).
public struct Compare: Sendable, Hashable {
  /// How the target is compared.
  public enum Operator: Sendable, Hashable {
    /// `==`
    case equal
    /// `!=`
    case notEqual
    /// `>`
    case greater
    /// `<`
    case less
  }

  /// What is compared, and with what.
  public enum Target: Sendable, Hashable {
    /// The key's value.
    case value([UInt8])
    /// The key's version (0 when it does not exist).
    case version(Int64)
    /// The key's creation revision (0 when it does not exist).
    case createRevision(Int64)
    /// The key's modification revision (0 when it does not exist).
    case modRevision(Int64)
    /// The key's lease (nil for none).
    case lease(LeaseID?)
  }

  /// The key compared.
  public var key: [UInt8]
  /// Compare every key in `[key, rangeEnd)` instead of one key (all must satisfy it).
  public var range: KeyRangeEnd
  /// The operator.
  public var op: Operator
  /// The target and the operand.
  public var target: Target

  /// Creates a comparison.
  public init(key: some EtcdBytesConvertible, range: KeyRangeEnd = .single, _ op: Operator, _ target: Target) {
    self.key = key.etcdBytes
    self.range = range
    self.op = op
    self.target = target
  }

  /// Compares the key's value.
  public static func value(_ key: some EtcdBytesConvertible, _ op: Operator, _ value: some EtcdBytesConvertible)
    -> Compare
  {
    Compare(key: key, op, .value(value.etcdBytes))
  }

  /// Compares the key's version.
  public static func version(_ key: some EtcdBytesConvertible, _ op: Operator, _ version: Int64) -> Compare {
    Compare(key: key, op, .version(version))
  }

  /// Compares the key's creation revision.
  public static func createRevision(_ key: some EtcdBytesConvertible, _ op: Operator, _ revision: Int64)
    -> Compare
  {
    Compare(key: key, op, .createRevision(revision))
  }

  /// Compares the key's modification revision.
  public static func modRevision(_ key: some EtcdBytesConvertible, _ op: Operator, _ revision: Int64)
    -> Compare
  {
    Compare(key: key, op, .modRevision(revision))
  }

  /// Compares the key's lease.
  public static func lease(_ key: some EtcdBytesConvertible, _ op: Operator, _ lease: LeaseID?) -> Compare {
    Compare(key: key, op, .lease(lease))
  }
}

/// One operation of a transaction's `then` or `else` part.
public indirect enum TxnOperation: Sendable, Hashable {
  /// A put.
  case put(key: [UInt8], value: [UInt8], options: PutOptions)
  /// A read.
  case get(key: [UInt8], options: GetOptions)
  /// A delete.
  case delete(key: [UInt8], options: DeleteOptions)
  /// A nested transaction.
  case txn(Txn)

  /// A put.
  public static func put(
    _ key: some EtcdBytesConvertible,
    _ value: some EtcdBytesConvertible,
    options: PutOptions = .init()
  ) -> TxnOperation {
    .put(key: key.etcdBytes, value: value.etcdBytes, options: options)
  }

  /// A read.
  public static func get(_ key: some EtcdBytesConvertible, options: GetOptions = .init()) -> TxnOperation {
    .get(key: key.etcdBytes, options: options)
  }

  /// A delete.
  public static func delete(_ key: some EtcdBytesConvertible, options: DeleteOptions = .init()) -> TxnOperation {
    .delete(key: key.etcdBytes, options: options)
  }
}

/// A transaction: if every comparison holds, run `success`, else run `failure`, atomically.
///
/// ```swift
/// let response = try await client.txn(Txn(
///   if: [.version("lock", .equal, 0)],
///   then: [.put("lock", "owner-1")],
///   else: [.get("lock")]
/// ))
/// ```
public struct Txn: Sendable, Hashable {
  /// The comparisons, all of which must hold.
  public var compare: [Compare]
  /// The operations run when every comparison holds.
  public var success: [TxnOperation]
  /// The operations run otherwise.
  public var failure: [TxnOperation]

  /// Creates a transaction.
  public init(if compare: [Compare] = [], then success: [TxnOperation] = [], else failure: [TxnOperation] = []) {
    self.compare = compare
    self.success = success
    self.failure = failure
  }
}

/// The result of one transaction operation.
public indirect enum TxnOperationResponse: Sendable, Hashable {
  /// A put's result.
  case put(PutResponse)
  /// A read's result.
  case get(GetResponse)
  /// A delete's result.
  case delete(DeleteResponse)
  /// A nested transaction's result.
  case txn(TxnResponse)
}

/// The result of a transaction.
public struct TxnResponse: Sendable, Hashable {
  /// The response header.
  public var header: ResponseHeader
  /// Whether every comparison held (so `success` ran).
  public var succeeded: Bool
  /// The results of the operations that ran, in order.
  public var responses: [TxnOperationResponse]
}
