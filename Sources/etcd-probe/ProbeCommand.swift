import ArgumentParser
import EtcdClient
import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// `etcd-probe`: exercises put, get and delete against each etcd endpoint every interval and reports latency.
@main
struct ProbeCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "etcd-probe",
    abstract: "Continuously probes an etcd cluster with put, get and delete, endpoint by endpoint.",
    discussion: """
      With no --endpoints, starts a throwaway local etcd (the `etcd` binary on PATH) in a temporary \
      directory, probes it, and removes it on exit.

      Each round, for each endpoint: put a key under --key-prefix, read it back linearizably, delete it. \
      Each operation is bounded by --timeout. Failures are reported with their gRPC code and etcd error, \
      and probing goes on: an unreachable endpoint is retried every round.

      This version logs results; the Prometheus /metrics endpoint arrives with the metrics module.
      """
  )

  @Option(
    name: .long,
    parsing: .singleValue,
    help: "etcd endpoints, comma separated (host:port or http://host:port). Env: ETCD_PROBE_ENDPOINTS.")
  var endpoints: [String] = []

  @Option(help: "Time between probe rounds, in seconds.")
  var interval: Double = 5

  @Option(help: "Deadline of each probe operation, in seconds.")
  var timeout: Double = 2

  @Option(help: "Dial timeout of each connection attempt, in seconds.")
  var dialTimeout: Double = 2

  @Option(help: "Prefix of the keys the probe writes.")
  var keyPrefix: String = "/etcd-probe/"

  @Option(help: "Size of the value the probe writes, in bytes.")
  var valueSize: Int = 256

  @Option(help: "Stop after this many rounds (0: run until interrupted).")
  var rounds: Int = 0

  mutating func validate() throws {
    guard interval > 0 else { throw ValidationError("--interval must be positive") }
    guard timeout > 0 else { throw ValidationError("--timeout must be positive") }
    guard dialTimeout > 0 else { throw ValidationError("--dial-timeout must be positive") }
    guard valueSize >= 0, valueSize <= 1_000_000 else {
      throw ValidationError("--value-size must be between 0 and 1000000")
    }
    guard rounds >= 0 else { throw ValidationError("--rounds must not be negative") }
    guard !keyPrefix.isEmpty else { throw ValidationError("--key-prefix must not be empty") }
  }

  func run() async throws {
    var endpoints = endpoints.flatMap { $0.split(separator: ",").map(String.init) }
    if endpoints.isEmpty, let fromEnvironment = ProcessInfo.processInfo.environment["ETCD_PROBE_ENDPOINTS"] {
      endpoints = fromEnvironment.split(separator: ",").map(String.init)
    }
    var local: LocalEtcdServer?
    if endpoints.isEmpty {
      let server = try LocalEtcdServer()
      local = server
      endpoints = [server.endpoint]
      log("no --endpoints given: started a throwaway local etcd at \(server.endpoint) in \(server.directory)")
    }
    defer { local?.stop() }
    let signals = Self.stopOnSignals(local?.stopHandle)
    defer { for source in signals { source.cancel() } }

    var clients: [(String, EtcdClient)] = []
    for endpoint in endpoints {
      var configuration = EtcdClient.Configuration(endpoints: [endpoint])
      configuration.dialTimeout = .milliseconds(Int(dialTimeout * 1000))
      configuration.defaultRequestTimeout = .milliseconds(Int(timeout * 1000))
      do {
        clients.append((endpoint, try EtcdClient(configuration: configuration)))
      } catch {
        throw ValidationError("\(error.message)")
      }
    }

    if local != nil, let (_, client) = clients.first {
      // A new etcd accepts connections before it has elected itself leader: wait (at most 20 s) for that.
      for _ in 0..<200 {
        if (try? await client.get("health", options: .init(countOnly: true), timeout: .seconds(1))) != nil {
          break
        }
        try await Task.sleep(for: .milliseconds(100))
      }
    }

    let value = [UInt8](repeating: UInt8(ascii: "p"), count: valueSize)
    var round = 0
    while rounds == 0 || round < rounds {
      round += 1
      for (endpoint, client) in clients {
        await probe(endpoint: endpoint, client: client, value: value)
      }
      if rounds != 0 && round >= rounds { break }
      try await Task.sleep(for: .milliseconds(Int(interval * 1000)))
    }
    for (_, client) in clients { await client.close() }
  }

  private func probe(endpoint: String, client: EtcdClient, value: [UInt8]) async {
    let key = keyPrefix + "probe-\(ProcessInfo.processInfo.processIdentifier)"
    var results: [String] = []
    let operations: [(String, () async throws -> Void)] = [
      ("put", { try await client.put(key, value) }),
      ("get", { _ = try await client.get(key) }),
      ("delete", { try await client.delete(key) }),
    ]
    for (name, operation) in operations {
      let started = ContinuousClock.now
      do {
        try await operation()
        let elapsed = ContinuousClock.now - started
        results.append("\(name)=ok \(Self.milliseconds(elapsed))ms")
      } catch let error as EtcdError {
        results.append("\(name)=\(error.status.code) (\(error.code)) \(error.message)")
      } catch {
        results.append("\(name)=error \(error)")
      }
    }
    log("endpoint=\(endpoint) " + results.joined(separator: " "))
  }

  /// On SIGINT or SIGTERM: stop the throwaway etcd, if any, and exit with status 0.
  private static func stopOnSignals(_ handle: LocalEtcdServer.StopHandle?) -> [any DispatchSourceSignal] {
    [SIGINT, SIGTERM].map { signalNumber in
      signal(signalNumber, SIG_IGN)
      let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
      source.setEventHandler {
        handle?.stop()
        print("etcd-probe: stopped by signal \(signalNumber)")
        fflush(nil)
        Glibc.exit(0)
      }
      source.resume()
      return source
    }
  }

  private static func milliseconds(_ duration: Duration) -> String {
    let (seconds, attoseconds) = duration.components
    let value = Double(seconds) * 1000 + Double(attoseconds) / 1e15
    return String(format: "%.3f", value)
  }

  private func log(_ message: String) {
    let timestamp = ISO8601DateFormatter().string(from: Date())
    print("\(timestamp) \(message)")
    fflush(nil)
  }
}
