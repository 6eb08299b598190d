internal import CMicroHTTPD

// Conversions between libmicrohttpd's C enums, flags and option items and Swift values, kept beside
// MicroHTTPDServer.swift, the wrapper that uses them.

extension MHD_Result {
  init(_ success: Bool) {
    self = success ? .YES : .NO
  }
}

enum MicroHTTPDFlags {
  /// An internal polling thread per pool thread, each with its own epoll set; IPv6 and TLS when
  /// asked.
  static func daemonFlags(ipv6: Bool, tls: Bool = false) -> UInt32 {
    var flags = MHD_USE_INTERNAL_POLLING_THREAD.rawValue | MHD_USE_EPOLL.rawValue
    if ipv6 {
      flags |= MHD_USE_IPv6.rawValue
    }
    if tls {
      flags |= MHD_USE_TLS.rawValue
    }
    return flags
  }

  /// The shim's client-certificate mode for a client-authentication setting.
  static func clientCertificates(
    _ authentication: MetricsServer.Configuration.TLS.ClientAuthentication
  ) -> Int32 {
    switch authentication.mode {
    case .none: CMHD_CLIENT_CERTIFICATES_NONE
    case .verifyIfGiven: CMHD_CLIENT_CERTIFICATES_VERIFY_IF_GIVEN
    case .requireAndVerify: CMHD_CLIENT_CERTIFICATES_REQUIRE_AND_VERIFY
    }
  }
}

extension MHD_OptionItem {
  /// An option with an integer value.
  static func integer(_ option: MHD_OPTION, _ value: Int) -> MHD_OptionItem {
    MHD_OptionItem(option: option, value: value, ptr_value: nil)
  }

  /// An option with a pointer value.
  static func pointer(_ option: MHD_OPTION, _ pointer: UnsafeMutableRawPointer?) -> MHD_OptionItem {
    MHD_OptionItem(option: option, value: 0, ptr_value: pointer)
  }

  /// The terminator of an option array.
  static var end: MHD_OptionItem { MHD_OptionItem(option: .END, value: 0, ptr_value: nil) }
}

extension MHD_ValueKind {
  /// Request header fields.
  static let header = MHD_ValueKind.HEADER_KIND
  /// Query-string arguments.
  static let getArgument = MHD_ValueKind.GET_ARGUMENT_KIND
}

extension MHD_ResponseMemoryMode {
  /// MHD copies the buffer (0.9.75 has no static-buffer constructor).
  static let copy = MHD_ResponseMemoryMode.RESPMEM_MUST_COPY
}
