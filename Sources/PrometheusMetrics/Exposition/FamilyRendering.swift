/// The parts of a family's exposition that change only when series come or go, rendered once:
/// header lines, sample names, `le` labels, and each series' labels and creation time.
///
/// A registered family keeps one until its set of series changes, so a scrape writes each series
/// from a few ready-made byte ranges and its current values, allocating nothing per series.
final class FamilyRendering: Sendable {
  /// A list of byte strings stored end to end.
  struct Fragments: Sendable {
    private(set) var bytes: [UInt8] = []
    private(set) var ends: [Int] = []

    var count: Int { ends.count }

    /// Appends one fragment, written by `body`.
    mutating func append(_ body: (inout ExpositionWriter) -> Void) {
      var writer = ExpositionWriter(continuing: bytes)
      bytes = []
      body(&writer)
      bytes = writer.bytes
      ends.append(bytes.count)
    }

    /// Calls `body` with fragment `index`'s bytes.
    @inline(__always)
    func withFragment<Result>(
      _ index: Int, _ body: (UnsafeBufferPointer<UInt8>) -> Result
    ) -> Result {
      let start = index == 0 ? 0 : ends[index - 1]
      return bytes.withUnsafeBufferPointer { all in
        body(UnsafeBufferPointer(rebasing: all[start..<ends[index]]))
      }
    }
  }

  let name: String
  let help: String
  let kind: MetricFamilySnapshot.Kind
  let labelNames: [String]
  /// The finite bucket bounds of a histogram family (a series may bring others: see
  /// ``HistogramReading/upperBounds``).
  let upperBounds: [Double]

  /// `# HELP` and `# TYPE` lines of text 0.0.4, and of OpenMetrics.
  let textHeader: [UInt8]
  let openMetricsHeader: [UInt8]
  /// Sample names as the text formats write them: text 0.0.4's counter or gauge name, or
  /// `_bucket`, `_sum`, `_count`; OpenMetrics' `_total` or gauge name, or `_bucket`, `_sum`,
  /// `_count`; then OpenMetrics' `_created`.
  let sampleNames: Fragments
  /// Per bound, `le="0.01"` in text 0.0.4 and in OpenMetrics; `+Inf` last in both.
  let textBounds: Fragments
  let openMetricsBounds: Fragments
  /// Per series, `name="value",...` (no braces), values escaped; empty without labels.
  let labels: Fragments
  /// Per series, its creation time in OpenMetrics' float layout; empty when it has none.
  let openMetricsCreated: Fragments
  /// Per series, its creation time.
  let created: [Double?]
  /// The `MetricFamily` message's name, help and type fields.
  let protobufHeader: [UInt8]
  /// Per series, its `label` fields: `LabelPair` messages.
  let protobufLabels: Fragments

  /// Indexes into ``sampleNames``.
  enum Sample {
    static let text = 0
    static let textBucket = 0
    static let textSum = 1
    static let textCount = 2
    static let openMetrics = 3
    static let openMetricsBucket = 3
    static let openMetricsSum = 4
    static let openMetricsCount = 5
    static let openMetricsCreated = 6
  }

  /// Renders a family.
  ///
  /// - Parameters:
  ///   - series: Per series, its label values (one per label name) and creation time.
  init(
    name: String, help: String, kind: MetricFamilySnapshot.Kind, labelNames: [String],
    upperBounds: [Double], series: some Collection<(labelValues: [String], created: Double?)>
  ) {
    self.name = name
    self.help = help
    self.kind = kind
    self.labelNames = labelNames
    self.upperBounds = upperBounds

    let openMetricsName =
      kind == .counter && name.hasSuffix("_total") ? String(name.dropLast("_total".count)) : name
    textHeader = Self.header(name: name, help: help, kind: kind, escapingQuotes: false)
    openMetricsHeader = Self.header(
      name: openMetricsName, help: help, kind: kind, escapingQuotes: true)

    var samples = Fragments()
    let textSuffixes: [String] = kind == .histogram ? ["_bucket", "_sum", "_count"] : ["", "", ""]
    let openMetricsSuffixes: [String] =
      switch kind {
      case .counter: ["_total", "", "", "_created"]
      case .gauge: ["", "", "", "_created"]
      case .histogram: ["_bucket", "_sum", "_count", "_created"]
      }
    for suffix in textSuffixes { samples.append { $0.write(contentsOf: name + suffix) } }
    for suffix in openMetricsSuffixes { samples.append { $0.write(contentsOf: openMetricsName + suffix) } }
    sampleNames = samples

    var textBounds = Fragments()
    var openMetricsBounds = Fragments()
    for bound in upperBounds + [.infinity] {
      textBounds.append { writer in
        writer.write("le=\"")
        writer.writeFloat(bound, openMetrics: false)
        writer.write(UInt8(ascii: "\""))
      }
      openMetricsBounds.append { writer in
        writer.write("le=\"")
        writer.writeFloat(bound, openMetrics: true)
        writer.write(UInt8(ascii: "\""))
      }
    }
    self.textBounds = textBounds
    self.openMetricsBounds = openMetricsBounds

    var protobuf = ExpositionWriter(reservingCapacity: 64)
    protobuf.writeStringField(0x0A, name)
    protobuf.writeStringField(0x12, help)
    protobuf.write(UInt8(0x18))
    let protobufType: UInt64 =
      switch kind {
      case .counter: 0
      case .gauge: 1
      case .histogram: 4
      }
    protobuf.writeVarint(protobufType)
    protobufHeader = protobuf.bytes

    var labels = Fragments()
    var openMetricsCreated = Fragments()
    var protobufLabels = Fragments()
    var created: [Double?] = []
    created.reserveCapacity(series.count)
    for (labelValues, seriesCreated) in series {
      labels.append { $0.writeLabelPairs(names: labelNames, values: labelValues) }
      openMetricsCreated.append { writer in
        if let seriesCreated { writer.writeFloat(seriesCreated, openMetrics: true) }
      }
      protobufLabels.append { writer in
        writer.writeLabelPairMessages(names: labelNames, values: labelValues)
      }
      created.append(seriesCreated)
    }
    self.labels = labels
    self.openMetricsCreated = openMetricsCreated
    self.protobufLabels = protobufLabels
    self.created = created
  }

