import Testing

@testable import etcd_probe

@Suite("ProbeRequest: /probe's query, checked")
struct ProbeRequestTests {
  static let modules: [String: ProbeModule] = {
    var restricted = ProbeModule(name: "local", defaults: ClusterDefaults())
    restricted.targetPattern = #"127\.0\.0\.1:[0-9]+"#
    restricted.timeout = .seconds(5)
    return ["default": ProbeModule(name: "default", defaults: ClusterDefaults()), "local": restricted]
  }()

  func request(_ query: [String: String], scrapeTimeout: Duration? = nil) throws(ProbeRequest.Rejection)
    -> ProbeRequest
  {
    try ProbeRequest(query: query, scrapeTimeout: scrapeTimeout, modules: { Self.modules[$0] })
  }

  @Test(arguments: [
    ([String: String](), "target parameter is missing"),
    (["target": ""], "target parameter is missing"),
    (["target": "a:1", "module": "nope"], "unknown module \"nope\""),
    (["target": "no-port"], "target \"no-port\" is not host:port, http://host:port or https://host:port"),
    (["target": "a:1,,b"], "target \"b\" is not host:port, http://host:port or https://host:port"),
    (["target": "10.0.0.1:2379", "module": "local"], "module \"local\" does not accept the target \"10.0.0.1:2379\""),
    (["target": ",", "module": "default"], "target names no endpoint"),
  ])
  func badRequestsGetAOneLineReason(query: [String: String], reason: String) {
    #expect(throws: ProbeRequest.Rejection(reason: reason)) { try request(query) }
  }

  @Test func endpointsAreDeduplicatedByMemberAndTheDefaultModuleIsUsed() throws {
    let checked = try request(["target": "127.0.0.1:2379, http://127.0.0.1:2379/,127.0.0.1:2380"])
    #expect(checked.endpoints == ["127.0.0.1:2379", "127.0.0.1:2380"])
    #expect(checked.module.name == "default" && checked.deadline == .seconds(2))
  }

  @Test(arguments: [
    (Duration?.none, Duration.seconds(5)),
    (.seconds(10), .seconds(5)),
    (.seconds(3), .milliseconds(2500)),
    (.milliseconds(400), .milliseconds(100)),
  ])
  func theDeadlineIsTheModulesCappedByTheScrapeTimeout(scrapeTimeout: Duration?, deadline: Duration) throws {
    let checked = try request(["target": "127.0.0.1:2379", "module": "local"], scrapeTimeout: scrapeTimeout)
    #expect(checked.deadline == deadline)
  }

  @Test func moreThanSixteenEndpointsAreRefused() {
    let many = (1...17).map { "127.0.0.1:\($0)" }.joined(separator: ",")
    #expect(throws: ProbeRequest.Rejection(reason: "target names more than 16 endpoints")) {
      try request(["target": many])
    }
  }
}
