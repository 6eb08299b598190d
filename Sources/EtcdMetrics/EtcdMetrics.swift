// EtcdMetrics: the registry, the client interceptor that records per-RPC metrics, Prometheus exposition and the
// /metrics server. Its substance arrives with the metrics issue; nothing here is public yet.
