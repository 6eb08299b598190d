/// Every name, help text, label and bucket layout of the client's per-RPC metrics, in one place.
///
/// The go-grpc-prometheus families keep that library's names and labels (`grpc_type`, `grpc_service`,
/// `grpc_method`, `grpc_code` with Go's code names), so dashboards written for Go clients work unchanged. The
/// gRFC A66 families use A66's Prometheus names and labels (`grpc_method` as `service/method`, `grpc_target`,
/// `grpc_status` with the upper-case code names).
enum RPCMetricsNames {
  // go-grpc-prometheus
  static let started = "grpc_client_started_total"
  static let startedHelp = "Total number of RPCs started on the client."
  static let handled = "grpc_client_handled_total"
  static let handledHelp =
    "Total number of RPCs completed by the client, regardless of success or failure."
  static let messagesSent = "grpc_client_msg_sent_total"
  static let messagesSentHelp = "Total number of gRPC stream messages sent by the client."
  static let messagesReceived = "grpc_client_msg_received_total"
  static let messagesReceivedHelp =
    "Total number of RPC stream messages received by the client."
  static let handlingSeconds = "grpc_client_handling_seconds"
  static let handlingSecondsHelp =
    "Histogram of response latency (seconds) of the gRPC until it is finished by the application."

  // Message sizes, per message.
  static let sentBytes = "grpc_client_msg_sent_bytes"
  static let sentBytesHelp =
    "Histogram of the size of each message sent, serialized, without the 5-byte gRPC prefix."
  static let receivedBytes = "grpc_client_msg_received_bytes"
  static let receivedBytesHelp =
    "Histogram of the size of each message received, serialized, without the 5-byte gRPC prefix."

  // Calls in flight.
  static let inFlight = "etcd_client_calls_in_flight"
  static let inFlightHelp = "Number of RPCs (unary calls and open streams) in flight."

  // gRFC A66 (and A96 for retries)
  static let attemptStarted = "grpc_client_attempt_started_total"
  static let attemptStartedHelp = "Number of client call attempts started."
  static let attemptDuration = "grpc_client_attempt_duration_seconds"
  static let attemptDurationHelp = "End-to-end time taken to complete a client call attempt."
  static let attemptSentSize = "grpc_client_attempt_sent_total_compressed_message_size_bytes"
  static let attemptSentSizeHelp =
    "Compressed message bytes sent per client call attempt (no compression is used)."
  static let attemptReceivedSize = "grpc_client_attempt_rcvd_total_compressed_message_size_bytes"
  static let attemptReceivedSizeHelp =
    "Compressed message bytes received per call attempt (no compression is used)."
  static let callDuration = "grpc_client_call_duration_seconds"
  static let callDurationHelp =
    "Time taken by gRPC to complete an RPC from the application's perspective."
  static let callRetries = "grpc_client_call_retries"
  static let callRetriesHelp =
    "Number of retries during the client call; calls without retries are not recorded."

  // Labels
  static let type = "grpc_type"
  static let service = "grpc_service"
  static let method = "grpc_method"
  static let code = "grpc_code"
  static let endpoint = "etcd_endpoint"
  static let etcdError = "etcd_error"
  static let target = "grpc_target"
  static let status = "grpc_status"

  /// gRFC A66's latency buckets, 10 µs to 100 s.
  static let latencyBuckets: [Double] = [
    0.00001, 0.00005, 0.0001, 0.0003, 0.0006, 0.0008, 0.001, 0.002, 0.003, 0.004, 0.005, 0.006,
    0.008, 0.01, 0.013, 0.016, 0.02, 0.025, 0.03, 0.04, 0.05, 0.065, 0.08, 0.1, 0.13, 0.16, 0.2,
    0.25, 0.3, 0.4, 0.5, 0.65, 0.8, 1, 2, 5, 10, 20, 50, 100,
  ]

  /// Message-size buckets, dense below and around the client's 2 MiB default send limit (and etcd's
  /// 1.5 MiB default request limit), so the distance to the limit shows.
  static let messageSizeBuckets: [Double] = [
    64, 256, 1024, 4096, 16384, 65536, 262_144, 524_288, 1_048_576, 1_572_864, 1_835_008,
    2_097_152, 4_194_304, 16_777_216, 67_108_864,
  ]

  /// gRFC A66's size buckets for per-attempt totals.
  static let attemptSizeBuckets: [Double] = [
    0, 1024, 2048, 4096, 16384, 65536, 262_144, 1_048_576, 4_194_304, 16_777_216, 67_108_864,
    268_435_456, 1_073_741_824, 4_294_967_296,
  ]

  /// Retry-count buckets (A96).
  static let retryBuckets: [Double] = [1, 2, 3, 4, 5]
}
