import Foundation

/// A server address the client connects to, parsed from `host:port`, `http://host:port`, `https://host:port` or
/// `[v6]:port`.
struct Endpoint: Sendable, Hashable, CustomStringConvertible {
  /// The host name or address, without brackets.
  let host: String
  /// The TCP port.
  let port: Int
  /// Whether connections to this endpoint use TLS: `https://`, or no scheme when the client has TLS configured.
  let isTLS: Bool
  /// The endpoint as configured, used in errors and metric labels.
  let description: String

  /// The `:authority` of requests: `host:port`, with brackets for IPv6.
  var authority: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }

  /// Parses an endpoint.
  ///
  /// - Parameter defaultTLS: Whether an endpoint without a scheme uses TLS (the client has TLS configured).
  /// - Throws: `EtcdError` with code `.invalidConfiguration` for a malformed endpoint or an unsupported scheme.
  init(parsing text: String, defaultTLS: Bool = false) throws(EtcdError) {
    func invalid(_ why: String) -> EtcdError {
      EtcdError(
        code: .invalidConfiguration,
        status: GRPCStatus(code: .invalidArgument, message: "invalid endpoint \"\(text)\": \(why)"),
        endpoint: text
      )
    }
    var rest = Substring(text.trimmingCharacters(in: .whitespaces))
    var isTLS = defaultTLS
    if let schemeEnd = rest.range(of: "://") {
      let scheme = rest[..<schemeEnd.lowerBound].lowercased()
      switch scheme {
      case "http", "unix+http": isTLS = false
      case "https": isTLS = true
      default:
        throw invalid("unsupported scheme \"\(scheme)\"")
      }
      rest = rest[schemeEnd.upperBound...]
    }
    if rest.hasSuffix("/") { rest = rest.dropLast() }
    guard !rest.isEmpty else { throw invalid("empty address") }
    guard !rest.contains("/") else { throw invalid("a path is not allowed") }

    let host: Substring
    let portText: Substring
    if rest.hasPrefix("[") {
      guard let close = rest.firstIndex(of: "]") else { throw invalid("unterminated IPv6 address") }
      host = rest[rest.index(after: rest.startIndex)..<close]
      let after = rest[rest.index(after: close)...]
      guard after.hasPrefix(":") else { throw invalid("missing port") }
      portText = after.dropFirst()
    } else {
      guard let colon = rest.lastIndex(of: ":") else { throw invalid("missing port") }
      host = rest[..<colon]
      guard !host.contains(":") else { throw invalid("IPv6 addresses need brackets: [addr]:port") }
      portText = rest[rest.index(after: colon)...]
    }
    guard !host.isEmpty else { throw invalid("empty host") }
    guard portText.allSatisfy(\.isASCIIDigit), let port = Int(portText), (1...65535).contains(port) else {
      throw invalid("port must be a number from 1 to 65535")
    }
    self.host = String(host)
    self.port = port
    self.isTLS = isTLS
    self.description = text
  }
}

extension Character {
  /// Whether this is one of the ASCII digits 0-9.
  fileprivate var isASCIIDigit: Bool { ("0"..."9").contains(self) }
}
