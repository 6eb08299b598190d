import GRPCProtocol
import Tracing

/// Writes a tracer's propagation fields (W3C `traceparent` and `tracestate` with an OpenTelemetry
/// tracer) into a call's gRPC metadata, for `Tracer.inject`.
///
/// A field whose name HTTP/2 or gRPC reserves (`grpc-trace-bin`, say) is left out: `ClientMetadata`
/// refuses those names, and sending them would break the call.
struct ClientMetadataInjector: Injector {
  func inject(_ value: String, forKey key: String, into carrier: inout ClientMetadata) {
    let name = key.lowercased()
    guard !name.hasPrefix(":"), !name.hasPrefix("grpc-"), name != "content-type", name != "te"
    else { return }
    carrier.add(name, value)
  }
}
