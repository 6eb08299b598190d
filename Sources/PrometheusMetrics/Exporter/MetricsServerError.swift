/// An error starting the metrics server: its configuration, its TLS files, or its socket.
public struct MetricsServerError: Error, CustomStringConvertible {
  /// The kind of a ``MetricsServerError``.
  public struct Code: Hashable, Sendable, CustomStringConvertible {
    private enum Wrapped: Hashable, Sendable {
      case invalidAddress
      case startFailed
      case alreadyStarted
      case invalidConfiguration
      case tlsFileUnreadable
      case invalidTLSCredentials
    }

    private let wrapped: Wrapped

    /// The configured host or port could not be turned into a socket address.
    public static let invalidAddress = Code(wrapped: .invalidAddress)
    /// The HTTP server could not start (e.g. the port is in use).
    public static let startFailed = Code(wrapped: .startFailed)
    /// ``MetricsServer/start()`` was called on a server that was already started or stopped.
    public static let alreadyStarted = Code(wrapped: .alreadyStarted)
    /// Settings that do not fit together or cannot work, such as a basic-auth password hash that
    /// is not bcrypt, or a client CA without client authentication.
    public static let invalidConfiguration = Code(wrapped: .invalidConfiguration)
    /// A TLS certificate, key or client-CA file could not be read; the message names it and the
    /// cause carries `errno`.
    public static let tlsFileUnreadable = Code(wrapped: .tlsFileUnreadable)
    /// TLS data that does not parse, a private key that does not belong to the certificate, or a
    /// client-CA bundle without certificates; the message names the file(s) and GnuTLS's reason.
    public static let invalidTLSCredentials = Code(wrapped: .invalidTLSCredentials)

    /// A short name of the code.
    public var description: String {
      switch wrapped {
      case .invalidAddress: "invalid address"
      case .startFailed: "start failed"
      case .alreadyStarted: "already started"
      case .invalidConfiguration: "invalid configuration"
      case .tlsFileUnreadable: "TLS file unreadable"
      case .invalidTLSCredentials: "invalid TLS credentials"
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
