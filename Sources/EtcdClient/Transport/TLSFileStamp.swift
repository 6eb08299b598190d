#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// What `stat` says about a file, enough to tell that it changed without reading it: the device and inode
/// (a file replaced by a rename, or a symbolic link pointed elsewhere, as Kubernetes does for secrets), the size,
/// and the modification and status-change times in nanoseconds (a rewrite in place; the status-change time also
/// moves on `chmod`, which can make an unreadable file readable).
///
/// `stat` follows symbolic links, so the stamp is the target's.
struct TLSFileStamp: Sendable, Hashable {
  var device: UInt64
  var inode: UInt64
  var size: Int64
  /// Modification time, nanoseconds since the epoch.
  var modified: Int64
  /// Status change time, nanoseconds since the epoch.
  var changed: Int64

  /// The stamp of the file at `path`, or nil when `stat` fails (no such file, no permission on a directory).
  static func of(_ path: String) -> TLSFileStamp? {
    var info = stat()
    guard stat(path, &info) == 0 else { return nil }
    #if canImport(Darwin)
      let modified = info.st_mtimespec
      let changed = info.st_ctimespec
    #else
      let modified = info.st_mtim
      let changed = info.st_ctim
    #endif
    return TLSFileStamp(
      device: UInt64(info.st_dev),
      inode: UInt64(info.st_ino),
      size: Int64(info.st_size),
      modified: Int64(modified.tv_sec) &* 1_000_000_000 &+ Int64(modified.tv_nsec),
      changed: Int64(changed.tv_sec) &* 1_000_000_000 &+ Int64(changed.tv_nsec)
    )
  }
}
