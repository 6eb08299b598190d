// swift-tools-version:6.2
// Benchmarks live in their own package, so the library never depends on benchmark tooling.
//
//   swift package --package-path Benchmarks benchmark
//
import Foundation
import PackageDescription

/// SwiftPM names a path dependency after its folder, which is wherever the repository was cloned.
let projectPackage = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
  .deletingLastPathComponent().lastPathComponent

let package = Package(
  name: "etcd-swift-benchmarks",
  platforms: [.macOS(.v15)],
  dependencies: [
    .package(path: ".."),
    .package(url: "https://github.com/ordo-one/package-benchmark.git", from: "1.38.1", traits: ["MallocInterposer"]),
    .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
    .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
    .package(url: "https://github.com/apple/swift-distributed-tracing.git", from: "1.2.0"),
    .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
  ],
  targets: [
    .executableTarget(
      name: "MetricsBenchmarks",
      dependencies: [
        .product(name: "Benchmark", package: "package-benchmark"),
        .product(name: "EtcdMetrics", package: projectPackage),
        .product(name: "EtcdClient", package: projectPackage),
        .product(name: "Prometheus", package: "swift-prometheus"),
      ],
      path: "Benchmarks/MetricsBenchmarks",
      plugins: [.plugin(name: "BenchmarkPlugin", package: "package-benchmark")]
    ),
    .executableTarget(
      name: "TransportBenchmarks",
      dependencies: [
        .product(name: "Benchmark", package: "package-benchmark"),
        .product(name: "GRPCProtocol", package: projectPackage),
        .product(name: "EtcdProto", package: projectPackage),
      ],
      path: "Benchmarks/TransportBenchmarks",
      plugins: [.plugin(name: "BenchmarkPlugin", package: "package-benchmark")]
    ),
    // exposition-bench: 10,000 series exposed by this package and by swift-prometheus, interleaved;
    // see README.md ("Exposition of 10,000 series").
    .executableTarget(
      name: "exposition-bench",
      dependencies: [
        .product(name: "PrometheusMetrics", package: projectPackage),
        .product(name: "Prometheus", package: "swift-prometheus"),
      ],
      path: "Sources/exposition-bench"
    ),
    // etcd-bench: etcd's tools/benchmark (put, range) on this client; see README.md.
    .executableTarget(
      name: "etcd-bench",
      dependencies: [
        .product(name: "EtcdClient", package: projectPackage),
        .product(name: "EtcdMetrics", package: projectPackage),
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
        .product(name: "Tracing", package: "swift-distributed-tracing"),
        .product(name: "InMemoryTracing", package: "swift-distributed-tracing"),
        .product(name: "NIOCore", package: "swift-nio"),
        .product(name: "NIOPosix", package: "swift-nio"),
      ],
      path: "Sources/etcd-bench"
    ),
  ],
  swiftLanguageModes: [.v6]
)
