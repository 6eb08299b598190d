internal import CCrypt

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// bcrypt through libxcrypt's reentrant `crypt_rn` and `crypt_gensalt_rn`: the one file that
/// calls libxcrypt.
package enum Bcrypt {
  /// Hashes `password` with the salt and cost of `setting`.
  ///
  /// Blocks for the cost's time (about 50 to 100 ms at cost 10), on the calling thread.
  ///
  /// - Parameters:
  ///   - password: The password; one holding a NUL byte is refused (crypt(3) takes C strings).
  ///   - setting: A whole bcrypt hash, or its first 29 characters (`$2b$10$` and the salt).
  /// - Returns: The 60-character hash, or `nil` when libxcrypt refuses the input.
  static func hash(password: String, setting: String) -> String? {
    guard !password.utf8.contains(0), !setting.utf8.contains(0) else { return nil }
    // crypt_rn keeps all of its state in this buffer (about 32 KiB), so concurrent calls need no
    // lock; it is zeroed before use, as crypt.h asks, and after, so no intermediate state stays
    // behind in freed memory.
    let size = MemoryLayout<crypt_data>.size
    let data = UnsafeMutableRawPointer.allocate(
      byteCount: size, alignment: MemoryLayout<crypt_data>.alignment)
    data.initializeMemory(as: UInt8.self, repeating: 0, count: size)
    defer {
      explicit_bzero(data, size)
      data.deallocate()
    }
    guard let result = crypt_rn(password, setting, data, Int32(size)) else { return nil }
    let hash = String(cString: result)
    // crypt_rn returns NULL on failure; a failure token (`*0`, what crypt_r returns instead) is
    // refused as well.
    return hash.hasPrefix("$") ? hash : nil
  }

  /// A fresh `$2b$` setting (prefix, cost and 16 random salt bytes from the operating system).
  ///
  /// - Parameter cost: The cost, 4 to 31.
  /// - Returns: The 29-character setting, or `nil` when libxcrypt refuses.
  static func makeSetting(cost: Int) -> String? {
    var output = [CChar](repeating: 0, count: Int(CRYPT_GENSALT_OUTPUT_SIZE))
    let made = output.withUnsafeMutableBufferPointer { buffer in
      crypt_gensalt_rn("$2b$", UInt(cost), nil, 0, buffer.baseAddress, Int32(buffer.count))
    }
    guard made != nil else { return nil }
    return String(
      decoding: output.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
  }

  /// The bcrypt hash of `password` with a fresh random salt, as `htpasswd -nbBC cost` makes it.
  ///
  /// - Returns: The 60-character hash, or `nil` when libxcrypt refuses.
  package static func makeHash(password: String, cost: Int) -> String? {
    makeSetting(cost: cost).flatMap { hash(password: password, setting: $0) }
  }
}
