// The gRPC vocabulary of the public API is defined in GRPCProtocol; `import EtcdClient` brings these three
// types along, and nothing else of the gRPC core (import GRPCProtocol for the framer and state machines).
@_exported public import struct GRPCProtocol.GRPCStatus
@_exported public import enum GRPCProtocol.GRPCStatusCode
@_exported public import struct GRPCProtocol.ClientMetadata
