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
    "invalid endpoints",
    arguments: [
      ("https://x:1", "TLS endpoints (https://) are not supported by this client yet"),
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
