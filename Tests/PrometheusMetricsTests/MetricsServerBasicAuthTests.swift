import LoopbackTestSupport
import Testing

@testable import PrometheusMetrics

/// Basic auth on a real server on loopback, with users hashed by libxcrypt at cost 4.
@Suite("MetricsServer basic auth", .serialized)
struct MetricsServerBasicAuthTests {
  private static func authorization(_ user: String, _ password: String) -> [String: String] {
    [
      "Authorization": BasicAuthorization.header(
        for: BasicCredentials(user: user, password: password))
    ]
  }

  private func startServer(
    _ configure: (inout MetricsServer.Configuration) -> Void = { _ in }
  ) throws -> (MetricsServer, Int) {
    var configuration = MetricsServer.Configuration(host: "127.0.0.1", port: 0)
    configuration.basicAuthUsers = BasicAuthenticatorTests.users
    configuration.pages = [
      .init(path: "/-/reload", methods: [.post]) { _ in .init(body: "reloaded\n") }
    ]
    configure(&configuration)
    let server = MetricsServer(registry: MetricsRegistry(), configuration: configuration)
    try server.start()
    return (server, try #require(server.port))
  }

  /// The value of `metrics_server_authentication_failures_total{reason}` in a scrape.
  private func failures(_ reason: String, port: Int) throws -> String? {
    let scrape = try LoopbackHTTP.request(
      port: port, path: "/metrics", headers: Self.authorization("alice", "alice-password"))
    let prefix = "metrics_server_authentication_failures_total{reason=\"\(reason)\"} "
    return scrape.text.split(separator: "\n").first { $0.hasPrefix(prefix) }
      .map { String($0.dropFirst(prefix.count)) }
  }

  @Test("without credentials every path answers 401 with a Basic challenge")
  func noCredentials() throws {
    let (server, port) = try startServer()
    defer { server.stop() }
    for (method, path) in [
      ("GET", "/metrics"), ("GET", "/healthz"), ("POST", "/-/reload"), ("GET", "/nowhere"),
    ] {
      let response = try LoopbackHTTP.request(port: port, method: method, path: path)
      #expect(response.status == 401, "\(method) \(path)")
      #expect(response.headers["www-authenticate"] == "Basic realm=\"metrics\", charset=\"UTF-8\"")
    }
    #expect(try failures("missing", port: port) == "4")
  }

  @Test("wrong credentials get 401 and count as failures; right ones get through")
  func credentials() throws {
    let (server, port) = try startServer()
    defer { server.stop() }
    #expect(try failures("invalid", port: port) == "0")
    for (user, password) in [("alice", "bob-password"), ("mallory", "x"), ("alice", "")] {
      let response = try LoopbackHTTP.request(
        port: port, path: "/metrics", headers: Self.authorization(user, password))
      #expect(response.status == 401)
      #expect(response.headers["www-authenticate"] != nil)
    }
    let malformed = try LoopbackHTTP.request(
      port: port, path: "/healthz", headers: ["Authorization": "Basic not-base64!"])
    #expect(malformed.status == 401)
    #expect(try failures("invalid", port: port) == "3")
    #expect(try failures("malformed", port: port) == "1")
    #expect(try failures("missing", port: port) == "0")

    let metrics = try LoopbackHTTP.request(
      port: port, path: "/metrics", headers: Self.authorization("bob", "bob-password"))
    #expect(metrics.status == 200)
    #expect(metrics.text.contains("# TYPE metrics_server_authentication_failures_total counter"))
    let health = try LoopbackHTTP.request(
      port: port, path: "/healthz", headers: Self.authorization("alice", "alice-password"))
    #expect(health.status == 200 && health.text == "ok\n")
    let reload = try LoopbackHTTP.request(
      port: port, method: "POST", path: "/-/reload",
      headers: Self.authorization("alice", "alice-password"))
    #expect(reload.status == 200 && reload.text == "reloaded\n")
    // Authenticated, a wrong method still gets 405 and a wrong path 404.
    let get = try LoopbackHTTP.request(
      port: port, path: "/-/reload", headers: Self.authorization("alice", "alice-password"))
    #expect(get.status == 405)
    let missing = try LoopbackHTTP.request(
      port: port, path: "/nowhere", headers: Self.authorization("alice", "alice-password"))
    #expect(missing.status == 404)
  }

  @Test("the realm is configurable and quoted")
  func realm() throws {
    let (server, port) = try startServer { $0.basicAuthRealm = "etcd \"probe\"\n" }
    defer { server.stop() }
    let response = try LoopbackHTTP.request(port: port, path: "/metrics")
    #expect(
      response.headers["www-authenticate"] == #"Basic realm="etcd \"probe\"", charset="UTF-8""#)
  }

  @Test("without instrumentsItself nothing is registered, and auth still holds")
  func uninstrumented() throws {
    let (server, port) = try startServer { $0.instrumentsItself = false }
    defer { server.stop() }
    #expect(try LoopbackHTTP.request(port: port, path: "/metrics").status == 401)
    #expect(try failures("missing", port: port) == nil)
  }

  @Test("a server without users neither asks for credentials nor registers the failure counter")
  func noUsers() throws {
    let (server, port) = try startServer { $0.basicAuthUsers = [:] }
    defer { server.stop() }
    let response = try LoopbackHTTP.request(port: port, path: "/metrics")
    #expect(response.status == 200)
    #expect(!response.text.contains("metrics_server_authentication_failures_total"))
  }

  @Test(
    "start refuses users that cannot work",
    arguments: [
      ["alice": "alice-password"],
      ["alice": "$2y$10$tooShort"],
      ["al:ice": "$2y$10$QOauhQNbBCuQDKes6eFzPeMqBSjb7Mr5DUmpZ/VcEd00UAV/LDeSi"],
    ])
  func invalidUsers(users: [String: String]) throws {
    var configuration = MetricsServer.Configuration(host: "127.0.0.1", port: 0)
    configuration.basicAuthUsers = users
    let server = MetricsServer(registry: MetricsRegistry(), configuration: configuration)
    let error = try #require(throws: MetricsServerError.self) { try server.start() }
    #expect(error.code == .invalidConfiguration)
    #expect(error.message.contains(users.keys.first!))
    #expect(!error.message.contains(users.values.first!))
  }
}
