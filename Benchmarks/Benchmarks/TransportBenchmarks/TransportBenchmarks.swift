import Benchmark
import EtcdProto
import Foundation
import GRPCProtocol

// The gRPC transport's pure parts, per operation, with allocation counts: framing a put request, deframing a
// response, and one unary call through the call state machine. They are GRPCProtocol's public types, called
// across the module boundary as EtcdClient calls them (the framer's `frame(_:)` is inlinable, so it is
// specialized here for the put request, as it is in the client).

/// A put's key and its 256-byte value, as `etcd-bench put --key-size 8 --val-size 256` sends them.
private let key = [UInt8](repeating: 0x30, count: 8)
private let value = (0..<256).map { UInt8(truncatingIfNeeded: $0 &* 131 &+ 7) }

/// A framed response of 300 bytes (a range response carrying the 256-byte value is about that size).
private let framedResponse: [UInt8] = {
  let body = (0..<300).map { UInt8(truncatingIfNeeded: $0 &* 17 &+ 3) }
  let length = UInt32(body.count)
  return [
    0, UInt8(truncatingIfNeeded: length >> 24), UInt8(truncatingIfNeeded: length >> 16),
    UInt8(truncatingIfNeeded: length >> 8), UInt8(truncatingIfNeeded: length),
  ] + body
}()

/// A put request as `EtcdClient.put` builds it before the call reaches a connection.
private let putRequest: Etcdserverpb_PutRequest = {
  var request = Etcdserverpb_PutRequest()
  request.key = Data(key)
  request.value = Data(value)
  return request
}()

/// The client's default receive limit.
private let maxReceiveMessageLength = Int(Int32.max)

/// A header block recorded from raw name and value bytes, as the connection handler records nghttp2's fields.
private func headerBlock(_ fields: [(name: [UInt8], value: [UInt8])]) -> GRPCHeaderBlock {
  var block = GRPCHeaderBlock()
  for field in fields {
    field.name.withUnsafeBytes { name in
      field.value.withUnsafeBytes { value in block.record(nameBytes: name, valueBytes: value) }
    }
  }
  return block
}

/// The response headers and trailers etcd's gRPC server sends for a successful call.
private let responseHeaders: [(name: [UInt8], value: [UInt8])] = [
  (Array(":status".utf8), Array("200".utf8)),
  (Array("content-type".utf8), Array("application/grpc".utf8)),
]
private let responseTrailers: [(name: [UInt8], value: [UInt8])] = [
  (Array("grpc-status".utf8), Array("0".utf8)),
  (Array("grpc-message".utf8), []),
]

/// Runs one successful unary call through a new state machine, with the response body in `pieces`: headers,
/// DATA, trailers, stream close, status, header fields recorded as the connection handler records them.
///
/// - Returns: The size of the response message delivered, or -1 when the call did not end with OK.
private func unaryCall(_ pieces: [[UInt8]]) -> Int {
  var machine = GRPCCallStateMachine(
    configuration: .init(maxReceiveMessageLength: maxReceiveMessageLength, expectsSingleResponse: true))
  guard case .none = machine.headersReceived(headerBlock(responseHeaders), endStream: false) else { return -1 }
  var received = 0
  for piece in pieces {
    let action = piece.withUnsafeBytes { bytes in
      machine.dataReceived(bytes) { received += $0.count }
    }
    guard case .none = action else { return -1 }
  }
  let action = machine.headersReceived(headerBlock(responseTrailers), endStream: true)
  guard case .none = machine.streamClosed(errorCode: HTTP2ErrorCode.noError),
    case .finish(let status, _) = action, status.code == .ok
  else { return -1 }
  return received
}

/// `framedResponse` cut into `count` nearly equal chunks.
private func chunks(_ count: Int) -> [[UInt8]] {
  let size = (framedResponse.count + count - 1) / count
  return stride(from: 0, to: framedResponse.count, by: size).map {
    Array(framedResponse[$0..<min($0 + size, framedResponse.count)])
  }
}

let benchmarks: @Sendable () -> Void = {
  Benchmark.defaultConfiguration = .init(
    metrics: [.wallClock, .cpuTotal, .mallocCountTotal, .instructions],
    warmupIterations: 10,
    scalingFactor: .kilo,
    maxDuration: .seconds(3)
  )

  Benchmark("GRPCMessageFramer: frame a put (8-byte key, 256-byte value)") { benchmark in
    let framer = GRPCMessageFramer(maxMessageLength: 2 * 1024 * 1024)
    benchmark.startMeasurement()
    for _ in benchmark.scaledIterations {
      blackHole(try framer.frame(putRequest).framed.count)
    }
  }

  for count in [1, 3] {
    Benchmark("GRPCMessageDeframer: a 300-byte response in \(count) chunk\(count == 1 ? "" : "s")") {
      benchmark in
      let pieces = chunks(count)
      var deframer = GRPCMessageDeframer(maxMessageLength: maxReceiveMessageLength)
      benchmark.startMeasurement()
      for _ in benchmark.scaledIterations {
        for piece in pieces {
          var completed = 0
          try piece.withUnsafeBytes { try deframer.process($0) { completed += $0.count } }
          blackHole(completed)
        }
      }
    }
  }

  for count in [1, 3] {
    Benchmark(
      "GRPCCallStateMachine: a unary call, 300-byte response in \(count) chunk\(count == 1 ? "" : "s")"
    ) { benchmark in
      let pieces = chunks(count)
      benchmark.startMeasurement()
      for _ in benchmark.scaledIterations {
        blackHole(unaryCall(pieces))
      }
    }
  }
}
