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
    var output: [UInt8] = []
    output.reserveCapacity(4096)
    for family in families where !family.metrics.isEmpty {
      let message = metricFamily(family)
      let bytes: [UInt8]
      do {
        bytes = try message.serializedBytes()
      } catch {
        // Only proto2 `required` fields can make encoding fail, and this schema has none.
        preconditionFailure("encoding \(family.name) failed: \(error)")
      }
      appendVarint(UInt64(bytes.count), to: &output)
      output.append(contentsOf: bytes)
    }
    return output
  }

  static func appendVarint(_ value: UInt64, to output: inout [UInt8]) {
    var rest = value
    while rest >= 0x80 {
      output.append(UInt8(truncatingIfNeeded: rest) | 0x80)
      rest >>= 7
    }
    output.append(UInt8(rest))
  }

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
