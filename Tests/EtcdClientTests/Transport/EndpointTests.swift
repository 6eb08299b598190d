import Testing

@testable import EtcdClient

@Suite("Endpoint")
struct EndpointTests {
  @Test(
    "valid endpoints",
    arguments: [
      ("127.0.0.1:2379", "127.0.0.1", 2379, "127.0.0.1:2379"),
      ("http://localhost:2379", "localhost", 2379, "localhost:2379"),
      ("http://localhost:2379/", "localhost", 2379, "localhost:2379"),
      ("HTTP://etcd-0.etcd:2379", "etcd-0.etcd", 2379, "etcd-0.etcd:2379"),
      ("[::1]:2379", "::1", 2379, "[::1]:2379"),
      ("http://[::1]:23790", "::1", 23790, "[::1]:23790"),
      ("[fe80::1:2]:1", "fe80::1:2", 1, "[fe80::1:2]:1"),
      ("host:65535", "host", 65535, "host:65535"),
      (" localhost:2379 ", "localhost", 2379, "localhost:2379"),
    ]
  )
  func valid(text: String, host: String, port: Int, authority: String) throws {
    let endpoint = try Endpoint(parsing: text)
    #expect(endpoint.host == host)
    #expect(endpoint.port == port)
    #expect(endpoint.authority == authority)
    #expect(endpoint.description == text)
  }

  @Test(
    "TLS by scheme, or by the client's TLS configuration when there is no scheme",
    arguments: [
      ("https://localhost:2379", false, true, "localhost"),
      ("HTTPS://[::1]:2379", false, true, "::1"),
      ("https://10.0.0.1:2379", true, true, "10.0.0.1"),
      ("http://localhost:2379", false, false, "localhost"),
      ("http://localhost:2379", true, false, "localhost"),
      ("localhost:2379", false, false, "localhost"),
      ("localhost:2379", true, true, "localhost"),
    ]
  )
  func tls(text: String, defaultTLS: Bool, isTLS: Bool, host: String) throws {
    let endpoint = try Endpoint(parsing: text, defaultTLS: defaultTLS)
    #expect(endpoint.isTLS == isTLS)
    #expect(endpoint.host == host)
    #expect(endpoint.port == 2379)
  }

  @Test(
    "invalid endpoints",
    arguments: [
      ("ftp://x:1", "unsupported scheme \"ftp\""),
      ("FTP://x:1", "unsupported scheme \"ftp\""),
      ("localhost", "missing port"),
      (":2379", "empty host"),
      ("host:0", "port must be a number from 1 to 65535"),
      ("host:70000", "port must be a number from 1 to 65535"),
      ("host:65536", "port must be a number from 1 to 65535"),
      ("host:abc", "port must be a number from 1 to 65535"),
      ("host:+2379", "port must be a number from 1 to 65535"),
      ("host:", "port must be a number from 1 to 65535"),
      ("host:-1", "port must be a number from 1 to 65535"),
      ("::1:2379", "IPv6 addresses need brackets: [addr]:port"),
      ("host:1/path", "a path is not allowed"),
      ("http://host:1/v3", "a path is not allowed"),
      ("", "empty address"),
      ("   ", "empty address"),
      ("http://", "empty address"),
      ("[::1", "unterminated IPv6 address"),
      ("[::1]", "missing port"),
      ("[::1]2379", "missing port"),
      ("[]:2379", "empty host"),
      ("[::1]:http", "port must be a number from 1 to 65535"),
    ]
  )
  func invalid(text: String, why: String) {
    let error = #expect(throws: EtcdError.self) { try Endpoint(parsing: text) }
    #expect(error?.code == .invalidConfiguration)
    #expect(
      error?.status
        == GRPCStatus(code: .invalidArgument, message: "invalid endpoint \"\(text)\": \(why)")
    )
    #expect(error?.endpoint == text)
  }
}
