// `import EtcdMetrics` gives the registry, the exposition formats, the /metrics server and the
// swift-metrics backend along with the client's interceptor.
@_exported public import PrometheusMetrics
