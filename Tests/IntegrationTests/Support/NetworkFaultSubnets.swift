/// The two private /24s one network-namespace cluster uses: `10.B.C.0/24` for the client links (member `i`
/// gets the /30 `10.B.C.4i`, the host end `.4i+1`, the member end `.4i+2`) and `10.B.(C+1).0/24` for the
/// peers' bridge (member `i` at `.i+1`).
///
/// `B` is in 64...127 and `C` even, both derived from the test process's PID and an attempt number, so two
/// runs on one machine start from different candidates and step past subnets the machine already uses.
struct NetworkFaultSubnets: Sendable, Hashable {
  /// `B` of `10.B.C.0/24`.
  let second: Int
  /// `C` of the client /24 (even); the peer /24 is `C + 1`.
  let third: Int

  /// The most members the client /24 has room for: one /30 each.
  static let maximumMembers = 64

  /// Candidate number `attempt` for the process `pid`.
  static func candidate(pid: Int32, attempt: Int) -> NetworkFaultSubnets {
    let slots = 64 * 128
    let slot = (Int(pid) + attempt * 4099) % slots
    return NetworkFaultSubnets(second: 64 + slot / 128, third: (slot % 128) * 2)
  }

  /// The first of `attempts` candidates for `pid` that overlaps none of `occupied`.
  ///
  /// - Parameters:
  ///   - pid: The test process's PID.
  ///   - occupied: The prefixes the machine's addresses and routes cover.
  ///   - attempts: How many candidates to look at.
  /// - Returns: The subnets, or nil when every candidate overlaps one in use.
  static func choose(pid: Int32, occupied: [IPv4Prefix], attempts: Int = 64) -> NetworkFaultSubnets? {
    (0..<attempts).lazy.map { candidate(pid: pid, attempt: $0) }.first { subnets in
      !subnets.prefixes.contains { mine in occupied.contains { $0.overlaps(mine) } }
    }
  }

  /// The client /24 and the peer /24.
  var prefixes: [IPv4Prefix] {
    [IPv4Prefix(octets: (10, second, third, 0), length: 24), IPv4Prefix(octets: (10, second, third + 1, 0), length: 24)]
  }

  /// The test process's end of member `member`'s client link.
  func hostAddress(of member: Int) -> String { "10.\(second).\(third).\(4 * member + 1)" }
  /// The member's end of its client link: where it serves clients.
  func clientAddress(of member: Int) -> String { "10.\(second).\(third).\(4 * member + 2)" }
  /// The member's address on the peers' bridge.
  func peerAddress(of member: Int) -> String { "10.\(second).\(third + 1).\(member + 1)" }
}

/// An IPv4 prefix such as `10.1.2.0/24`; a bare address is a /32.
struct IPv4Prefix: Sendable, Hashable, CustomStringConvertible {
  /// The address, most significant octet first.
  let address: UInt32
  /// The number of leading bits that count, 0...32.
  let length: Int

  /// A prefix of four octets (each 0...255) and a length.
  init(octets: (Int, Int, Int, Int), length: Int) {
    address = UInt32(octets.0) << 24 | UInt32(octets.1) << 16 | UInt32(octets.2) << 8 | UInt32(octets.3)
    self.length = length
  }

  /// Parses `a.b.c.d/len` or `a.b.c.d`; nil for anything else.
  init?(_ text: Substring) {
    let parts = text.split(separator: "/", omittingEmptySubsequences: false)
    guard parts.count <= 2 else { return nil }
    let words = parts[0].split(separator: ".", omittingEmptySubsequences: false)
    let octets = words.compactMap { Int($0) }.filter { (0...255).contains($0) }
    guard words.count == 4, octets.count == 4 else { return nil }
    let length = parts.count == 2 ? Int(parts[1]) : 32
    guard let length, (0...32).contains(length) else { return nil }
    self.init(octets: (octets[0], octets[1], octets[2], octets[3]), length: length)
  }

  /// Every prefix or address among the words of `text`, e.g. the output of `ip -4 addr` and `ip -4 route`.
  static func all(in text: String) -> [IPv4Prefix] {
    text.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "\t" }).compactMap { IPv4Prefix($0) }
  }

  /// Whether the two share an address: the shorter prefix contains the other's network.
  func overlaps(_ other: IPv4Prefix) -> Bool {
    let shorter = min(length, other.length)
    let mask: UInt32 = shorter == 0 ? 0 : ~UInt32(0) << (32 - shorter)
    return address & mask == other.address & mask
  }

  /// `a.b.c.d/len`.
  var description: String {
    let octets = [24, 16, 8, 0].map { String(address >> UInt32($0) & 0xff) }
    return octets.joined(separator: ".") + "/\(length)"
  }
}
