/// An error starting the metrics server.
public struct MetricsServerError: Error, CustomStringConvertible {
  /// The kind of a ``MetricsServerError``.
  public struct Code: Hashable, Sendable, CustomStringConvertible {
    private enum Wrapped: Hashable, Sendable {
      case invalidAddress
      case startFailed
      case alreadyStarted
    }

    private let wrapped: Wrapped

    /// The configured host or port could not be turned into a socket address.
    public static let invalidAddress = Code(wrapped: .invalidAddress)
    /// The HTTP server could not start (e.g. the port is in use).
    public static let startFailed = Code(wrapped: .startFailed)
    /// ``MetricsServer/start()`` was called on a server that was already started or stopped.
    public static let alreadyStarted = Code(wrapped: .alreadyStarted)

    /// A short name of the code.
    public var description: String {
      switch wrapped {
      case .invalidAddress: "invalid address"
      case .startFailed: "start failed"
      case .alreadyStarted: "already started"
      }
    }
  }

  /// What kind of error this is.
  public var code: Code
  /// What went wrong, for people.
  public var message: String
  /// The underlying error, e.g. a ``SystemError`` carrying `errno`.
  public var cause: (any Error)?

  /// Creates an error.
  ///
  /// - Parameters:
  ///   - code: The kind of error.
  ///   - message: What went wrong.
  ///   - cause: The underlying error.
  public init(code: Code, message: String, cause: (any Error)? = nil) {
    self.code = code
    self.message = message
    self.cause = cause
  }

  /// The code and message, and the cause if any.
  public var description: String {
    var text = "MetricsServerError(\(code)): \(message)"
    if let cause { text += " (\(cause))" }
    return text
  }
}

/// A failed system call's `errno`.
public struct SystemError: Error, Hashable, CustomStringConvertible {
  /// The `errno` value.
  public var errno: Int32
  /// The failing call or a note, for people.
  public var description: String

  /// Creates an error.
  ///
  /// - Parameters:
  ///   - errno: The `errno` value.
  ///   - description: The failing call or a note.
  public init(errno: Int32, description: String) {
    self.errno = errno
    self.description = description
  }
}
