import Testing

/// The subnet choice of the network-namespace fixture, and the prefix arithmetic under it: no sockets.
@Suite struct NetworkFaultSubnetsTests {
  @Test(arguments: [
    ("10.1.2.0/24", "10.1.2.3", true),
    ("10.1.2.0/24", "10.1.3.0/24", false),
    ("10.0.0.0/8", "10.64.2.0/24", true),
    ("0.0.0.0/0", "10.64.2.0/24", true),
    ("192.0.2.0/24", "10.64.2.0/24", false),
    ("10.64.2.0/23", "10.64.3.0/24", true),
  ])
  func overlap(_ first: String, _ second: String, _ expected: Bool) throws {
    let a = try #require(IPv4Prefix(Substring(first)))
    let b = try #require(IPv4Prefix(Substring(second)))
    #expect(a.overlaps(b) == expected)
    #expect(b.overlaps(a) == expected)
  }

  @Test(arguments: ["10.1.2", "10.1.2.256", "10.1.2.3/33", "default", "10.1.2.3/", "a.b.c.d", "10..2.3"])
  func notAPrefix(_ text: String) {
    #expect(IPv4Prefix(Substring(text)) == nil)
  }

  @Test func prefixesAmongTheWordsOfIpOutput() {
    let output = """
      2: eth0    inet 192.0.2.2/24 brd 192.0.2.255 scope global eth0
      default via 192.0.2.1 dev eth0
      10.70.8.0/30 dev enf12c0 proto kernel scope link src 10.70.8.1
      """
    #expect(IPv4Prefix.all(in: output).map(\.description) == [
      "192.0.2.2/24", "192.0.2.255/32", "192.0.2.1/32", "10.70.8.0/30", "10.70.8.1/32",
    ])
  }

  @Test func candidatesAreEvenThirdOctetsInTheFixturesRange() {
    for attempt in 0..<64 {
      let subnets = NetworkFaultSubnets.candidate(pid: 4_194_303, attempt: attempt)
      #expect((64...127).contains(subnets.second))
      #expect(subnets.third % 2 == 0 && (0...254).contains(subnets.third))
    }
    #expect(NetworkFaultSubnets.candidate(pid: 100, attempt: 0) != NetworkFaultSubnets.candidate(pid: 101, attempt: 0))
  }

  @Test func theChoiceStepsPastSubnetsInUse() throws {
    let first = NetworkFaultSubnets.candidate(pid: 4711, attempt: 0)
    #expect(NetworkFaultSubnets.choose(pid: 4711, occupied: []) == first)
    // Another run holds the first candidate's peer /24 (as a client /24 of its own).
    let taken = try #require(IPv4Prefix(Substring("10.\(first.second).\(first.third + 1).0/30")))
    let chosen = try #require(NetworkFaultSubnets.choose(pid: 4711, occupied: [taken]))
    #expect(chosen == NetworkFaultSubnets.candidate(pid: 4711, attempt: 1))
    // A route over all of 10/8 leaves nothing.
    let everything = try #require(IPv4Prefix(Substring("10.0.0.0/8")))
    #expect(NetworkFaultSubnets.choose(pid: 4711, occupied: [everything]) == nil)
  }

  @Test func addressesOfMember() {
    let subnets = NetworkFaultSubnets(second: 70, third: 8)
    #expect(subnets.hostAddress(of: 2) == "10.70.8.9")
    #expect(subnets.clientAddress(of: 2) == "10.70.8.10")
    #expect(subnets.peerAddress(of: 2) == "10.70.9.3")
    #expect(subnets.prefixes.map(\.description) == ["10.70.8.0/24", "10.70.9.0/24"])
  }
}
