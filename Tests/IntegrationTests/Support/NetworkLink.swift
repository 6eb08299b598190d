/// One end of a veth pair: the switch that cuts the link and restores it.
///
/// Taking the end down leaves its partner up but without carrier: the kernel drops every frame sent over the
/// pair, in both directions, and tells neither side's sockets (no RST, no ICMP). With the permanent
/// neighbour entries the fixture sets, no ARP failure reports the loss either, so TCP connections across the
/// link just stop hearing from each other, as across a real partition, until the end is up again.
struct NetworkLink: Sendable, Hashable {
  /// The namespace that holds the end.
  let namespace: NetworkNamespace
  /// The end's interface name in that namespace.
  let interface: String

  /// Takes the end down (`ip link set IFACE down`): the link carries nothing.
  func cut() throws {
    try namespace.ip(["link", "set", interface, "down"])
  }

  /// Brings the end up (`ip link set IFACE up`): the link carries frames again.
  func restore() throws {
    try namespace.ip(["link", "set", interface, "up"])
  }
}
