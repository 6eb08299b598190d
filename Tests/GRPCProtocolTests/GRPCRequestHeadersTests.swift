import Testing

import GRPCProtocol

@Suite("GRPCRequestHeaders")
struct GRPCRequestHeadersTests {
  private let common = GRPCRequestHeaders.Common(
    authority: "127.0.0.1:2379", isTLS: false, userAgent: "etcd-swift/test")

  @Test("a plain request: :path, then the connection's fields, pseudo-header fields first")
  func plainRequest() {
    let headers = GRPCRequestHeaders(
      path: "/etcdserverpb.KV/Range", common: common, timeout: nil, metadata: ClientMetadata())
    #expect(
      headers.fields.map(\.name) == [
        ":path", ":method", ":scheme", ":authority", "content-type", "te", "user-agent",
      ])
    #expect(headers.fields.map(\.value) == [
      "/etcdserverpb.KV/Range", "POST", "http", "127.0.0.1:2379", "application/grpc", "trailers", "etcd-swift/test",
    ])
    let lastPseudo = headers.fields.lastIndex { $0.name.hasPrefix(":") } ?? -1
    let firstRegular = headers.fields.firstIndex { !$0.name.hasPrefix(":") } ?? headers.fields.count
    #expect(lastPseudo < firstRegular)
  }

  @Test("grpc-timeout and metadata follow, in order; the ranges cover the buffer exactly")
  func timeoutAndMetadata() {
    var metadata = ClientMetadata()
    metadata.add("Token", "abc.def")
    metadata.add("x-trace", "")
    let tls = GRPCRequestHeaders.Common(authority: "[::1]:2379", isTLS: true, userAgent: "ua")
    let headers = GRPCRequestHeaders(
      path: "/etcdserverpb.Lease/LeaseGrant", common: tls, timeout: "4999m", metadata: metadata)
    let fields = headers.fields
    #expect(fields.count == 10)
    #expect(fields[2].value == "https")
    #expect(fields[3].value == "[::1]:2379")
    #expect(fields[7].name == "grpc-timeout" && fields[7].value == "4999m")
    #expect(fields[8].name == "token" && fields[8].value == "abc.def")
    #expect(fields[9].name == "x-trace" && fields[9].value == "")
    // Back to back, nothing skipped or shared: each field starts where the previous one ended.
    var next = 0
    for field in headers.ranges {
      #expect(field.name.lowerBound == next)
      #expect(field.value.lowerBound == field.name.upperBound)
      next = field.value.upperBound
    }
    #expect(next == headers.bytes.count)
  }
}
