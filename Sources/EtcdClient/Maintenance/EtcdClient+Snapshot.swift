import EtcdProto
import Foundation

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

extension EtcdClient {
  /// Saves a snapshot of a member's backend database to a file, as `etcdctl snapshot save` does.
  ///
  /// The snapshot streams to `path + ".part"` chunk by chunk as it arrives, is synced to disk, and
  /// is then renamed to `path`; on any failure the partial file is deleted and `path` is left as it
  /// was. The file ends with the SHA-256 of the database that the server appends, which `etcdctl
  /// snapshot restore` checks. Calls go round robin over the endpoints, so this saves the database
  /// of the endpoint next in turn.
  ///
  /// ```swift
  /// let bytes = try await client.snapshot(to: "/backups/etcd.db", timeout: .seconds(300))
  /// ```
  /// - Parameters:
  ///   - path: The file to write; replaced when it exists.
  ///   - timeout: The bound on the whole download; nil for none, since a snapshot takes as long as
  ///     the database is large (the configuration's default request timeout does not apply).
  /// - Returns: The bytes written.
  /// - Throws: `EtcdError`: the call's errors; `.invalidResponse` when the stream ends before the
  ///   server's `remainingBytes` reached 0; `.rpcFailed` with gRPC status `INTERNAL` and the
  ///   `POSIXError` as `cause` when the file cannot be created, written, synced or renamed.
  @discardableResult
  public func snapshot(to path: String, timeout: Duration? = nil) async throws(EtcdError) -> Int64 {
    let framed = try frame(Etcdserverpb_SnapshotRequest())
    return try await withStreamingCall(RPCMethod.Maintenance.snapshot, timeout: timeout) {
      call throws(EtcdError) in
      call.send(framed)
      call.finishSending()
      let file = try SnapshotFile(path: path)
      do throws(EtcdError) {
        var reader = GRPCResponseReader(call, as: Etcdserverpb_SnapshotResponse.self)
        var written: Int64 = 0
        var remaining: UInt64?
        while let response = try await reader.next() {
          try file.write(response.blob)
          written += Int64(response.blob.count)
          remaining = response.remainingBytes
        }
        guard remaining == 0 else {
          throw EtcdError(
            code: .invalidResponse,
            status: GRPCStatus(
              code: .internal,
              message: remaining.map { "the snapshot stream ended with \($0) bytes still to come" }
                ?? "the snapshot stream ended without data"
            )
          )
        }
        try file.commit()
        return written
      } catch {
        file.discard()
        throw error
      }
    }
  }
}

/// The file a snapshot is written to: `path.part` while it downloads, renamed to `path` once
/// complete.
///
/// Used by one task only, so it needs no lock.
private final class SnapshotFile {
  private let path: String
  private let partPath: String
  /// The open file; nil once closed, so that it is never closed twice.
  private var descriptor: Int32?

  /// Creates (or truncates) `path.part`, readable by the owner only: a snapshot holds every key and
  /// value.
  init(path: String) throws(EtcdError) {
    self.path = path
    self.partPath = path + ".part"
    let descriptor = open(partPath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
    guard descriptor >= 0 else { throw Self.error("create", partPath, errno) }
    self.descriptor = descriptor
  }

  deinit {
    // Only a file still open is a partial one: after `commit()` the descriptor is nil.
    if descriptor != nil { discard() }
  }

  /// Writes all of `data`.
  func write(_ data: Data) throws(EtcdError) {
    guard let descriptor else { throw Self.error("write", partPath, EBADF) }
    let failure: Int32? = data.withUnsafeBytes { buffer in
      guard let base = buffer.baseAddress else { return nil }
      var offset = 0
      while offset < buffer.count {
        let count = systemWrite(descriptor, base + offset, buffer.count - offset)
        if count < 0 {
          if errno == EINTR { continue }
          return errno
        }
        offset += count
      }
      return nil
    }
    if let failure { throw Self.error("write", partPath, failure) }
  }

  /// Syncs and closes the file and renames it to `path`. On failure the caller discards the file.
  func commit() throws(EtcdError) {
    guard let descriptor else { throw Self.error("sync", partPath, EBADF) }
    guard fsync(descriptor) == 0 else { throw Self.error("sync", partPath, errno) }
    self.descriptor = nil
    guard close(descriptor) == 0 else { throw Self.error("close", partPath, errno) }
    guard rename(partPath, path) == 0 else {
      throw Self.error("rename to \(path)", partPath, errno)
    }
  }

  /// Closes the file if it is open and deletes the partial file, if any is left.
  func discard() {
    if let descriptor {
      self.descriptor = nil
      close(descriptor)
    }
    unlink(partPath)
  }

  private static func error(_ operation: String, _ path: String, _ code: Int32) -> EtcdError {
    let cause = POSIXError(POSIXErrorCode(rawValue: code) ?? .EIO)
    return EtcdError(
      code: .rpcFailed,
      status: GRPCStatus(
        code: .internal,
        message: "snapshot: cannot \(operation) \(path): \(String(cString: strerror(code)))"
      ),
      cause: cause
    )
  }
}

/// POSIX `write(2)`, named apart from `SnapshotFile.write(_:)`.
private func systemWrite(_ descriptor: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Int {
  #if canImport(Glibc)
    Glibc.write(descriptor, buffer, count)
  #else
    Darwin.write(descriptor, buffer, count)
  #endif
}
