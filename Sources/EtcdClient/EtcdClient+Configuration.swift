public import Logging
public import NIOCore
import NIOPosix
public import Tracing

extension EtcdClient {
  /// How a client connects and calls. Required values go in `init`; every other knob has a production-safe
  /// default, as in Go's `clientv3.Config`.
  public struct Configuration: Sendable {
    /// The endpoints, as `host:port`, `http://host:port` or `[ipv6]:port`. Calls are spread over them in turn.
    public var endpoints: [String]
    /// How long one connection attempt may take (clientv3's `DialTimeout`). Default: 5 seconds.
    public var dialTimeout: Duration = .seconds(5)
    /// The deadline of a call that is given no `timeout` of its own. Default: 5 seconds, as `etcdctl`'s
    /// `--command-timeout`. `nil` means no deadline.
    public var defaultRequestTimeout: Duration? = .seconds(5)
    /// The largest request message the client sends (clientv3's `MaxCallSendMsgSize`). Default: 2 MiB.
    ///
    /// A larger request fails with `EtcdError.Code.requestTooLarge` before anything is sent. The server has its
    /// own limit (`--max-request-bytes`, 1.5 MiB by default).
    public var maxSendMessageSize: Int = 2 * 1024 * 1024
    /// The largest response message the client accepts (clientv3's `MaxCallRecvMsgSize`).
    /// Default: `Int32.max`. A larger response fails its call with `.responseTooLarge` without being buffered.
    public var maxReceiveMessageSize: Int = Int(Int32.max)
    /// Interceptors that see every call, in order (see `ClientInterceptor`). Default: none.
    public var interceptors: [any ClientInterceptor] = []
    /// The tracer that gets a client span per call and per opened stream, whose context goes to the
    /// server as gRPC metadata (`traceparent` with an OpenTelemetry tracer). Default: nil, no tracing,
    /// and no cost on the call path. `InstrumentationSystem.tracer` is the process's bootstrapped
    /// tracer. The span comes before the configured interceptors: they see it as
    /// `ClientCallInfo.span` in every hook.
    public var tracer: (any Tracer)?
    /// Where the client logs its connection events, each once, with the endpoint (`etcd.endpoint`)
    /// and what else applies (`rpc.method`, `etcd.attempt`, `error`) as metadata: connected and
    /// disconnected (info), a failed connect (warning), GOAWAY (notice), a keepalive PING timeout
    /// (warning), a call retried (info) or failed over to another member (notice), a Watch or
    /// LeaseKeepAlive stream resumed (info), a lease lost (warning), the auth token fetched again
    /// (info). Never a key, a value, a token or a password. Default: a logger that drops everything.
    public var logger: Logger = Logger(label: "etcd-client", factory: { _ in SwiftLogNoOpLogHandler() })
    /// The event loops: each client runs all its connections on one loop of the group, taken at `init`
    /// (see `EtcdClient.taskExecutor`). Default: NIO's shared singleton group.
    public var eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    /// HTTP/2 PING keepalive (clientv3's `DialKeepAliveTime` and `DialKeepAliveTimeout`): while calls or
    /// streams are open, the client pings each connection every `interval`; a PING not acknowledged within
    /// `timeout` fails that connection, so its calls end, retries and watches move to another endpoint.
    /// Default: every 10 s, 10 s timeout. nil turns it off. etcd's server refuses pings more often than its
    /// `--grpc-keepalive-min-time` (5 s by default).
    public var keepalive: Keepalive? = .defaults
    /// How often to replace the endpoints with the client URLs of the cluster's members (clientv3's
    /// `AutoSyncInterval`); nil, the default, never does. Connections to endpoints that remain are kept.
    public var autoSyncInterval: Duration?
    /// The user to authenticate as (clientv3's `Username`); nil for a cluster without auth. The client fetches a
    /// token with `password`, sends it with every call, and fetches a new one once when a call fails with
    /// `.invalidAuthToken`.
    public var username: String?
    /// The password of `username`. Never logged.
    public var password: String?
    /// The `user-agent` sent with every call.
    public var userAgent: String = "etcd-swift/0.1"
    /// TLS for the connections (see `TLS`). Default: nil: `host:port` and `http://` endpoints are plain, and
    /// `https://` endpoints use TLS with `TLS.defaults` (the system's trusted CAs), as clientv3 does. When set,
    /// `host:port` and `https://` endpoints use it; `http://` endpoints stay plain.
    public var tls: TLS?

    /// Creates a configuration for these endpoints.
    public init(endpoints: [String]) {
      self.endpoints = endpoints
    }
  }

  /// PING keepalive settings.
  public struct Keepalive: Sendable, Hashable {
    /// Time between PINGs while calls are open.
    public var interval: Duration
    /// How long to wait for a PING's acknowledgement.
    public var timeout: Duration

    /// Creates keepalive settings.
    public init(interval: Duration, timeout: Duration) {
      self.interval = interval
      self.timeout = timeout
    }

    /// Every 10 s, with a 10 s timeout.
    public static var defaults: Keepalive { Keepalive(interval: .seconds(10), timeout: .seconds(10)) }
  }
}
