import Foundation
import Testing

#if canImport(Glibc)
  import Glibc
#endif

/// `etcd-probe --otlp-endpoint`: with the `OTLP` trait, the probe's client spans reach an OTLP/HTTP
/// receiver; without it, the flag is refused with the command that builds a probe that has it.
@Suite("The probe's OTLP span export", .serialized)
struct ProbeOTLPExportTests {
  #if OTLP
    @Test func aProbeOfItsThrowawayEtcdExportsItsCallSpansToAnOTLPHTTPReceiver() async throws {
      let received = NSTemporaryDirectory() + "otlp-received-\(getpid())"
      try FileManager.default.createDirectory(atPath: received, withIntermediateDirectories: true)
      defer { try? FileManager.default.removeItem(atPath: received) }
      let receiver = try await LoopbackServerProcess.script(
        "otlp-receiver.py", arguments: [received])
      // No --endpoints: the probe starts its own throwaway etcd.
      let probe = try EtcdProbeProcess(arguments: [
        "--rounds", "2", "--interval", "500ms",
        "--otlp-endpoint", "http://\(receiver.endpoint)/v1/traces",
      ])
      #expect(try await probe.waitForExit(timeout: .seconds(60)) == 0, "\(probe.log.suffix(1500))")

      // The spans sent before the probe exited (its shutdown sends the last batch).
      let requests =
        (try? String(contentsOfFile: received + "/requests.log", encoding: .utf8)) ?? ""
      let lines = requests.split(separator: "\n")
      #expect(!lines.isEmpty, "\(probe.log.suffix(1500))")
      let protobufPOSTs = lines.filter { $0.contains(" /v1/traces application/x-protobuf ") }
      #expect(protobufPOSTs.count == lines.count, "\(requests)")
      var bodies: [UInt8] = []
      for number in 1...max(1, lines.count) {
        let data = FileManager.default.contents(atPath: received + "/\(number).bin") ?? Data()
        bodies += Array(data)
      }
      // Protobuf keeps strings as they are: the span names and the service's name are in the bytes.
      let text = String(decoding: bodies, as: UTF8.self)
      for name in ["etcdserverpb.KV/Put", "etcdserverpb.KV/Range", "etcd-probe", "rpc.system"] {
        #expect(text.contains(name), "\(name) not exported")
      }
    }
  #else
    @Test func withoutTheTraitTheFlagIsRefusedWithTheBuildCommand() throws {
      guard let binary = EtcdProbeProcess.binaryPath else {
        Issue.record("etcd-probe is not built")
        return
      }
      let result = try run([binary, "--otlp-endpoint", "http://127.0.0.1:4318/v1/traces"])
      #expect(result.status == 64, "\(result.output)")
      #expect(result.output.contains("swift build --traits OTLP"), "\(result.output)")
    }
  #endif
}
