import Foundation
import Testing

@testable import PrometheusMetrics

/// Runs the exposition of a registry with every metric kind through `promtool check metrics`.
@Suite("promtool check metrics")
struct PromtoolTests {
  static let promtool = "/usr/bin/promtool"
  static var hasPromtool: Bool { FileManager.default.isExecutableFile(atPath: promtool) }

  /// Pipes `input` into `promtool check metrics`; returns the exit status and combined output.
  private func check(_ input: [UInt8]) throws -> (status: Int32, output: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: Self.promtool)
    process.arguments = ["check", "metrics"]
    let stdin = Pipe()
    let output = Pipe()
    process.standardInput = stdin
    process.standardOutput = output
    process.standardError = output
    try process.run()
    stdin.fileHandleForWriting.write(Data(input))
    try stdin.fileHandleForWriting.close()
    let printed = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: printed, as: UTF8.self))
  }

  @Test(
    "text 0.0.4 passes promtool",
    .enabled(if: hasPromtool, "promtool is not installed at /usr/bin/promtool (Debian: prometheus)")
  )
  func text() throws {
    let registry = ExpositionFixtures.populatedRegistry()
    _ = MetricsServerInstruments(registry: registry)
    let result = try check(registry.exposition(format: .prometheusText0_0_4))
    #expect(result.status == 0, "promtool said: \(result.output)")
  }

  /// `promtool check metrics` parses only text 0.0.4 (it rejects `\"` in OpenMetrics HELP and
  /// lints `_total`/`_created` as separate untyped families), so OpenMetrics goes through
  /// `promtool tsdb create-blocks-from openmetrics`, which uses Prometheus' OpenMetrics parser but
  /// needs a timestamp on every sample: the test appends one to each sample line.
  @Test(
    "OpenMetrics passes Prometheus' OpenMetrics parser (promtool tsdb create-blocks-from)",
    .enabled(if: hasPromtool, "promtool is not installed at /usr/bin/promtool (Debian: prometheus)")
  )
  func openMetrics() throws {
    let registry = ExpositionFixtures.populatedRegistry()
    _ = MetricsServerInstruments(registry: registry)
    let text = registry.exposition(format: .openMetrics1_0_0).text
    let timestamped = text.split(separator: "\n", omittingEmptySubsequences: false)
      .map { $0.isEmpty || $0.hasPrefix("#") ? String($0) : "\($0) 1700000000" }
      .joined(separator: "\n")
    let directory = FileManager.default.temporaryDirectory
      .appendingPathComponent("etcd-metrics-promtool-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    let input = directory.appendingPathComponent("metrics.om.txt")
    try Data(timestamped.utf8).write(to: input)

    let process = Process()
    process.executableURL = URL(fileURLWithPath: Self.promtool)
    process.arguments = [
      "tsdb", "create-blocks-from", "openmetrics", input.path,
      directory.appendingPathComponent("blocks").path,
    ]
    let output = Pipe()
    process.standardOutput = output
    process.standardError = output
    try process.run()
    let printed = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    #expect(process.terminationStatus == 0, "promtool said: \(printed)")
    // Every sample line became a series: nothing was dropped.
    let samples = text.split(separator: "\n").filter { !$0.hasPrefix("#") }.count
    #expect(printed.contains(" \(samples) "), "expected \(samples) series in: \(printed)")
  }

  @Test(
    "promtool check metrics cannot read OpenMetrics (documents why the test above exists)",
    .enabled(if: hasPromtool, "promtool is not installed at /usr/bin/promtool (Debian: prometheus)")
  )
  func checkMetricsRejectsOpenMetrics() throws {
    let registry = ExpositionFixtures.populatedRegistry()
    let result = try check(registry.exposition(format: .openMetrics1_0_0))
    #expect(result.status != 0)
  }
}