  /// `# HELP` (unless the help is empty) and `# TYPE` lines.
  private static func header(
    name: String, help: String, kind: MetricFamilySnapshot.Kind, escapingQuotes: Bool
  ) -> [UInt8] {
    var header = ExpositionWriter(reservingCapacity: 64)
    if !help.isEmpty {
      header.write("# HELP ")
      header.write(contentsOf: name)
      header.write(UInt8(ascii: " "))
      header.writeEscaped(help, quote: escapingQuotes)
      header.write(UInt8(ascii: "\n"))
    }
    header.write("# TYPE ")
    header.write(contentsOf: name)
    header.write(UInt8(ascii: " "))
    header.write(contentsOf: kind.typeName)
    header.write(UInt8(ascii: "\n"))
    return header.bytes
  }

  /// Renders a family snapshot, taking the histogram bounds of its first series.
  convenience init(_ family: MetricFamilySnapshot) {
    var bounds: [Double] = []
    for metric in family.metrics {
      if case .histogram(let histogram) = metric.value {
        bounds = histogram.upperBounds
        break
      }
    }
    self.init(
      name: family.name, help: family.help, kind: family.kind, labelNames: family.labelNames,
      upperBounds: bounds,
      series: family.metrics.lazy.map { (labelValues: $0.labelValues, created: $0.created) })
  }
}

extension ExpositionWriter {
  /// Writes protobuf `label` fields (number 1): one `LabelPair` message per name and value.
  mutating func writeLabelPairMessages(names: [String], values: [String]) {
    for (name, value) in zip(names, values) {
      write(UInt8(0x0A))
      let pair = beginLengthDelimited()
      writeStringField(0x0A, name)
      writeStringField(0x12, value)
      endLengthDelimited(pair)
    }
  }
}

/// One series' values at a scrape, as the exposition formats read them.
enum SeriesValue {
  case counter(Double)
  case gauge(Double)
  case histogram(HistogramReading)
}

/// One histogram series at a scrape, borrowed for the time of one write.
struct HistogramReading {
  /// The finite upper bounds, ascending.
  var upperBounds: UnsafeBufferPointer<Double>
  /// For each bound, the observations less than or equal to it.
  var cumulativeCounts: UnsafeBufferPointer<UInt64>
  var count: UInt64
  var sum: Double
  var native: NativeHistogramSnapshot?
  /// Empty, or the latest exemplar of each bucket, `+Inf` last.
  var exemplars: [Exemplar?]
  /// Whether the bounds are the family's, so that their rendered `le` labels apply.
  var hasFamilyBounds = false

  /// The exemplar of bucket `index` (`upperBounds.count` for `+Inf`), if any.
  func exemplar(at index: Int) -> Exemplar? {
    exemplars.indices.contains(index) ? exemplars[index] : nil
  }


  /// A snapshot with copies of the counts.
  var snapshot: HistogramSnapshot {
    HistogramSnapshot(
      upperBounds: Array(upperBounds), cumulativeCounts: Array(cumulativeCounts), count: count,
      sum: sum, native: native, exemplars: exemplars)
  }
}

extension HistogramSnapshot {
  /// Calls `body` with a reading of this snapshot.
  func withReading<Result>(_ body: (HistogramReading) -> Result) -> Result {
    upperBounds.withUnsafeBufferPointer { bounds in
      cumulativeCounts.withUnsafeBufferPointer { counts in
        body(
          HistogramReading(
            upperBounds: bounds, cumulativeCounts: counts, count: count, sum: sum, native: native,
            exemplars: exemplars))
      }
    }
  }
}

/// A format's writer: the registry and the snapshot encoders drive it family by family, series by
/// series.
protocol SeriesEncoder {
  /// The writer's bytes.
  var writer: ExpositionWriter { get set }
  /// Writes what comes before a family's series.
  mutating func beginFamily(_ family: FamilyRendering)
  /// Writes series `index` of `family`.
  mutating func writeSeries(_ family: FamilyRendering, _ index: Int, _ value: SeriesValue)
  /// Writes what comes after a family's series.
  mutating func endFamily(_ family: FamilyRendering)
  /// Writes what comes after every family.
  mutating func finish()
}

extension SeriesEncoder {
  /// Encodes snapshots, rendering each family on the way.
  mutating func encode(_ families: [MetricFamilySnapshot]) {
    for family in families where !family.metrics.isEmpty {
      let rendering = FamilyRendering(family)
      beginFamily(rendering)
      for (index, metric) in family.metrics.enumerated() {
        switch metric.value {
        case .counter(let value): writeSeries(rendering, index, .counter(value))
        case .gauge(let value): writeSeries(rendering, index, .gauge(value))
        case .histogram(let histogram):
          histogram.withReading { reading in
            var reading = reading
            reading.hasFamilyBounds = histogram.upperBounds == rendering.upperBounds
            writeSeries(rendering, index, .histogram(reading))
          }
        }
      }
      endFamily(rendering)
    }
    finish()
  }
}
