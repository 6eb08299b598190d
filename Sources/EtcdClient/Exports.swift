// The gRPC vocabulary of the public API (`GRPCStatus`, `GRPCStatusCode`, `ClientMetadata`) is
// defined in GRPCProtocol; `import EtcdClient` brings it along.
@_exported public import GRPCProtocol
