import Benchmark
@_spi(Benchmarks) import EtcdClient

// The gRPC transport's pure parts, per operation, with allocation counts: framing a put request, deframing a
// response, and one unary call through the call state machine. The types are `package` declarations of the
// GRPCProtocol target; `TransportBenchmarks` (SPI of EtcdClient) wraps exactly these operations and calls
// into GRPCProtocol across the module boundary, as the client does.

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
    let framing = TransportBenchmarks.PutFraming(key: key, value: value)
    benchmark.startMeasurement()
    for _ in benchmark.scaledIterations {
      blackHole(try framing.frame())
    }
  }

  for count in [1, 3] {
    Benchmark("GRPCMessageDeframer: a 300-byte response in \(count) chunk\(count == 1 ? "" : "s")") {
      benchmark in
      let pieces = chunks(count)
      var deframing = TransportBenchmarks.Deframing()
      benchmark.startMeasurement()
      for _ in benchmark.scaledIterations {
        for piece in pieces {
          blackHole(try piece.withUnsafeBytes { try deframing.process($0) })
        }
      }
    }
  }

  for count in [1, 3] {
    Benchmark(
      "GRPCCallStateMachine: a unary call, 300-byte response in \(count) chunk\(count == 1 ? "" : "s")"
    ) { benchmark in
      let call = TransportBenchmarks.UnaryCall(framedResponse: framedResponse, chunks: count)
      benchmark.startMeasurement()
      for _ in benchmark.scaledIterations {
        blackHole(call.run())
      }
    }
  }
}
