import Testing

@testable import EtcdProcess

@Suite struct EtcdHealthCheckTests {
  @Test(arguments: [
    ("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n{\"health\":\"true\",\"reason\":\"\"}", true),
    ("HTTP/1.1 200 OK\r\n\r\n{\"health\":\"true\"}", true),
    ("HTTP/1.1 503 Service Unavailable\r\n\r\n{\"health\":\"false\",\"reason\":\"RAFT NO LEADER\"}", false),
    ("HTTP/1.1 200 OK\r\n\r\n{\"health\": \"true\"}", false),
    ("", false),
  ])
  func reportsHealthy(_ response: String, _ expected: Bool) {
    #expect(EtcdHealthCheck.reportsHealthy(response) == expected)
  }

  @Test func aCustomCheckIsRunAsGiven() async {
    #expect(await EtcdHealthCheck { true }.isHealthy())
    #expect(await !EtcdHealthCheck { false }.isHealthy())
  }
}
