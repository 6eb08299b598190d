import Foundation
import NIOCore

#if canImport(Glibc)
  import Glibc
#endif
import NIOSSL
import NIOTLS

/// Holds a new TLS connection back from calls until it can carry them, and turns TLS failures into clear errors.
///
/// A TLS connection is ready when the handshake is done, ALPN chose `h2`, and the server's first HTTP/2 bytes
/// (its SETTINGS) arrived. The last step matters for mutual TLS: in TLS 1.3 the client's handshake ends before the
/// server has checked the client certificate, so a server that refuses it answers with an alert only after
/// that. Waiting for the server's first bytes turns that alert into a connection failure, not a failed call.
///
/// It keeps the certificate the server presented (`peerCertificate`), which the connection reports as the
/// endpoint's server certificate expiry.
///
/// It sits between `NIOSSLClientHandler` and `GRPCConnectionHandler`, reports once through `whenReady`, and
/// removes itself once ready. The whole wait is bounded by `timeout` (the dial timeout), counted from the TCP
/// connection. Event loop only.
final class TLSReadinessHandler: ChannelInboundHandler, RemovableChannelHandler {
  typealias InboundIn = ByteBuffer
  typealias InboundOut = ByteBuffer

  private let endpoint: Endpoint
  private let serverName: String?
  private let timeout: TimeAmount
  private var outcome: Result<Void, EtcdError>?
  private var onOutcome: ((Result<Void, EtcdError>) -> Void)?
  private var handshakeCompleted = false
  /// The certificate the server presented, once the handshake completed or failed after receiving it.
  private(set) var peerCertificate: NIOSSLCertificate?
  private var timer: Scheduled<Void>?

  init(endpoint: Endpoint, serverName: String?, timeout: TimeAmount) {
    self.endpoint = endpoint
    self.serverName = serverName
    self.timeout = timeout
  }

  /// Calls `body` once with the outcome: now if it is known, else when it is.
  func whenReady(_ body: @escaping (Result<Void, EtcdError>) -> Void) {
    if let outcome { body(outcome) } else { onOutcome = body }
  }

  func handlerAdded(context: ChannelHandlerContext) {
    if context.channel.isActive { startTimer(context: context) }
  }

  func channelActive(context: ChannelHandlerContext) {
    startTimer(context: context)
    context.fireChannelActive()
  }

