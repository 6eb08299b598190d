internal import PrometheusProto
internal import SwiftProtobuf

/// Prometheus' protobuf exposition format: varint-length-delimited `io.prometheus.client`
/// `MetricFamily` messages.
///
/// Pure: turns snapshots into bytes, as client_golang's `expfmt` encoder with `FmtProtoDelim`
/// does. It is the only format that carries native histograms to Prometheus (2.40 and later,
/// started with `--enable-feature=native-histograms`, which then asks for it first). Histograms
/// send their classic buckets (without `+Inf`, which is the count) and, when they keep them, the
/// native schema, zero bucket and positive/negative spans with count deltas; counters and
/// histograms send `created_timestamp`; bucket exemplars go into each bucket and, for native
/// histograms, into `exemplars` too. The generated message types stay internal.
public enum ProtobufFormat {
  /// The content type of this format.
  public static let contentType =
    "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited"

  /// Encodes families.
  ///
  /// Families with no series are left out, as in the text formats.
  ///
  /// - Parameter families: The families, in the order to write them.
  /// - Returns: The length-delimited messages.
  public static func encode(_ families: [MetricFamilySnapshot]) -> [UInt8] {
    var encoder = Encoder(writer: ExpositionWriter())
    encoder.encode(families)
    return encoder.writer.bytes
  }

  static func appendVarint(_ value: UInt64, to output: inout [UInt8]) {
    var writer = ExpositionWriter(continuing: output)
    output = []
    writer.writeVarint(value)
    output = writer.bytes
  }

  /// Writes the messages family by family, field by field in field-number order (as SwiftProtobuf
  /// serializes the generated types), without building messages; only the native part of a
  /// histogram goes through the generated types.
  struct Encoder: SeriesEncoder {
    var writer: ExpositionWriter
    private var familyStart = 0

    init(writer: ExpositionWriter) {
      self.writer = writer
    }

    mutating func beginFamily(_ family: FamilyRendering) {
      familyStart = writer.beginLengthDelimited()
      writer.bytes.append(contentsOf: family.protobufHeader)
    }

    mutating func writeSeries(_ family: FamilyRendering, _ index: Int, _ value: SeriesValue) {
      writer.write(UInt8(0x22))  // MetricFamily.metric = 4
      let metric = writer.beginLengthDelimited()
      family.protobufLabels.withFragment(index) { writer.write($0) }  // Metric.label = 1
      let created = family.created[index]
      switch value {
      case .gauge(let value):
        writer.write(UInt8(0x12))  // Metric.gauge = 2
        let gauge = writer.beginLengthDelimited()
        writer.write(UInt8(0x09))  // Gauge.value = 1
        writer.writeFixed64(value)
        writer.endLengthDelimited(gauge)
      case .counter(let value):
        writer.write(UInt8(0x1A))  // Metric.counter = 3
        let counter = writer.beginLengthDelimited()
        writer.write(UInt8(0x09))  // Counter.value = 1
        writer.writeFixed64(value)
        if let created {
          writer.write(UInt8(0x1A))  // Counter.created_timestamp = 3
          writeTimestamp(created)
        }
        writer.endLengthDelimited(counter)
      case .histogram(let histogram):
        writer.write(UInt8(0x3A))  // Metric.histogram = 7
        if histogram.native != nil {
          writeNative(histogram, created: created)
        } else {
          writeClassic(histogram, created: created, familyBounds: family.upperBounds)
        }
      }
      writer.endLengthDelimited(metric)
    }

    mutating func endFamily(_ family: FamilyRendering) {
      writer.endLengthDelimited(familyStart)
    }

    mutating func finish() {}

