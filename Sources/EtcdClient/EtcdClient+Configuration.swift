public import NIOCore
import NIOPosix

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
    /// The event loops the client's connections run on. Default: NIO's shared singleton group.
    public var eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    /// The user to authenticate as (clientv3's `Username`); nil for a cluster without auth. The client fetches a
    /// token with `password`, sends it with every call, and fetches a new one once when a call fails with
    /// `.invalidAuthToken`.
    public var username: String?
    /// The password of `username`. Never logged.
    public var password: String?
    /// The `user-agent` sent with every call.
    public var userAgent: String = "etcd-swift/0.1"

    /// Creates a configuration for these endpoints.
    public init(endpoints: [String]) {
      self.endpoints = endpoints
    }
  }
}
