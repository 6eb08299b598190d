import Foundation

/// The `endpoint` label of a member: `host:port`, however the endpoint was written.
///
/// `127.0.0.1:2379`, `http://127.0.0.1:2379`, `https://127.0.0.1:2379/` and a member list's client URL all name
/// one member, so they give one label value: the scheme and a trailing slash are dropped, the host is lower
/// case, and an IPv6 address keeps its brackets (`[::1]:2379`). Pure.
enum EndpointLabel {
  /// The label of `endpoint`, or nil when it is not `[scheme://]host:port[/]`.
  static func of(_ endpoint: String) -> String? {
    var rest = Substring(endpoint.trimmingCharacters(in: .whitespaces))
    if let schemeEnd = rest.range(of: "://") { rest = rest[schemeEnd.upperBound...] }
    if rest.hasSuffix("/") { rest = rest.dropLast() }
    guard let colon = rest.lastIndex(of: ":") else { return nil }
    let host = rest[..<colon].lowercased()
    let port = rest[rest.index(after: colon)...]
    guard !host.isEmpty, !port.isEmpty, port.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
    guard !host.contains(":") || (host.hasPrefix("[") && host.hasSuffix("]")) else { return nil }
    return "\(host):\(port)"
  }
}
