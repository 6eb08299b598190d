import Synchronization

/// Free TCP ports on 127.0.0.1, for etcd members and the servers that tests start beside them.
package enum LoopbackPorts {
  /// Every port handed out in this process. The kernel may give a port that was bound and closed a moment
  /// ago to the next bind of port 0, and two members of one cluster (or a member's client and peer URL)
  /// must not share one.
  private static let ledger = Mutex(PortLedger())

  /// A TCP port on 127.0.0.1 that was free a moment ago, and that no earlier call in this process returned.
  ///
  /// Nothing holds the port: a process outside this one may take it before its user binds it.
  ///
  /// - Returns: The port.
  /// - Throws: `EtcdProcessError` `.noFreePort` when no port can be bound, or 64 binds in a row gave ports
  ///   handed out already.
  package static func allocate() throws(EtcdProcessError) -> Int {
    try ledger.withLock { ledger throws(EtcdProcessError) in
      try ledger.claim(LoopbackSocket.boundAndReleasedPort)
    }
  }
}

/// The ports handed out so far, and the choice of the next one from candidates the kernel gives.
struct PortLedger {
  /// The ports handed out so far.
  private(set) var handedOut: Set<Int> = []

  /// The first port from `candidate` that was not handed out before, now recorded as handed out.
  ///
  /// - Parameters:
  ///   - tries: How many candidates to look at before giving up.
  ///   - candidate: Gives a free port; its error ends the search.
  /// - Throws: The error of `candidate`, or `EtcdProcessError` `.noFreePort` after `tries` repeats.
  mutating func claim(
    tries: Int = 64,
    _ candidate: () throws(EtcdProcessError) -> Int
  ) throws(EtcdProcessError) -> Int {
    for _ in 0..<tries {
      let port = try candidate()
      if handedOut.insert(port).inserted { return port }
    }
    throw EtcdProcessError(
      .noFreePort, "no free loopback port that was not handed out already, in \(tries) tries")
  }
}
