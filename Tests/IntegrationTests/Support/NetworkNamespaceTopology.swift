import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// The namespaces, veth links and addresses of a ``NetworkNamespaceCluster``, so that a member's client
/// traffic and its peer traffic can fail apart:
///
/// ```
///  test's own namespace                member namespace enfPID-mI            switch namespace enfPID-sw
///  enfPIDcI 10.B.C.4I+1/30 ---veth--- client 10.B.C.4I+2/30
///                                      peer 10.B.C+1.I+1/24 ---veth--- pI (port of bridge sw0)
/// ```
///
/// Every name carries the PID of the test process that made it, so a later run can tell leftovers of a
/// process that died (``deleteLeftovers()``). Neighbour entries are permanent on both links, so a link that
/// is cut drops frames silently instead of failing ARP.
struct NetworkNamespaceTopology: Sendable {
  /// One member's namespace, addresses and links.
  struct Member: Sendable {
    /// The namespace the member runs in.
    let namespace: NetworkNamespace
    /// Where the member serves clients: its end of the client link.
    let clientAddress: String
    /// Where the member talks to its peers: its port on the bridge.
    let peerAddress: String
    /// The member's end of the client link: cut, the test process cannot reach the member.
    let clientLink: NetworkLink
    /// The bridge's end of the member's peer link: cut, the member cannot reach its peers.
    let peerLink: NetworkLink
  }

  /// The PID whose names these are.
  let owner: pid_t
  /// The namespace of the bridge between the members.
  let switchNamespace: NetworkNamespace
  /// The members, in order.
  let members: [Member]
  /// The subnets the links use.
  let subnets: NetworkFaultSubnets

  /// What every name of the fixture starts with, before the owner's PID.
  static let namePrefix = "enf"

  /// Creates namespaces and links for `size` members, on subnets no address or route of the machine
  /// overlaps. Runs under a machine-wide lock, so two test processes cannot pick the same subnets.
  ///
  /// - Throws: `FixtureError` when a command fails or no subnet is free; what was made is deleted first.
  static func create(size: Int) throws -> NetworkNamespaceTopology {
    precondition((1...NetworkFaultSubnets.maximumMembers).contains(size), "1 to 64 members")
    let owner = getpid()
    return try withMachineLock {
      let occupied = IPv4Prefix.all(
        in: try NetworkNamespace.ip(["-4", "-o", "addr", "show"])
          + "\n" + NetworkNamespace.ip(["-4", "route", "show", "table", "all"]))
      guard let subnets = NetworkFaultSubnets.choose(pid: owner, occupied: occupied) else {
        throw FixtureError("no free 10.64-127.x.0/24 pair for the network fault fixture")
      }
      var made: [NetworkNamespace] = []
      do {
        let switchNamespace = try NetworkNamespace.create(namespaceName(owner: owner, role: "sw"))
        made.append(switchNamespace)
        try switchNamespace.ip(["link", "add", "name", "sw0", "type", "bridge"])
        try switchNamespace.ip(["link", "set", "sw0", "up"])
        var members: [Member] = []
        for index in 0..<size {
          let namespace = try NetworkNamespace.create(namespaceName(owner: owner, role: "m\(index)"))
          made.append(namespace)
          members.append(
            try connect(index, in: namespace, owner: owner, switchNamespace: switchNamespace, subnets: subnets))
        }
        // Each member knows every peer's MAC address for good: a cut link never turns into an ARP failure.
        for (index, member) in members.enumerated() {
          for other in members.indices where other != index {
            try member.namespace.ip([
              "neigh", "replace", subnets.peerAddress(of: other), "dev", "peer",
              "lladdr", mac(kind: 3, member: other), "nud", "permanent",
            ])
          }
        }
        return NetworkNamespaceTopology(
          owner: owner, switchNamespace: switchNamespace, members: members, subnets: subnets)
      } catch {
        for namespace in made.reversed() { namespace.delete() }
        throw error
      }
    }
  }

  /// Makes member `index`'s client link (to the test's own namespace) and its peer link (to the bridge).
  private static func connect(
    _ index: Int,
    in namespace: NetworkNamespace,
    owner: pid_t,
    switchNamespace: NetworkNamespace,
    subnets: NetworkFaultSubnets
  ) throws -> Member {
    let host = hostInterfaceName(owner: owner, member: index)
    let hostAddress = subnets.hostAddress(of: index)
    let clientAddress = subnets.clientAddress(of: index)
    try NetworkNamespace.ip([
      "link", "add", "name", host, "address", mac(kind: 1, member: index), "type", "veth",
      "peer", "name", "client", "netns", namespace.name, "address", mac(kind: 2, member: index),
    ])
    try NetworkNamespace.ip(["addr", "add", "\(hostAddress)/30", "dev", host])
    try NetworkNamespace.ip(["link", "set", host, "up"])
    try NetworkNamespace.ip([
      "neigh", "replace", clientAddress, "dev", host, "lladdr", mac(kind: 2, member: index), "nud", "permanent",
    ])
    try namespace.ip(["addr", "add", "\(clientAddress)/30", "dev", "client"])
    try namespace.ip(["link", "set", "client", "up"])
    try namespace.ip([
      "neigh", "replace", hostAddress, "dev", "client", "lladdr", mac(kind: 1, member: index), "nud", "permanent",
    ])

    let port = "p\(index)"
    try switchNamespace.ip([
      "link", "add", "name", port, "type", "veth",
      "peer", "name", "peer", "netns", namespace.name, "address", mac(kind: 3, member: index),
    ])
    try switchNamespace.ip(["link", "set", port, "master", "sw0"])
    try switchNamespace.ip(["link", "set", port, "up"])
    try namespace.ip(["addr", "add", "\(subnets.peerAddress(of: index))/24", "dev", "peer"])
    try namespace.ip(["link", "set", "peer", "up"])
    return Member(
      namespace: namespace,
      clientAddress: clientAddress,
      peerAddress: subnets.peerAddress(of: index),
      clientLink: NetworkLink(namespace: namespace, interface: "client"),
      peerLink: NetworkLink(namespace: switchNamespace, interface: port)
    )
  }