    private mutating func writeClassic(
      _ histogram: HistogramReading, created: Double?, familyBounds: [Double]
    ) {
      let message = writer.beginLengthDelimited()
      writer.write(UInt8(0x08))  // sample_count = 1
      writer.writeVarint(histogram.count)
      writer.write(UInt8(0x11))  // sample_sum = 2
      writer.writeFixed64(histogram.sum)
      for (index, count) in histogram.cumulativeCounts.enumerated() {
        // The family's bounds when they are the series': they are in the cache already.
        let bound = histogram.hasFamilyBounds ? familyBounds[index] : histogram.upperBounds[index]
        writeBucket(count, bound, histogram.exemplar(at: index))
      }
      if let exemplar = histogram.exemplar(at: histogram.upperBounds.count) {
        // The +Inf bucket is implied by the count; send it only to carry its exemplar.
        writeBucket(histogram.count, .infinity, exemplar)
      }
      if let created {
        writer.write(UInt8(0x7A))  // created_timestamp = 15
        writeTimestamp(created)
      }
      writer.endLengthDelimited(message)
    }

    private mutating func writeBucket(_ count: UInt64, _ bound: Double, _ exemplar: Exemplar?) {
      writer.write(UInt8(0x1A))  // Histogram.bucket = 3
      let bucket = writer.beginLengthDelimited()
      writer.write(UInt8(0x08))  // cumulative_count = 1
      writer.writeVarint(count)
      writer.write(UInt8(0x11))  // upper_bound = 2
      writer.writeFixed64(bound)
      if let exemplar {
        writer.write(UInt8(0x1A))  // exemplar = 3
        let message = writer.beginLengthDelimited()
        let labels = exemplar.sortedLabels
        writer.writeLabelPairMessages(names: labels.map(\.name), values: labels.map(\.value))
        writer.write(UInt8(0x11))  // Exemplar.value = 2
        writer.writeFixed64(exemplar.value)
        writer.write(UInt8(0x1A))  // Exemplar.timestamp = 3
        writeTimestamp(exemplar.timestamp)
        writer.endLengthDelimited(message)
      }
      writer.endLengthDelimited(bucket)
    }

    /// Writes a `google.protobuf.Timestamp` message (its length, then the fields that are not 0).
    private mutating func writeTimestamp(_ secondsSinceEpoch: Double) {
      let timestamp = ProtobufFormat.timestamp(secondsSinceEpoch)
      let message = writer.beginLengthDelimited()
      if timestamp.seconds != 0 {
        writer.write(UInt8(0x08))
        writer.writeVarint(UInt64(bitPattern: timestamp.seconds))
      }
      if timestamp.nanos != 0 {
        writer.write(UInt8(0x10))
        writer.writeVarint(UInt64(bitPattern: Int64(timestamp.nanos)))
      }
      writer.endLengthDelimited(message)
    }

    /// A histogram with native buckets, through the generated types.
    private mutating func writeNative(_ histogram: HistogramReading, created: Double?) {
      let message = ProtobufFormat.histogram(histogram.snapshot, created: created)
      let bytes: [UInt8]
      do {
        bytes = try message.serializedBytes()
      } catch {
        // Only proto2 `required` fields can make encoding fail, and this schema has none.
        preconditionFailure("encoding a histogram failed: \(error)")
      }
      writer.writeVarint(UInt64(bytes.count))
      writer.bytes.append(contentsOf: bytes)
    }
  }

  /// A family as a generated message: what the encoder writes, byte for byte (the tests compare).
  static func metricFamily(_ family: MetricFamilySnapshot) -> Io_Prometheus_Client_MetricFamily {
    var message = Io_Prometheus_Client_MetricFamily()
    message.name = family.name
    message.help = family.help
    switch family.kind {
    case .counter: message.type = .counter
    case .gauge: message.type = .gauge
    case .histogram: message.type = .histogram
    }
    message.metric = family.metrics.map { snapshot in
      var metric = Io_Prometheus_Client_Metric()
      metric.label = zip(family.labelNames, snapshot.labelValues).map { name, value in
        var pair = Io_Prometheus_Client_LabelPair()
        pair.name = name
        pair.value = value
        return pair
      }
      switch snapshot.value {
      case .counter(let value):
        var counter = Io_Prometheus_Client_Counter()
        counter.value = value
        if let created = snapshot.created { counter.createdTimestamp = timestamp(created) }
        metric.counter = counter
      case .gauge(let value):
        var gauge = Io_Prometheus_Client_Gauge()
        gauge.value = value
        metric.gauge = gauge
      case .histogram(let histogram):
        metric.histogram = self.histogram(histogram, created: snapshot.created)
      }
      return metric
    }
    return message
  }

