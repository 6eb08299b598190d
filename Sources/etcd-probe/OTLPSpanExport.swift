import ArgumentParser
import Logging
import ServiceLifecycle
import Tracing

#if OTLP
  import OTel
#endif

/// The export of the probe's client spans with OTLP/HTTP (protobuf), for `--otlp-endpoint`: a
/// tracer for the probe's clients, and the service that batches the finished spans and POSTs them.
///
/// Present only in a probe built with the package trait `OTLP` (`swift build --traits OTLP`):
/// swift-otel and its HTTP client take minutes to build, so the default build leaves them out, and
/// `--otlp-endpoint` is then refused with that command.
struct OTLPSpanExport {
  /// The tracer to give every client: its spans go to the endpoint.
  let tracer: any Tracer
  /// Batches and sends the spans; its graceful shutdown sends the ones still waiting.
  let service: any Service

  /// Whether this build can export spans: it was built with the `OTLP` trait.
  static var isBuilt: Bool {
    #if OTLP
      true
    #else
      false
    #endif
  }

  /// What `--otlp-endpoint` answers in a build without the `OTLP` trait.
  static let notBuiltMessage =
    "--otlp-endpoint needs a probe built with the OTLP trait: swift build --traits OTLP"

  /// A tracer whose spans, named after the RPC method (`etcdserverpb.KV/Put`), go to `endpoint`
  /// with OTLP/HTTP and protobuf, as `etcd-probe` service; sampled always (the probe's calls are
  /// few), W3C `traceparent` to etcd.
  ///
  /// - Parameters:
  ///   - endpoint: The URL the spans are POSTed to, as is (`http://collector:4318/v1/traces`).
  ///   - logger: Where the exporter's own problems go.
  /// - Throws: `ValidationError` in a build without the `OTLP` trait, or swift-otel's error when it
  ///   refuses the configuration.
  init(endpoint: String, logger: Logger) throws {
    #if OTLP
      var configuration = OTel.Configuration.default
      configuration.serviceName = "etcd-probe"
      configuration.diagnosticLogger = .custom(logger)
      configuration.propagators = [.traceContext]
      configuration.traces.sampler = .alwaysOn
      configuration.traces.exporter = .otlp
      configuration.traces.otlpExporter.protocol = .httpProtobuf
      configuration.traces.otlpExporter.endpoint = endpoint
      configuration.metrics.enabled = false
      configuration.logs.enabled = false
      let backend = try OTel.makeTracingBackend(configuration: configuration)
      tracer = backend.factory
      service = backend.service
    #else
      throw ValidationError(Self.notBuiltMessage)
    #endif
  }
}