  /// Deletes the namespaces; the veths go with them. Stop the processes inside first.
  func delete() {
    for member in members { member.namespace.delete() }
    switchNamespace.delete()
    // A host end whose namespace is gone disappears with it; one left (a process still held the namespace)
    // is deleted by name.
    for index in members.indices {
      _ = try? NetworkNamespace.ip(["link", "delete", Self.hostInterfaceName(owner: owner, member: index)])
    }
  }

  /// Deletes what earlier runs whose process is dead left behind: their empty namespaces and host-side
  /// veths. A namespace that still holds a process is left as it is (the fixture stops only processes it
  /// started), and the subnet choice steps around its addresses. Names of live processes, this one's
  /// included, are left alone.
  static func deleteLeftovers() {
    for name in (try? NetworkNamespace.allNames()) ?? [] {
      guard let owner = owner(of: name, separator: "-"), isDead(owner) else { continue }
      let namespace = NetworkNamespace(name: name)
      let processes = namespace.processIDs
      guard processes.isEmpty else {
        print("network fault fixture: \(name), left by a run that is gone, still holds PIDs \(processes): kept")
        continue
      }
      namespace.delete()
    }
    let links = (try? NetworkNamespace.ip(["-o", "link", "show"])) ?? ""
    for line in links.split(whereSeparator: \.isNewline) {
      // `12: enf4711c0@if2: <...>`
      let words = line.split(separator: " ")
      guard words.count > 1 else { continue }
      let name = String(words[1].prefix { $0 != "@" && $0 != ":" })
      guard let owner = owner(of: name, separator: "c"), isDead(owner) else { continue }
      _ = try? NetworkNamespace.ip(["link", "delete", name])
    }
  }

  /// `enfPID-ROLE`: the name of a namespace of the fixture.
  static func namespaceName(owner: pid_t, role: String) -> String { "\(namePrefix)\(owner)-\(role)" }

  /// `enfPIDcI`: the test process's end of member `member`'s client link (at most 15 characters: a PID has
  /// at most 7 digits, and a member index 2).
  static func hostInterfaceName(owner: pid_t, member: Int) -> String { "\(namePrefix)\(owner)c\(member)" }

  /// The PID in a fixture name: the digits after the prefix, up to `separator`; nil for other names.
  static func owner(of name: String, separator: Character) -> pid_t? {
    guard name.hasPrefix(namePrefix) else { return nil }
    let rest = name.dropFirst(namePrefix.count)
    guard let end = rest.firstIndex(of: separator) else { return nil }
    return pid_t(rest[..<end])
  }

  /// A locally administered MAC address: `kind` 1 the host end of a client link, 2 the member's end, 3 the
  /// member's port on the bridge. Each link is private to one run, so runs may share these.
  private static func mac(kind: Int, member: Int) -> String {
    "02:00:00:00:0\(kind):" + String(member, radix: 16).leftPadded(to: 2)
  }

  /// Whether no process has the PID any more (a PID of another user's process counts as alive).
  static func isDead(_ pid: pid_t) -> Bool {
    pid != getpid() && kill(pid, 0) == -1 && errno == ESRCH
  }

  /// Runs `body` holding an exclusive `flock` on a file every test process of the machine locks.
  private static func withMachineLock<T>(_ body: () throws -> T) throws -> T {
    let fd = open("/tmp/etcd-network-fault-fixture.lock", O_RDWR | O_CREAT | O_CLOEXEC, 0o666)
    guard fd >= 0 else { throw FixtureError("cannot open the fixture's lock file: errno \(errno)") }
    defer { close(fd) }
    guard flock(fd, LOCK_EX) == 0 else { throw FixtureError("cannot lock the fixture's lock file: errno \(errno)") }
    defer { flock(fd, LOCK_UN) }
    return try body()
  }
}

extension String {
  /// The string with leading zeros up to `width` characters.
  fileprivate func leftPadded(to width: Int) -> String {
    String(repeating: "0", count: max(0, width - count)) + self
  }
}
