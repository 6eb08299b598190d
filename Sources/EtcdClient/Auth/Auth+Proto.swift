import EtcdProto
import Foundation

// Conversions between the public auth types and the generated authpb and etcdserverpb messages.

extension Permission {
  /// The permission of a response.
  ///
  /// - Throws: `EtcdError` `.invalidResponse` for a permission type this client does not know.
  init(_ proto: Authpb_Permission) throws(EtcdError) {
    let type: PermissionType
    switch proto.permType {
    case .read: type = .read
    case .write: type = .write
    case .readwrite: type = .readWrite
    case .UNRECOGNIZED(let value):
      throw EtcdError(
        code: .invalidResponse,
        status: GRPCStatus(code: .internal, message: "unknown permission type \(value)")
      )
    }
    self.init(type: type, key: [UInt8](proto.key), rangeEnd: [UInt8](proto.rangeEnd))
  }
}

extension Authpb_Permission {
  init(_ permission: Permission) {
    self.init()
    self.permType =
      switch permission.type {
      case .read: .read
      case .write: .write
      case .readWrite: .readwrite
      }
    self.key = Data(permission.key)
    self.rangeEnd = Data(permission.rangeEnd)
  }
}
