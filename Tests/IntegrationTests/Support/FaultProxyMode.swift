/// What a ``FaultProxy`` does to the bytes it relays, switchable while connections are open. A connection
/// that lost bytes to a dropping mode keeps losing them after the mode changes (``FaultProxyLane/broken``).
enum FaultProxyMode: Sendable, Hashable {
  /// Every chunk goes on at once.
  case pass
  /// Every chunk goes on after this long, in both directions, in the order it came.
  case delay(Duration)
  /// Bytes from the server to the client are discarded: requests reach the server and take effect, their
  /// answers are lost.
  case dropResponses
  /// Bytes from the client to the server are discarded: the server never hears the requests.
  case dropRequests
  /// Bytes in both directions are discarded.
  case blackhole
}
