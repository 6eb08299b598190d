// exposition-bench: the exposition of one registry shape by this package (text 0.0.4, OpenMetrics,
// protobuf) and by swift-prometheus (text), interleaved in one process, with one RESULT line per tool
// in the format of ../../shared/anchors/goexpo (client_golang), which builds the same series:
// `series / 2` histograms `bench_latency_seconds` (buckets 0.001, 0.01, 0.1, 1) and as many counters
// `bench_requests_total`, labels method="m<i%100>", endpoint="e<i/100>", each observed (0.005) or
// incremented once. Every tool writes into one reused buffer, as goexpo does.
//
//   exposition-bench [--series 10000] [--iterations 50] [--only TOOL] [--dump PATH]
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import PrometheusMetrics
import Prometheus

/// One way of exposing the series.
struct Contender {
  var tool: String
  var expose: (inout [UInt8]) -> Void
  var times: [Double] = []
}

func argument(_ name: String, default value: Int) -> Int {
  let arguments = CommandLine.arguments
  guard let index = arguments.firstIndex(of: name), index + 1 < arguments.count,
    let parsed = Int(arguments[index + 1])
  else { return value }
  return parsed
}

func milliseconds(since start: timespec) -> Double {
  var now = timespec()
  clock_gettime(CLOCK_MONOTONIC, &now)
  return Double(now.tv_sec - start.tv_sec) * 1e3 + Double(now.tv_nsec - start.tv_nsec) / 1e6
}

let series = argument("--series", default: 10_000)
let iterations = argument("--iterations", default: 50)
let warmup = 5

let registry = MetricsRegistry()
let histograms = registry.makeHistogramFamily(
  name: "bench_latency_seconds", help: "Latency.", labelNames: ["method", "endpoint"],
  buckets: [0.001, 0.01, 0.1, 1])
let counters = registry.makeCounterFamily(
  name: "bench_requests_total", help: "Requests.", labelNames: ["method", "endpoint"])
let peer = PrometheusCollectorRegistry()
for index in 0..<(series / 2) {
  let method = "m\(index % 100)"
  let endpoint = "e\(index / 100)"
  histograms.labels(method, endpoint).observe(0.005)
  counters.labels(method, endpoint).increment()
  let labels = [("method", method), ("endpoint", endpoint)]
  peer.makeValueHistogram(
    name: "bench_latency_seconds", labels: labels, buckets: [0.001, 0.01, 0.1, 1]
  ).record(0.005)
  peer.makeCounter(name: "bench_requests_total", labels: labels).increment()
}

var contenders = [
  Contender(tool: "etcd-swift-text") { registry.exposition(format: .prometheusText0_0_4, into: &$0) },
  Contender(tool: "etcd-swift-openmetrics") { registry.exposition(format: .openMetrics1_0_0, into: &$0) },
  Contender(tool: "etcd-swift-protobuf") { registry.exposition(format: .protobufDelimited, into: &$0) },
  Contender(tool: "swift-prometheus") { buffer in
    buffer.removeAll(keepingCapacity: true)
    peer.emit(into: &buffer)
  },
]
if let index = CommandLine.arguments.firstIndex(of: "--only"), index + 1 < CommandLine.arguments.count {
  // One contender alone, e.g. for perf record.
  contenders.removeAll { $0.tool != CommandLine.arguments[index + 1] }
}
var buffers = [[UInt8]](repeating: [], count: contenders.count)
// Interleaved: each round exposes once with every contender, so drift on a shared machine hits all.
for round in 0..<(warmup + iterations) {
  for index in contenders.indices {
    var start = timespec()
    clock_gettime(CLOCK_MONOTONIC, &start)
    contenders[index].expose(&buffers[index])
    let elapsed = milliseconds(since: start)
    if round >= warmup { contenders[index].times.append(elapsed) }
  }
}
for (index, contender) in contenders.enumerated() {
  let times = contender.times.sorted()
  let median = times[times.count / 2]
  print(
    "RESULT tool=\(contender.tool) series=\(series) median_ms=\(String(format2: median)) "
      + "min_ms=\(String(format2: times[0])) bytes=\(buffers[index].count)")
}
if let index = CommandLine.arguments.firstIndex(of: "--dump"), index + 1 < CommandLine.arguments.count {
  let path = CommandLine.arguments[index + 1]
  // The bodies, for comparing them and for promtool: PATH.<tool>.
  for (index, contender) in contenders.enumerated() {
    let file = fopen("\(path).\(contender.tool)", "w")
    _ = buffers[index].withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, file) }
    fclose(file)
  }
}

extension String {
  /// Two decimals, without Foundation.
  init(format2 value: Double) {
    let hundredths = Int((value * 100).rounded())
    let fraction = hundredths % 100
    self = "\(hundredths / 100).\(fraction < 10 ? "0" : "")\(fraction)"
  }
}
