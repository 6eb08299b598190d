/// A lease's ID: what `grantLease` answers and what keys are put with (`PutOptions(lease:)`).
///
/// etcd's wire uses a 64-bit integer where 0 means "no lease"; here a lease is always a `LeaseID`, and "no
/// lease" is `nil`. It prints in hex, as etcdctl prints lease IDs (`694d8a1b2c3d4e5f`).
///
/// ```swift
/// let lease = try await client.grantLease(ttl: .seconds(10))
/// try await client.put("service/instance-1", "10.0.0.1:8080", options: .init(lease: lease.id))
/// print("lease \(lease.id) granted")
/// ```
public struct LeaseID: RawRepresentable, Hashable, Comparable, Sendable, CustomStringConvertible {
  /// The ID on the wire; never 0.
  public let rawValue: Int64

  /// The lease with this wire ID.
  public init(rawValue: Int64) {
    self.rawValue = rawValue
  }

  /// The lease with this wire ID: `LeaseID(0x1234)`.
  public init(_ rawValue: Int64) {
    self.rawValue = rawValue
  }

  /// The lease of a wire ID, or nil for 0 (no lease).
  init?(wire: Int64) {
    guard wire != 0 else { return nil }
    self.rawValue = wire
  }

  /// The ID in hex, as etcdctl prints it.
  public var description: String { String(rawValue, radix: 16) }

  /// Orders by the wire ID.
  public static func < (lhs: LeaseID, rhs: LeaseID) -> Bool { lhs.rawValue < rhs.rawValue }
}

extension Optional where Wrapped == LeaseID {
  /// The wire ID: 0 for no lease.
  var wire: Int64 { self?.rawValue ?? 0 }
}
