public import ServiceContextModule

/// An example observation attached to a histogram bucket: typically the trace that produced it.
///
/// OpenMetrics shows it after the bucket's sample (`# {trace_id="abc"} 0.0042 1.7e+09`), and the
/// protobuf format carries it in the bucket, so Grafana can jump from a latency bucket to a trace.
public struct Exemplar: Sendable, Hashable {
  /// The most UTF-8 characters the names and values of an exemplar's labels may have together
  /// (OpenMetrics' limit of 128).
  public static let maxLabelCharacters = 128

  /// The labels, e.g. `["trace_id": "4bf92f3577b34da6a3ce929d0e0e4736"]`.
  public var labels: [String: String]
  /// The observed value.
  public var value: Double
  /// When the value was observed, in seconds since the Unix epoch.
  public var timestamp: Double

  /// Creates an exemplar.
  ///
  /// - Parameters:
  ///   - labels: The labels; valid label names, at most ``maxLabelCharacters`` characters in all.
  ///   - value: The observed value.
  ///   - timestamp: When it was observed, in seconds since the Unix epoch.
  public init(labels: [String: String], value: Double, timestamp: Double) {
    self.labels = labels
    self.value = value
    self.timestamp = timestamp
  }

  /// The labels sorted by name, as the exposition formats write them.
  var sortedLabels: [(name: String, value: String)] {
    labels.sorted { $0.key < $1.key }.map { (name: $0.key, value: $0.value) }
  }

  /// Whether the labels are valid label names within OpenMetrics' length limit.
  static func isValid(labels: [String: String]) -> Bool {
    var characters = 0
    for (name, value) in labels {
      guard MetricNames.isValidLabelName(name) else { return false }
      characters += name.unicodeScalars.count + value.unicodeScalars.count
    }
    return characters <= maxLabelCharacters
  }
}

/// Supplies the exemplar labels for an observation, or `nil` for none: usually the current trace
/// ID.
///
/// A Sendable closure `() -> [String: String]?` with ready-made providers that read
/// `ServiceContext.current`. PrometheusMetrics does not depend on swift-distributed-tracing: a tracer
/// that puts its trace ID into the service context under some key is read through that key.
///
/// ```swift
/// enum TraceIDKey: ServiceContextKey { typealias Value = String }
/// let exemplars = ExemplarProvider.serviceContext(TraceIDKey.self)
/// latency.observe(seconds, exemplarFrom: exemplars)  // an exemplar only inside a traced task
/// ```
public struct ExemplarProvider: Sendable {
  private let provide: @Sendable () -> [String: String]?

  /// Creates a provider from a closure.
  ///
  /// - Parameter provide: Returns the labels of the exemplar to record, or `nil` for none. Called
  ///   once per observation that asks for an exemplar, so it should be cheap.
  public init(_ provide: @escaping @Sendable () -> [String: String]?) {
    self.provide = provide
  }

  /// The labels for an exemplar now, or `nil`.
  ///
  /// - Returns: The labels, or `nil` when there should be no exemplar.
  public func callAsFunction() -> [String: String]? {
    provide()
  }

  /// A provider that never gives an exemplar.
  public static let none = ExemplarProvider { nil }

  /// A provider that reads `ServiceContext.current` with a closure.
  ///
  /// - Parameter labels: Maps the current context to exemplar labels; `nil` for none. Not called
  ///   when there is no current context.
  /// - Returns: The provider.
  public static func serviceContext(
    _ labels: @escaping @Sendable (ServiceContext) -> [String: String]?
  ) -> ExemplarProvider {
    ExemplarProvider {
      guard let context = ServiceContext.current else { return nil }
      return labels(context)
    }
  }

  /// A provider that reads one value from `ServiceContext.current` under `key`, e.g. a trace ID a
  /// tracer stored there.
  ///
  /// - Parameters:
  ///   - key: The service-context key whose value identifies the trace.
  ///   - labelName: The exemplar label to put it in. Default: `trace_id`.
  /// - Returns: The provider; it gives no exemplar when the context or the value is missing or the
  ///   value is empty.
  public static func serviceContext<Key: ServiceContextKey>(
    _ key: Key.Type, labelName: String = "trace_id"
  ) -> ExemplarProvider where Key.Value: CustomStringConvertible {
    serviceContext { context in
      guard let value = context[key]?.description, !value.isEmpty else { return nil }
      return [labelName: value]
    }
  }
}
