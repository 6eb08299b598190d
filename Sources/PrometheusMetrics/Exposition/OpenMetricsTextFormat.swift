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
    var writer = ExpositionWriter()
    for family in families where !family.metrics.isEmpty {
      let familyName =
        family.kind == .counter && family.name.hasSuffix("_total")
        ? String(family.name.dropLast("_total".count)) : family.name
      if !family.help.isEmpty {
        writer.write("# HELP ")
        writer.write(familyName)
        writer.write(" ")
        writer.writeEscaped(family.help, quote: true)
        writer.write("\n")
      }
      writer.write("# TYPE ")
      writer.write(familyName)
      writer.write(" ")
      writer.write(family.kind.typeName)
      writer.write("\n")
      for metric in family.metrics {
        let names = family.labelNames
        let values = metric.labelValues
        switch metric.value {
        case .counter(let value):
          writer.write(familyName)
          writer.write("_total")
          writer.writeLabels(names: names, values: values)
          writer.write(" ")
          writer.write(ExpositionFloat.openMetrics(value))
          writer.write("\n")
          writeCreated(&writer, familyName, names, values, metric.created)
        case .gauge(let value):
          writer.write(familyName)
          writer.writeLabels(names: names, values: values)
          writer.write(" ")
          writer.write(ExpositionFloat.openMetrics(value))
          writer.write("\n")
        case .histogram(let histogram):
          for (index, (bound, count)) in zip(histogram.upperBounds, histogram.cumulativeCounts)
            .enumerated()
          {
            writer.write(familyName)
            writer.write("_bucket")
            writer.writeLabels(
              names: names, values: values, extra: ("le", ExpositionFloat.openMetrics(bound)))
            writer.write(" ")
            writer.write(count)
            writeExemplar(&writer, histogram.exemplar(at: index))
            writer.write("\n")
          }
          writer.write(familyName)
          writer.write("_bucket")
          writer.writeLabels(names: names, values: values, extra: ("le", "+Inf"))
          writer.write(" ")
          writer.write(histogram.count)
          writeExemplar(&writer, histogram.exemplar(at: histogram.upperBounds.count))
          writer.write("\n")
          writer.write(familyName)
          writer.write("_sum")
          writer.writeLabels(names: names, values: values)
          writer.write(" ")
          writer.write(ExpositionFloat.openMetrics(histogram.sum))
          writer.write("\n")
          writer.write(familyName)
          writer.write("_count")
          writer.writeLabels(names: names, values: values)
          writer.write(" ")
          writer.write(histogram.count)
          writer.write("\n")
          writeCreated(&writer, familyName, names, values, metric.created)
        }
      }
    }
    writer.write("# EOF\n")
    return writer.bytes
  }

  /// Writes ` # {labels} value timestamp` after a bucket's count, as client_golang's writer does
  /// (the timestamp in seconds, formatted like other floats).
  private static func writeExemplar(_ writer: inout ExpositionWriter, _ exemplar: Exemplar?) {
    guard let exemplar else { return }
    writer.write(" # ")
    let labels = exemplar.sortedLabels
    if labels.isEmpty {
      writer.write("{}")
    } else {
      writer.writeLabels(names: labels.map(\.name), values: labels.map(\.value))
    }
    writer.write(" ")
    writer.write(ExpositionFloat.openMetrics(exemplar.value))
    writer.write(" ")
    writer.write(ExpositionFloat.openMetrics(exemplar.timestamp))
  }

  private static func writeCreated(
    _ writer: inout ExpositionWriter, _ familyName: String, _ names: [String], _ values: [String],
    _ created: Double?
  ) {
    guard let created else { return }
    writer.write(familyName)
    writer.write("_created")
    writer.writeLabels(names: names, values: values)
    writer.write(" ")
    writer.write(ExpositionFloat.openMetrics(created))
    writer.write("\n")
  }
}
