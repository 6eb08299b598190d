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
    var writer = ExpositionWriter()
    for family in families where !family.metrics.isEmpty {
      if !family.help.isEmpty {
        writer.write("# HELP ")
        writer.write(family.name)
        writer.write(" ")
        writer.writeEscaped(family.help, quote: false)
        writer.write("\n")
      }
      writer.write("# TYPE ")
      writer.write(family.name)
      writer.write(" ")
      writer.write(family.kind.typeName)
      writer.write("\n")
      for metric in family.metrics {
        let names = family.labelNames
        let values = metric.labelValues
        switch metric.value {
        case .counter(let value), .gauge(let value):
          writer.write(family.name)
          writer.writeLabels(names: names, values: values)
          writer.write(" ")
          writer.write(ExpositionFloat.text(value))
          writer.write("\n")
        case .histogram(let histogram):
          for (bound, count) in zip(histogram.upperBounds, histogram.cumulativeCounts) {
            writer.write(family.name)
            writer.write("_bucket")
            writer.writeLabels(
              names: names, values: values, extra: ("le", ExpositionFloat.text(bound)))
            writer.write(" ")
            writer.write(count)
            writer.write("\n")
          }
          writer.write(family.name)
          writer.write("_bucket")
          writer.writeLabels(names: names, values: values, extra: ("le", "+Inf"))
          writer.write(" ")
          writer.write(histogram.count)
          writer.write("\n")
          writer.write(family.name)
          writer.write("_sum")
          writer.writeLabels(names: names, values: values)
          writer.write(" ")
          writer.write(ExpositionFloat.text(histogram.sum))
          writer.write("\n")
          writer.write(family.name)
          writer.write("_count")
          writer.writeLabels(names: names, values: values)
          writer.write(" ")
          writer.write(histogram.count)
          writer.write("\n")
        }
      }
    }
    return writer.bytes
  }
}
