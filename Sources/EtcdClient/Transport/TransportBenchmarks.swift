import EtcdProto

/// Drives the transport's pure parts (framer, deframer, call state machine) for the micro-benchmarks in
/// `Benchmarks/`, which are another package: SPI, not API.
///
/// The transport types are `package` declarations of GRPCProtocol, and `package` access does not reach
/// another package; `@testable import` would need the library built with `-enable-testing`, which a release
/// build for benchmarking does not (and should not) use. So this one file exposes, under
/// `@_spi(Benchmarks)`, exactly the operations measured, each a thin wrapper doing what EtcdClient does with
/// the type: the calls cross from EtcdClient into GRPCProtocol as the client's own calls do. The put request
/// is etcd's (EtcdProto), which is why the wrappers live here and not in GRPCProtocol. An ordinary
/// `import EtcdClient` sees none of it.
@_spi(Benchmarks)
public enum TransportBenchmarks {
  /// A put request, serialized and framed as `EtcdClient.put` does before the call reaches a connection.
  public struct PutFraming: Sendable {
    private let request: Etcdserverpb_PutRequest
    private let framer: GRPCMessageFramer

    /// Builds the request once; `frame()` serializes it each time.
    public init(key: [UInt8], value: [UInt8], maxMessageLength: Int = 2 * 1024 * 1024) {
      request = Etcdserverpb_PutRequest(key: key, value: value, options: PutOptions())
      framer = GRPCMessageFramer(maxMessageLength: maxMessageLength)
    }

    /// Frames the request and returns the framed size (prefix included).
    public func frame() throws(EtcdError) -> Int {
      do {
        return try framer.frame(request).framed.count
      } catch {
        throw EtcdError(framing: error)
      }
    }
  }

  /// A response body deframer, fed chunks as HTTP/2 DATA frames deliver them.
  public struct Deframing: Sendable {
    private var deframer: GRPCMessageDeframer

    /// Creates a deframer with the client's default receive limit.
    public init(maxMessageLength: Int = Int(Int32.max)) {
      deframer = GRPCMessageDeframer(maxMessageLength: maxMessageLength)
    }

    /// Feeds one chunk; returns the size of the messages it completed.
    public mutating func process(_ chunk: UnsafeRawBufferPointer) throws -> Int {
      var completed = 0
      try deframer.process(chunk) { completed += $0.count }
      return completed
    }
  }

  /// The server's side of one unary call as nghttp2 hands it over: response headers, DATA chunks, trailers.
  public struct UnaryCall: Sendable {
    /// A header field as raw bytes, as nghttp2's header callback gives it.
    public typealias Field = (name: [UInt8], value: [UInt8])

    private let headers: [Field]
    private let chunks: [[UInt8]]
    private let trailers: [Field]

    /// A successful call whose framed response body (prefix included) arrives in `chunks` pieces, with the
    /// headers and trailers etcd's gRPC server sends.
    public init(framedResponse: [UInt8], chunks: Int) {
      headers = [
        (Array(":status".utf8), Array("200".utf8)),
        (Array("content-type".utf8), Array("application/grpc".utf8)),
      ]
      trailers = [
        (Array("grpc-status".utf8), Array("0".utf8)),
        (Array("grpc-message".utf8), []),
      ]
      let size = (framedResponse.count + chunks - 1) / max(chunks, 1)
      self.chunks = stride(from: 0, to: framedResponse.count, by: max(size, 1)).map {
        Array(framedResponse[$0..<min($0 + size, framedResponse.count)])
      }
    }

    /// Runs the call through a new state machine: start, headers, data, trailers, stream close, status, with
    /// header fields recorded as the connection handler records them.
    ///
    /// - Returns: The size of the response message delivered, or -1 when the call did not end with OK.
    public func run() -> Int {
      var machine = GRPCCallStateMachine(
        configuration: .init(maxReceiveMessageLength: Int(Int32.max), expectsSingleResponse: true))
      guard case .none = machine.headersReceived(Self.block(headers), endStream: false) else {
        return -1
      }
      var received = 0
      for chunk in chunks {
        let action = chunk.withUnsafeBytes { bytes in
          machine.dataReceived(bytes) { received += $0.count }
        }
        guard case .none = action else { return -1 }
      }
      let action = machine.headersReceived(Self.block(trailers), endStream: true)
      guard case .none = machine.streamClosed(errorCode: HTTP2ErrorCode.noError),
        case .finish(let status, _) = action, status.code == .ok
      else { return -1 }
      return received
    }

    private static func block(_ fields: [Field]) -> GRPCHeaderBlock {
      var block = GRPCHeaderBlock()
      for field in fields {
        field.name.withUnsafeBytes { name in
          field.value.withUnsafeBytes { value in block.record(nameBytes: name, valueBytes: value) }
        }
      }
      return block
    }
  }
}
