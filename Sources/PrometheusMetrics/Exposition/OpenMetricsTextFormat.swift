/// The OpenMetrics 1.0 text format.
///
/// Pure: turns snapshots into bytes, as client_golang's `expfmt.MetricFamilyToOpenMetrics` with
/// created lines does. Counter families are named without `_total` in `# HELP`/`# TYPE` while their
/// samples keep it; counters and histograms get a `_created` sample when the series has a creation
/// time; the output ends with `# EOF`. Units are not written. A histogram bucket's latest exemplar
/// follows its sample (`..._bucket{le="0.01"} 3 # {trace_id="abc"} 0.0042 1.7000000001e+09`);
/// native buckets are not part of OpenMetrics 1.0 and are left out.
///
/// ```
/// # HELP etcd_client_rpcs RPCs completed.
/// # TYPE etcd_client_rpcs counter
/// etcd_client_rpcs_total{method="Range"} 3.0
/// etcd_client_rpcs_created{method="Range"} 1.7e+09
/// # EOF
/// ```
public enum OpenMetricsTextFormat {
  /// The content type of this format.
  public static let contentType = "application/openmetrics-text; version=1.0.0; charset=utf-8"

  /// Encodes families.
  ///
  /// Families with no series are left out. The HELP line is left out when the help text is empty.
  ///
  /// - Parameter families: The families, in the order to write them.
  /// - Returns: The UTF-8 text, ending with `# EOF\n`.
  public static func encode(_ families: [MetricFamilySnapshot]) -> [UInt8] {
    var encoder = Encoder(writer: ExpositionWriter())
    encoder.encode(families)
    return encoder.writer.bytes
  }

  /// Writes OpenMetrics family by family.
  struct Encoder: SeriesEncoder {
    typealias Sample = FamilyRendering.Sample
    var writer: ExpositionWriter

    mutating func beginFamily(_ family: FamilyRendering) {
      writer.bytes.append(contentsOf: family.openMetricsHeader)
    }

    mutating func writeSeries(_ family: FamilyRendering, _ index: Int, _ value: SeriesValue) {
      let names = family.sampleNames
      family.labels.withFragment(index) { labels in
        switch value {
        case .counter(let number):
          writeSample(names, labels, number)
          writeCreated(family, index, labels)
        case .gauge(let number):
          writeSample(names, labels, number)
        case .histogram(let histogram):
          let bounds = histogram.hasFamilyBounds ? family.openMetricsBounds : nil
          names.withFragment(Sample.openMetricsBucket) { name in
            for (index, count) in histogram.cumulativeCounts.enumerated() {
              writer.writeSampleStart(name, labels: labels, extraLabel: true)
              writer.writeBucketLabel(index, of: histogram, rendered: bounds, openMetrics: true)
              writer.write(count)
              writeExemplar(histogram.exemplar(at: index))
              writer.write(UInt8(ascii: "\n"))
            }
            let infinity = histogram.upperBounds.count
            writer.writeSampleStart(name, labels: labels, extraLabel: true)
            writer.writeBucketLabel(infinity, of: histogram, rendered: bounds, openMetrics: true)
            writer.write(histogram.count)
            writeExemplar(histogram.exemplar(at: infinity))
            writer.write(UInt8(ascii: "\n"))
          }
          names.withFragment(Sample.openMetricsSum) {
            writer.writeSampleStart($0, labels: labels, extraLabel: false)
          }
          writer.writeFloat(histogram.sum, openMetrics: true)
          writer.write(UInt8(ascii: "\n"))
          names.withFragment(Sample.openMetricsCount) {
            writer.writeSampleStart($0, labels: labels, extraLabel: false)
          }
          writer.write(histogram.count)
          writer.write(UInt8(ascii: "\n"))
          writeCreated(family, index, labels)
        }
      }
    }

    mutating func endFamily(_ family: FamilyRendering) {}

    mutating func finish() {
      writer.write("# EOF\n")
    }

    private mutating func writeSample(
      _ names: FamilyRendering.Fragments, _ labels: UnsafeBufferPointer<UInt8>, _ value: Double
    ) {
      names.withFragment(Sample.openMetrics) {
        writer.writeSampleStart($0, labels: labels, extraLabel: false)
      }
      writer.writeFloat(value, openMetrics: true)
      writer.write(UInt8(ascii: "\n"))
    }

    private mutating func writeCreated(
      _ family: FamilyRendering, _ index: Int, _ labels: UnsafeBufferPointer<UInt8>
    ) {
      family.openMetricsCreated.withFragment(index) { created in
        guard !created.isEmpty else { return }
        family.sampleNames.withFragment(Sample.openMetricsCreated) {
          writer.writeSampleStart($0, labels: labels, extraLabel: false)
        }
        writer.write(created)
        writer.write(UInt8(ascii: "\n"))
      }
    }

    /// Writes ` # {labels} value timestamp` after a bucket's count, as client_golang's writer does
    /// (the timestamp in seconds, formatted like other floats).
    private mutating func writeExemplar(_ exemplar: Exemplar?) {
      guard let exemplar else { return }
      writer.write(" # ")
      let labels = exemplar.sortedLabels
      if labels.isEmpty {
        writer.write("{}")
      } else {
        writer.writeLabels(names: labels.map(\.name), values: labels.map(\.value))
      }
      writer.write(UInt8(ascii: " "))
      writer.writeFloat(exemplar.value, openMetrics: true)
      writer.write(UInt8(ascii: " "))
      writer.writeFloat(exemplar.timestamp, openMetrics: true)
    }
  }
}
