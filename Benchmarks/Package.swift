// swift-tools-version:6.2
// Benchmarks live in their own package, so the library never depends on benchmark tooling.
//
//   swift package --package-path Benchmarks benchmark
//
import PackageDescription

let package = Package(
  name: "etcd-swift-benchmarks",
  platforms: [.macOS(.v15)],
  dependencies: [
    .package(path: ".."),
    .package(url: "https://github.com/ordo-one/package-benchmark.git", from: "1.38.1", traits: ["MallocInterposer"]),
    .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
  ],
  targets: [
    .executableTarget(
      name: "MetricsBenchmarks",
      dependencies: [
        .product(name: "Benchmark", package: "package-benchmark"),
        .product(name: "EtcdMetrics", package: "etcd-swift"),
        .product(name: "EtcdClient", package: "etcd-swift"),
        .product(name: "Prometheus", package: "swift-prometheus"),
      ],
      path: "Benchmarks/MetricsBenchmarks",
      plugins: [.plugin(name: "BenchmarkPlugin", package: "package-benchmark")]
    )
  ],
  swiftLanguageModes: [.v6]
)
