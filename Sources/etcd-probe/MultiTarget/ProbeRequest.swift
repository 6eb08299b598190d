import Foundation

/// A `/probe?target=…&module=…` request, checked: the endpoints to probe, the module, and the deadline.
/// Pure.
struct ProbeRequest: Sendable, Equatable {
  /// The target's endpoints as written (`host:port`, `https://host:port`), one per member.
  var endpoints: [String]
  /// The module that says how to probe them.
  var module: ProbeModule
  /// How long the round may take: the module's timeout, capped by the scrape's own timeout less half a
  /// second for the answer to travel, and never under 100 ms.
  var deadline: Duration

  /// Why a request cannot be served: the one-line body of a 400 answer.
  struct Rejection: Error, Sendable, Equatable {
    var reason: String
  }

  /// The time kept from the scrape's timeout for the answer to reach Prometheus.
  static let scrapeTimeoutMargin: Duration = .milliseconds(500)

  /// Checks a request's query arguments.
  ///
  /// - Parameters:
  ///   - query: The query arguments (`target`, `module`).
  ///   - scrapeTimeout: The scrape's `X-Prometheus-Scrape-Timeout-Seconds`, if sent.
  ///   - modules: Looks a module up by name.
  /// - Throws: ``Rejection`` with a one-line reason.
  init(
    query: [String: String], scrapeTimeout: Duration?, modules: (String) -> ProbeModule?
  ) throws(Rejection) {
    guard let target = query["target"], !target.isEmpty else {
      throw Rejection(reason: "target parameter is missing")
    }
    let moduleName = query["module"].flatMap { $0.isEmpty ? nil : $0 } ?? ProbeModule.defaultName
    guard let module = modules(moduleName) else {
      throw Rejection(reason: "unknown module \"\(moduleName)\"")
    }
    var endpoints: [String] = []
    var labels: Set<String> = []
    for written in target.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) {
      guard let label = EndpointLabel.of(written) else {
        throw Rejection(reason: "target \"\(written)\" is not host:port, http://host:port or https://host:port")
      }
      guard module.accepts(label) else {
        throw Rejection(reason: "module \"\(moduleName)\" does not accept the target \"\(label)\"")
      }
      if labels.insert(label).inserted { endpoints.append(written) }
    }
    guard !endpoints.isEmpty else { throw Rejection(reason: "target names no endpoint") }
    guard endpoints.count <= 16 else { throw Rejection(reason: "target names more than 16 endpoints") }
    var deadline = module.timeout
    if let scrapeTimeout { deadline = min(deadline, scrapeTimeout - Self.scrapeTimeoutMargin) }
    self.endpoints = endpoints
    self.module = module
    self.deadline = max(deadline, .milliseconds(100))
  }
}
