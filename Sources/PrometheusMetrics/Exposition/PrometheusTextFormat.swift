/// The Prometheus text exposition format, version 0.0.4.
///
/// Pure: turns snapshots into bytes, as client_golang's `expfmt.MetricFamilyToText` does.
///
/// ```
/// # HELP etcd_client_rpcs_total RPCs completed.
/// # TYPE etcd_client_rpcs_total counter
/// etcd_client_rpcs_total{method="Range"} 3
/// ```
public enum PrometheusTextFormat {
  /// The content type of this format.
  public static let contentType = "text/plain; version=0.0.4; charset=utf-8"

  /// Encodes families.
  ///
  /// Families with no series are left out (as client_golang does). The HELP line is left out when
  /// the help text is empty.
  ///
  /// - Parameter families: The families, in the order to write them.
  /// - Returns: The UTF-8 text.
  public static func encode(_ families: [MetricFamilySnapshot]) -> [UInt8] {
    var encoder = Encoder(writer: ExpositionWriter())
    encoder.encode(families)
    return encoder.writer.bytes
  }

  /// Writes text 0.0.4 family by family.
  struct Encoder: SeriesEncoder {
    var writer: ExpositionWriter

    mutating func beginFamily(_ family: FamilyRendering) {
      writer.bytes.append(contentsOf: family.textHeader)
    }

    mutating func writeSeries(_ family: FamilyRendering, _ index: Int, _ value: SeriesValue) {
      let names = family.sampleNames
      family.labels.withFragment(index) { labels in
        switch value {
        case .counter(let value), .gauge(let value):
          names.withFragment(FamilyRendering.Sample.text) {
            writer.writeSampleStart($0, labels: labels, extraLabel: false)
          }
          writer.writeFloat(value, openMetrics: false)
          writer.write(UInt8(ascii: "\n"))
        case .histogram(let histogram):
          let bounds = histogram.hasFamilyBounds ? family.textBounds : nil
          names.withFragment(FamilyRendering.Sample.textBucket) { name in
            for (index, count) in histogram.cumulativeCounts.enumerated() {
              writer.writeSampleStart(name, labels: labels, extraLabel: true)
              writer.writeBucketLabel(index, of: histogram, rendered: bounds, openMetrics: false)
              writer.write(count)
              writer.write(UInt8(ascii: "\n"))
            }
            writer.writeSampleStart(name, labels: labels, extraLabel: true)
            writer.writeBucketLabel(
              histogram.upperBounds.count, of: histogram, rendered: bounds, openMetrics: false)
            writer.write(histogram.count)
            writer.write(UInt8(ascii: "\n"))
          }
          names.withFragment(FamilyRendering.Sample.textSum) {
            writer.writeSampleStart($0, labels: labels, extraLabel: false)
          }
          writer.writeFloat(histogram.sum, openMetrics: false)
          writer.write(UInt8(ascii: "\n"))
          names.withFragment(FamilyRendering.Sample.textCount) {
            writer.writeSampleStart($0, labels: labels, extraLabel: false)
          }
          writer.write(histogram.count)
          writer.write(UInt8(ascii: "\n"))
        }
      }
    }

    mutating func endFamily(_ family: FamilyRendering) {}

    mutating func finish() {}
  }
}
