import Testing

import GRPCProtocol

@Suite("GRPCHeaderBlock")
struct GRPCHeaderBlockTests {
  @Test(
    "percent-decoding grpc-message",
    arguments: [
      ("a%20b", "a b"),
      ("%E2%82%AC", "€"),
      ("%e2%82%ac", "€"),
      ("%41%42", "AB"),
      ("%41", "A"),
      ("%zz", "%zz"),
      ("%4g", "%4g"),
      ("abc%4", "abc%4"),
      ("%", "%"),
      ("100%", "100%"),
      ("%%41", "%A"),
      ("no escapes", "no escapes"),
      // Bytes that are not UTF-8 become U+FFFD, never a crash or a lost message.
      ("%FF%FEx", "\u{FFFD}\u{FFFD}x"),
      ("%C3", "\u{FFFD}"),
      ("a%E2%82", "a\u{FFFD}"),
      ("", ""),
      (
        "etcdserver:%20mvcc:%20required%20revision%20has%20been%20compacted",
        "etcdserver: mvcc: required revision has been compacted"
      ),
    ]
  )
  func percentDecode(encoded: String, decoded: String) {
    #expect(GRPCHeaderBlock.percentDecode(encoded) == decoded)
  }

  @Test(
    "status from grpc-status and grpc-message",
    arguments: [
      (nil, nil, nil),
      (nil, "ignored", nil),
      ("0", nil, GRPCStatus(code: .ok, message: "")),
      ("5", "key%20not%20found", GRPCStatus(code: .notFound, message: "key not found")),
      ("16", nil, GRPCStatus(code: .unauthenticated, message: "")),
      (
        "14", "etcdserver: no leader",
        GRPCStatus(code: .unavailable, message: "etcdserver: no leader")
      ),
      ("99", nil, GRPCStatus(code: .unknown, message: "invalid grpc-status 99")),
      ("17", nil, GRPCStatus(code: .unknown, message: "invalid grpc-status 17")),
      ("-1", nil, GRPCStatus(code: .unknown, message: "invalid grpc-status -1")),
      ("abc", nil, GRPCStatus(code: .unknown, message: "invalid grpc-status abc")),
      ("99", "boom%21", GRPCStatus(code: .unknown, message: "boom!")),
    ] as [(String?, String?, GRPCStatus?)]
  )
  func status(grpcStatus: String?, grpcMessage: String?, expected: GRPCStatus?) {
    let block = GRPCHeaderBlock(grpcStatus: grpcStatus, grpcMessage: grpcMessage)
    #expect(block.status == expected)
  }

  @Test("record keeps the fields gRPC reads and ignores the rest")
  func record() {
    var block = GRPCHeaderBlock()
    block.record(name: ":status", value: "200")
    block.record(name: "content-type", value: "application/grpc")
    block.record(name: "grpc-status", value: "3")
    block.record(name: "grpc-message", value: "bad%20arg")
    block.record(name: "grpc-encoding", value: "identity")
    block.record(name: "date", value: "Tue, 01 Jan 2030 00:00:00 GMT")
    block.record(name: "grpc-status-details-bin", value: "AAAA")
    block.record(name: "Content-Type", value: "text/plain")
    #expect(
      block
        == GRPCHeaderBlock(
          httpStatus: 200,
          contentType: "application/grpc",
          grpcStatus: "3",
          grpcMessage: "bad%20arg",
          grpcEncoding: "identity"
        )
    )
    #expect(block.status == GRPCStatus(code: .invalidArgument, message: "bad arg"))
  }

  @Test("a non-numeric :status is recorded as absent")
  func nonNumericStatus() {
    var block = GRPCHeaderBlock(httpStatus: 200)
    block.record(name: ":status", value: "OK")
    #expect(block.httpStatus == nil)
  }

  @Test(
    "isRecorded lets the recorded names through",
    arguments: [
      (":status", true),
      ("content-type", true),
      ("grpc-status", true),
      ("grpc-message", true),
      ("grpc-encoding", true),
      ("date", false),
      ("server", false),
      ("x-request-id", false),
      ("", false),
    ]
  )
  func isRecorded(name: String, recorded: Bool) {
    let bytes = Array(name.utf8)
    #expect(bytes.withUnsafeBytes { GRPCHeaderBlock.isRecorded(nameBytes: $0) } == recorded)
  }
}