  func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
    if outcome == nil, let event = event as? TLSUserEvent,
      case .handshakeCompleted(let negotiated) = event
    {
      peerCertificate = Self.peerCertificate(context: context)
      if negotiated == "h2" {
        handshakeCompleted = true
      } else {
        let offered = negotiated.map { "\"\($0)\"" } ?? "no protocol"
        finish(
          .failure(failure("the server did not agree to HTTP/2 by ALPN (it chose \(offered))", cause: nil)),
          context: context
        )
        return
      }
    }
    context.fireUserInboundEventTriggered(event)
  }

  func channelRead(context: ChannelHandlerContext, data: NIOAny) {
    context.fireChannelRead(data)
    if outcome == nil && handshakeCompleted {
      finish(.success(()), context: context)
      context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
    }
  }

  func errorCaught(context: ChannelHandlerContext, error: any Error) {
    guard outcome == nil else {
      context.fireErrorCaught(error)
      return
    }
    // Read before NIOSSL closes the connection: the certificate tells an expired one from an unknown CA.
    let peerCertificate = Self.peerCertificate(context: context)
    if let peerCertificate { self.peerCertificate = peerCertificate }
    let why: String
    if let ioError = error as? IOError, ioError.errnoCode == ECONNRESET || ioError.errnoCode == EPIPE {
      // A plain-HTTP server answers a ClientHello by closing, and the close may arrive as a reset.
      why = closedReason + " (\(String(cString: strerror(ioError.errnoCode))))"
    } else {
      why = Self.describe(error, serverName: serverName, peerCertificate: peerCertificate)
    }
    finish(.failure(failure(why, cause: error)), context: context)
  }

  /// The certificate the server presented, from the `NIOSSLClientHandler` before this handler.
  private static func peerCertificate(context: ChannelHandlerContext) -> NIOSSLCertificate? {
    (try? context.pipeline.syncOperations.handler(type: NIOSSLClientHandler.self))?.peerCertificate
  }

  /// Why the connection ended when the server closed it before the connection was ready.
  private var closedReason: String {
    handshakeCompleted
      ? "the server closed the connection right after the handshake (did it refuse the client certificate?)"
      : "the server closed the connection during the handshake (is it serving plain HTTP? then use an "
        + "http:// endpoint)"
  }

  func channelInactive(context: ChannelHandlerContext) {
    if outcome == nil {
      finish(.failure(failure(closedReason, cause: nil)), context: context)
    }
    context.fireChannelInactive()
  }

  func handlerRemoved(context: ChannelHandlerContext) {
    timer?.cancel()
    timer = nil
    if outcome == nil {
      report(.failure(failure("the connection was closed during the handshake", cause: nil)))
    }
  }

  // MARK: -

  private func startTimer(context: ChannelHandlerContext) {
    guard timer == nil, outcome == nil else { return }
    let loopBoundContext = NIOLoopBound(context, eventLoop: context.eventLoop)
    timer = context.eventLoop.assumeIsolated().scheduleTask(in: timeout) {
      let context = loopBoundContext.value
      guard self.outcome == nil else { return }
      let milliseconds = self.timeout.nanoseconds / 1_000_000
      let why =
        self.handshakeCompleted
        ? "the server sent no HTTP/2 settings within \(milliseconds) ms of the handshake"
        : "the handshake did not complete within \(milliseconds) ms (the dial timeout)"
      self.finish(.failure(self.failure(why, cause: nil)), context: context)
    }
  }

  private func finish(_ result: Result<Void, EtcdError>, context: ChannelHandlerContext) {
    timer?.cancel()
    timer = nil
    report(result)
    if case .failure = result { context.close(promise: nil) }
  }

  private func report(_ result: Result<Void, EtcdError>) {
    guard outcome == nil else { return }
    outcome = result
    if let onOutcome {
      self.onOutcome = nil
      onOutcome(result)
    }
  }

  private func failure(_ why: String, cause: (any Error)?) -> EtcdError {
    var error = EtcdError(
      code: .connectionFailed,
      status: GRPCStatus(code: .unavailable, message: "TLS handshake with \(endpoint) failed: \(why)"),
      endpoint: endpoint.description,
      cause: cause
    )
    error.isTLSHandshakeFailure = true
    return error
  }

  /// Why a TLS connection failed, in words: BoringSSL's reason names are kept in parentheses for searching.
  ///
  /// - Parameter peerCertificate: The server's certificate as received, when the handshake got that far:
  ///   BoringSSL keeps it after a failed verification, which tells an expired certificate from an unknown CA.
  static func describe(
    _ error: any Error,
    serverName: String?,
    peerCertificate: NIOSSLCertificate? = nil,
    now: Date = Date()
  ) -> String {
    if let extra = error as? NIOSSLExtraError, extra == .failedToValidateHostname {
      let name = serverName.map { "\"\($0)\"" } ?? "the IP address connected to"
      return "the server's certificate is not valid for \(name) (\(extra)); set TLS.serverName to a name the "
        + "certificate is for"
    }
    let boringSSLError: BoringSSLError
    switch error {
    case NIOSSLError.handshakeFailed(let wrapped): boringSSLError = wrapped
    case let direct as BoringSSLError: boringSSLError = direct
    case NIOSSLError.uncleanShutdown:
      return "the server closed the connection without a TLS close (\(error))"
    default: return "\(error)"
    }
    if case .sslError(let stack) = boringSSLError, stack.contains(.eofDuringHandshake) {
      return "the server closed the connection during the handshake (is it serving plain HTTP? then use an "
        + "http:// endpoint)"
    }
    let reasons = Self.reasons(boringSSLError)
    if reasons.isEmpty { return "\(boringSSLError)" }
    let explained = reasons.map { reason in
      switch reason {
      case "CERTIFICATE_VERIFY_FAILED":
        return verifyFailure(peerCertificate: peerCertificate, now: now) + " (\(reason))"
      case "TLSV13_ALERT_CERTIFICATE_REQUIRED", "SSLV3_ALERT_BAD_CERTIFICATE", "SSLV3_ALERT_HANDSHAKE_FAILURE":
        return "the server refused the client's certificate: it requires a client certificate signed by a CA "
          + "it trusts (set TLS.clientCertificate) (\(reason))"
      case "TLSV1_ALERT_UNKNOWN_CA":
        return "the server does not trust the CA that signed the client certificate (\(reason))"
      case "SSLV3_ALERT_CERTIFICATE_EXPIRED":
        return "the server says the client certificate has expired (\(reason))"
      case "WRONG_VERSION_NUMBER", "UNEXPECTED_RECORD", "RECORD_TOO_LARGE":
        return "the server did not answer with TLS (is it serving plain HTTP? then use an http:// endpoint) "
          + "(\(reason))"
      default:
        return reason
      }
    }
    return explained.joined(separator: "; ")
  }

  /// Why the server's certificate failed verification, as far as the certificate itself tells.
  private static func verifyFailure(peerCertificate: NIOSSLCertificate?, now: Date) -> String {
    let formatter = ISO8601DateFormatter()
    if let certificate = peerCertificate {
      let notAfter = Date(timeIntervalSince1970: TimeInterval(certificate.notValidAfter))
      let notBefore = Date(timeIntervalSince1970: TimeInterval(certificate.notValidBefore))
      if notAfter < now {
        return "the server's certificate expired at \(formatter.string(from: notAfter))"
      }
      if notBefore > now {
        return "the server's certificate is not valid before \(formatter.string(from: notBefore))"
      }
      return "the server's certificate is not signed by a CA in TLS.trustRoots (or a CA certificate in its "
        + "chain is expired)"
    }
    return "the server's certificate could not be verified: it is not signed by a CA in TLS.trustRoots, or it "
      + "has expired or is not yet valid"
  }

  /// The reason names in a BoringSSL error stack ("CERTIFICATE_VERIFY_FAILED"): each entry reads
  /// `Error: CODE error:HEX:LIBRARY:FUNCTION:REASON at FILE:LINE`.
  private static func reasons(_ error: BoringSSLError) -> [String] {
    let stack: NIOBoringSSLErrorStack
    switch error {
    case .sslError(let errors), .unknownError(let errors): stack = errors
    default: return []
    }
    return stack.compactMap { entry in
      let text = "\(entry)"
      guard let start = text.range(of: "error:") else { return nil }
      var rest = text[start.upperBound...]
      if let at = rest.range(of: " at ") { rest = rest[..<at.lowerBound] }
      return rest.split(separator: ":").last.map(String.init)
    }
  }
}

/// The readiness handlers of one connection attempt, by channel: NIO's happy eyeballs may make a channel for each
/// address of a host name, and only the one that connected counts. Event loop only.
final class TLSReadinessHandlers {
  private var handlers: [ObjectIdentifier: TLSReadinessHandler] = [:]

  /// Adds `NIOSSLClientHandler` (with `context`, the TLS store's current one) and a `TLSReadinessHandler` to
  /// a new channel.
  func add(
    tls: GRPCConnection.TLS,
    context: NIOSSLContext,
    endpoint: Endpoint,
    timeout: TimeAmount,
    to channel: any Channel
  ) throws {
    let serverHostname = tls.serverHostname(for: endpoint)
    let readiness = TLSReadinessHandler(endpoint: endpoint, serverName: serverHostname, timeout: timeout)
    let operations = channel.pipeline.syncOperations
    try operations.addHandler(NIOSSLClientHandler(context: context, serverHostname: serverHostname))
    try operations.addHandler(readiness)
    handlers[ObjectIdentifier(channel)] = readiness
  }

  /// The readiness handler of a connected channel.
  func handler(of channel: any Channel) -> TLSReadinessHandler? {
    handlers.removeValue(forKey: ObjectIdentifier(channel))
  }
}
