// swift-tools-version:6.1
import PackageDescription

let strictSwift6: [SwiftSetting] = [
  .enableUpcomingFeature("InternalImportsByDefault"),
  .enableUpcomingFeature("ExistentialAny"),
]

let package = Package(
  name: "etcd-swift",
  platforms: [.macOS(.v15)],
  products: [
    .library(name: "EtcdClient", targets: ["EtcdClient"]),
    .library(name: "EtcdMetrics", targets: ["EtcdMetrics"]),
    .library(name: "PrometheusMetrics", targets: ["PrometheusMetrics"]),
    // gRPC's wire rules as pure values, for the micro-benchmarks (Benchmarks/) and anyone building on them.
    .library(name: "GRPCProtocol", targets: ["GRPCProtocol"]),
    // The generated etcd messages, so the micro-benchmarks frame the requests the client sends.
    .library(name: "EtcdProto", targets: ["EtcdProto"]),
    .executable(name: "etcd-probe", targets: ["etcd-probe"]),
  ],
  traits: [
    // `swift build --traits OTLP`: the probe can export its clients' spans with OTLP/HTTP
    // (--otlp-endpoint). Off by default: swift-otel and async-http-client take minutes to build.
    .trait(name: "OTLP", description: "etcd-probe --otlp-endpoint: export spans with OTLP/HTTP")
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
    .package(url: "https://github.com/apple/swift-protobuf.git", exact: "1.39.0"),
    .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
    .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
    .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
    .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
    .package(url: "https://github.com/apple/swift-service-context.git", from: "1.5.1"),
    .package(url: "https://github.com/apple/swift-distributed-tracing.git", from: "1.2.0"),
    .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
    .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
    // Test only: the W3C Trace Context format of the tracing tests' tracer.
    .package(url: "https://github.com/swift-otel/swift-w3c-trace-context.git", from: "1.0.0"),
    // Only with the OTLP trait, and then only its OTLP/HTTP exporter (no gRPC stack).
    .package(url: "https://github.com/swift-otel/swift-otel.git", from: "1.6.0", traits: ["OTLPHTTP"]),
    // `swift package generate-documentation`: the DocC catalogs of EtcdClient and EtcdMetrics
    // (scripts/docs.sh). A command plugin: nothing in a product depends on it.
    .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.5.0"),
  ],
  targets: [
    // libnghttp2, the HTTP/2 engine, found by pkg-config (Debian: libnghttp2-dev).
    .systemLibrary(
      name: "CNGHTTP2",
      pkgConfig: "libnghttp2",
      providers: [.apt(["libnghttp2-dev"])]
    ),
    // Swift generated from Protos/ by scripts/generate-protos.sh. Never edited by hand.
    .target(
      name: "EtcdProto",
      dependencies: [.product(name: "SwiftProtobuf", package: "swift-protobuf")],
      exclude: []
    ),
    // gRPC's wire rules as pure value types: message framing and deframing, the call and HTTP/2
    // connection state machines, header blocks, status, grpc-timeout, request headers. No NIO,
    // nghttp2 or TLS.
    .target(
      name: "GRPCProtocol",
      dependencies: [.product(name: "SwiftProtobuf", package: "swift-protobuf")],
      swiftSettings: strictSwift6
    ),
    .target(
      name: "EtcdClient",
      dependencies: [
        "CNGHTTP2",
        "EtcdProto",
        "GRPCProtocol",
        .product(name: "NIOCore", package: "swift-nio"),
        .product(name: "NIOPosix", package: "swift-nio"),
        .product(name: "NIOTLS", package: "swift-nio"),
        .product(name: "NIOSSL", package: "swift-nio-ssl"),
        .product(name: "SwiftProtobuf", package: "swift-protobuf"),
        .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        .product(name: "Tracing", package: "swift-distributed-tracing"),
        .product(name: "Logging", package: "swift-log"),
      ],
      swiftSettings: strictSwift6
    ),
    // libmicrohttpd, the /metrics HTTP server (Debian: libmicrohttpd-dev).
    .systemLibrary(
      name: "CMicroHTTPD",
      pkgConfig: "libmicrohttpd",
      providers: [.apt(["libmicrohttpd-dev"])]
    ),
    // zlib, for gzip-compressed scrapes (Debian: zlib1g-dev).
    .systemLibrary(
      name: "CZlib",
      pkgConfig: "zlib",
      providers: [.apt(["zlib1g-dev"])]
    ),
    // libxcrypt, for the bcrypt hashes of the /metrics server's basic-auth users (Debian: libcrypt-dev).
    .systemLibrary(
      name: "CCrypt",
      pkgConfig: "libcrypt",
      providers: [.apt(["libcrypt-dev"])]
    ),
    // Swift generated from Protos/prometheus by scripts/generate-protos.sh: Prometheus' client model.
    .target(
      name: "PrometheusProto",
      dependencies: [.product(name: "SwiftProtobuf", package: "swift-protobuf")]
    ),
    // The registry, the exposition formats, the /metrics server and the swift-metrics backend: no
    // etcd client, NIO or nghttp2.
    .target(
      name: "PrometheusMetrics",
      dependencies: [
        "CMicroHTTPD",
        "CCrypt",
        "CZlib",
        "PrometheusProto",
        .product(name: "SwiftProtobuf", package: "swift-protobuf"),
        .product(name: "CoreMetrics", package: "swift-metrics"),
        .product(name: "ServiceContextModule", package: "swift-service-context"),
        .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
      ],
      swiftSettings: strictSwift6
    ),
    // The client's RPC interceptor; re-exports PrometheusMetrics.
    .target(
      name: "EtcdMetrics",
      dependencies: [
        "EtcdClient", "PrometheusMetrics",
        .product(name: "Tracing", package: "swift-distributed-tracing"),
      ],
      swiftSettings: strictSwift6
    ),
    // Runs etcd member processes on free loopback ports: the probe's throwaway local etcd and the test
    // clusters. Only Glibc/Darwin: no Foundation.
    .target(
      name: "EtcdProcess",
      swiftSettings: strictSwift6
    ),
    .executableTarget(
      name: "etcd-probe",
      dependencies: [
        "EtcdClient",
        "EtcdMetrics",
        "EtcdProcess",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
        .product(name: "Logging", package: "swift-log"),
        .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        .product(name: "UnixSignals", package: "swift-service-lifecycle"),
        .product(name: "Yams", package: "Yams"),
        .product(name: "Tracing", package: "swift-distributed-tracing"),
        .product(name: "OTel", package: "swift-otel", condition: .when(traits: ["OTLP"])),
      ],
      swiftSettings: strictSwift6
    ),
    // README.md's Swift examples, each wrapped in a function by scripts/readme-examples.py, so that every
    // build type-checks them. Not a product; nothing in it runs.
    .target(
      name: "ReadmeExamples",
      dependencies: [
        "EtcdClient", "EtcdMetrics",
        .product(name: "Logging", package: "swift-log"),
        .product(name: "Tracing", package: "swift-distributed-tracing"),
      ],
      path: "Examples/ReadmeExamples",
      swiftSettings: strictSwift6
    ),
    // Fuzz targets, one per libFuzzer entry point: `scripts/fuzz.sh` builds them with
    // `-sanitize=fuzzer -D FUZZING` into .build-fuzz and runs them on Fuzz/Corpus; a plain build
    // makes replayers of them (`FuzzX FILE_OR_DIR...`). Each depends only on the pure code it
    // fuzzes (FuzzGRPCDeframer and FuzzGRPCCall on GRPCProtocol), so no build pulls in NIO or
    // nghttp2.
    .target(name: "CLibFuzzer", path: "Fuzz/CLibFuzzer"),
    .target(
      name: "FuzzSupport",
      dependencies: ["CLibFuzzer"],
      path: "Fuzz/FuzzSupport",
      swiftSettings: strictSwift6
    ),
    .executableTarget(
      name: "FuzzGRPCDeframer",
      dependencies: ["FuzzSupport", "GRPCProtocol"],
      path: "Fuzz/FuzzGRPCDeframer",
      swiftSettings: strictSwift6
    ),
    .executableTarget(
      name: "FuzzGRPCCall",
      dependencies: ["FuzzSupport", "GRPCProtocol"],
      path: "Fuzz/FuzzGRPCCall",
      swiftSettings: strictSwift6
    ),
    .executableTarget(
      name: "FuzzMetricsRequest",
      dependencies: [
        "FuzzSupport",
        "PrometheusMetrics",
        "CZlib",
        "PrometheusProto",
        .product(name: "SwiftProtobuf", package: "swift-protobuf"),
      ],
      path: "Fuzz/FuzzMetricsRequest",
      swiftSettings: strictSwift6
    ),
    // One loopback HTTP client and free-port lookup for the test targets (test targets cannot depend on
    // each other).
    .target(
      name: "LoopbackTestSupport",
      dependencies: ["EtcdProcess"],
      path: "Tests/LoopbackTestSupport",
      swiftSettings: strictSwift6
    ),
    // Checks of recorded etcd histories for the integration tests: linearizability and watch guarantees.
    .target(
      name: "EtcdHistoryChecks",
      path: "Tests/EtcdHistoryChecks",
      swiftSettings: strictSwift6
    ),
    .testTarget(
      name: "EtcdHistoryChecksTests",
      dependencies: ["EtcdHistoryChecks"],
      swiftSettings: strictSwift6
    ),
    .testTarget(
      name: "GRPCProtocolTests",
      dependencies: [
        "GRPCProtocol",
        "EtcdProto",
        .product(name: "SwiftProtobuf", package: "swift-protobuf"),
      ],
      swiftSettings: strictSwift6
    ),
    .testTarget(
      name: "EtcdClientTests",
      dependencies: [
        "EtcdClient", "GRPCProtocol", "EtcdProto",
        .product(name: "Logging", package: "swift-log"),
        .product(name: "Tracing", package: "swift-distributed-tracing"),
        .product(name: "InMemoryTracing", package: "swift-distributed-tracing"),
      ],
      swiftSettings: strictSwift6
    ),
    .testTarget(
      name: "PrometheusMetricsTests",
      dependencies: [
        "PrometheusMetrics",
        "CZlib",
        "PrometheusProto",
        .product(name: "Metrics", package: "swift-metrics"),
        .product(name: "ServiceContextModule", package: "swift-service-context"),
        "LoopbackTestSupport",
      ],
      swiftSettings: strictSwift6
    ),
    .testTarget(
      name: "EtcdMetricsTests",
      dependencies: [
        "EtcdMetrics",
        "EtcdClient",
        .product(name: "ServiceContextModule", package: "swift-service-context"),
        .product(name: "Tracing", package: "swift-distributed-tracing"),
        .product(name: "InMemoryTracing", package: "swift-distributed-tracing"),
        .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        .product(name: "Logging", package: "swift-log"),
        "LoopbackTestSupport",
      ],
      swiftSettings: strictSwift6
    ),
    .testTarget(
      name: "EtcdProbeTests",
      dependencies: ["etcd-probe", "EtcdMetrics"],
      swiftSettings: strictSwift6
    ),
    .testTarget(
      name: "IntegrationTests",
      dependencies: [
        "EtcdClient",
        "EtcdMetrics",
        "EtcdProto",
        .product(name: "ServiceContextModule", package: "swift-service-context"),
        .product(name: "Tracing", package: "swift-distributed-tracing"),
        .product(name: "InMemoryTracing", package: "swift-distributed-tracing"),
        .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        .product(name: "Logging", package: "swift-log"),
        .product(name: "NIOCore", package: "swift-nio"),
        .product(name: "NIOPosix", package: "swift-nio"),
        "LoopbackTestSupport",
        "EtcdProcess",
        "EtcdHistoryChecks",
        .product(name: "W3CTraceContext", package: "swift-w3c-trace-context"),
      ],
      // Helper servers the tests start as processes, found by their path in the source tree.
      exclude: ["Support/misbehaving-server.py", "Support/otlp-receiver.py"],
      swiftSettings: strictSwift6
    ),
    .testTarget(
      name: "EtcdProcessTests",
      dependencies: ["EtcdProcess"],
      swiftSettings: strictSwift6
    ),
  ],
  swiftLanguageModes: [.v6]
)
