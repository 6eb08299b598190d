import Logging
import Testing

@testable import EtcdClient

@Suite("EtcdClient.Configuration.logger")
struct ConfigurationLoggerTests {
  @Test func theDefaultLoggerDropsEverything() {
    let logger = EtcdClient.Configuration(endpoints: ["127.0.0.1:2379"]).logger
    #expect(logger.handler is SwiftLogNoOpLogHandler)
  }
}
