#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The process's open-file limit (`RLIMIT_NOFILE`), which bounds how many connections the server
/// can accept: past it `accept` fails and libmicrohttpd stops accepting until a connection closes.
enum OpenFileLimit {
  /// Raises the soft limit to `needed` descriptors when it is lower, as far as the hard limit
  /// allows; never lowers it.
  ///
  /// - Returns: The soft limit afterwards, or `nil` if it cannot be read.
  @discardableResult
  static func raise(toFit needed: Int) -> Int? {
    var limit = rlimit()
    guard getrlimit(resource, &limit) == 0 else { return nil }
    let wanted = rlim_t(max(needed, 0))
    if limit.rlim_cur < wanted {
      var raised = limit
      raised.rlim_cur = min(wanted, limit.rlim_max)
      if setrlimit(resource, &raised) == 0 { limit = raised }
    }
    return Int(clamping: limit.rlim_cur)
  }

  #if canImport(Glibc)
  private static let resource = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)
  #else
  private static let resource = RLIMIT_NOFILE
  #endif
}