  static func histogram(_ snapshot: HistogramSnapshot, created: Double?)
    -> Io_Prometheus_Client_Histogram
  {
    var histogram = Io_Prometheus_Client_Histogram()
    histogram.sampleCount = snapshot.count
    histogram.sampleSum = snapshot.sum
    histogram.bucket = zip(snapshot.upperBounds, snapshot.cumulativeCounts).enumerated().map {
      index, pair in
      var bucket = Io_Prometheus_Client_Bucket()
      bucket.upperBound = pair.0
      bucket.cumulativeCount = pair.1
      if let exemplar = snapshot.exemplar(at: index) { bucket.exemplar = self.exemplar(exemplar) }
      return bucket
    }
    if let exemplar = snapshot.exemplar(at: snapshot.upperBounds.count) {
      // The +Inf bucket is implied by the count; send it only to carry its exemplar.
      var bucket = Io_Prometheus_Client_Bucket()
      bucket.upperBound = .infinity
      bucket.cumulativeCount = snapshot.count
      bucket.exemplar = self.exemplar(exemplar)
      histogram.bucket.append(bucket)
    }
    if let created { histogram.createdTimestamp = timestamp(created) }
    if let native = snapshot.native {
      histogram.schema = Int32(native.schema)
      histogram.zeroThreshold = native.zeroThreshold
      histogram.zeroCount = native.zeroCount
      (histogram.positiveSpan, histogram.positiveDelta) = spansAndDeltas(native.positive)
      (histogram.negativeSpan, histogram.negativeDelta) = spansAndDeltas(native.negative)
      if histogram.positiveSpan.isEmpty && native.zeroCount == 0 && native.zeroThreshold == 0 {
        // Without observations and with a zero threshold of 0, a no-op span keeps the histogram
        // recognizably native.
        var span = Io_Prometheus_Client_BucketSpan()
        span.offset = 0
        span.length = 0
        histogram.positiveSpan = [span]
      }
      histogram.exemplars = snapshot.exemplars.compactMap { $0 }.map(exemplar)
    }
    return histogram
  }

  /// Spans and deltas as client_golang's `makeBuckets` builds them: a gap of one or two empty
  /// buckets is filled with zero counts, a larger gap starts a new span; each delta is the
  /// bucket's count minus the previous bucket's.
  static func spansAndDeltas(_ buckets: [NativeHistogramSnapshot.Bucket])
    -> ([Io_Prometheus_Client_BucketSpan], [Int64])
  {
    var spans: [Io_Prometheus_Client_BucketSpan] = []
    var deltas: [Int64] = []
    var previousCount: Int64 = 0
    var nextIndex = 0
    func appendDelta(_ count: Int64) {
      spans[spans.count - 1].length += 1
      deltas.append(count &- previousCount)
      previousCount = count
    }
    for (position, bucket) in buckets.enumerated() {
      let gap = bucket.index - nextIndex
      if position == 0 || gap > 2 {
        var span = Io_Prometheus_Client_BucketSpan()
        span.offset = Int32(truncatingIfNeeded: gap)
        span.length = 0
        spans.append(span)
      } else {
        for _ in 0..<gap { appendDelta(0) }
      }
      appendDelta(Int64(truncatingIfNeeded: bucket.count))
      nextIndex = bucket.index + 1
    }
    return (spans, deltas)
  }

  static func exemplar(_ exemplar: Exemplar) -> Io_Prometheus_Client_Exemplar {
    var message = Io_Prometheus_Client_Exemplar()
    message.label = exemplar.sortedLabels.map { name, value in
      var pair = Io_Prometheus_Client_LabelPair()
      pair.name = name
      pair.value = value
      return pair
    }
    message.value = exemplar.value
    message.timestamp = timestamp(exemplar.timestamp)
    return message
  }

  static func timestamp(_ secondsSinceEpoch: Double) -> Google_Protobuf_Timestamp {
    let seconds = secondsSinceEpoch.rounded(.down)
    let nanos = min(((secondsSinceEpoch - seconds) * 1e9).rounded(), 999_999_999)
    return Google_Protobuf_Timestamp(seconds: Int64(seconds), nanos: Int32(nanos))
  }
}
