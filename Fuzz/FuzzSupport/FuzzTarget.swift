#if FUZZING
  import CLibFuzzer
#endif
#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// One fuzz entry point: a harness that takes arbitrary bytes, drives pure code with them and
/// checks invariants with ``fuzzCheck(_:_:file:line:)``.
///
/// A target is `@main enum FuzzX: FuzzTarget`. Built by `scripts/fuzz.sh` (with
/// `-sanitize=fuzzer -D FUZZING`) its `main` is libFuzzer's driver and takes libFuzzer's flags;
/// built by a plain `swift build` it replays the files and folders it is given (a corpus, a crash
/// file) through the same harness, and `--write-seeds DIR` writes ``seeds``.
public protocol FuzzTarget {
  /// Runs one input; traps (through ``fuzzCheck(_:_:file:line:)``) when an invariant breaks.
  static func run(_ input: UnsafeRawBufferPointer)
  /// Hand-made inputs that reach the interesting states, named for their file in the corpus.
  static var seeds: [(name: String, bytes: [UInt8])] { get }
}

extension FuzzTarget {
  public static func main() {
    FuzzDriver.harness = run
    #if FUZZING
      var argc = CommandLine.argc
      var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
      exit(LLVMFuzzerRunDriver(&argc, &argv, fuzzOneInput))
    #else
      exit(FuzzDriver.replay(arguments: Array(CommandLine.arguments.dropFirst()), seeds: seeds))
    #endif
  }
}

/// Traps with `message` when `condition` is false, in every build configuration (unlike
/// `assert`), so libFuzzer records the input as a crash.
public func fuzzCheck(
  _ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String,
  file: StaticString = #fileID, line: UInt = #line
) {
  if !condition() { fatalError("invariant broken: \(message())", file: file, line: line) }
}

/// libFuzzer's callback. Also exported under the name libFuzzer's own `main` (linked by
/// `-sanitize=fuzzer`) refers to; SwiftPM points `main` at the target's `@main` instead.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
  FuzzDriver.harness?(UnsafeRawBufferPointer(start: data, count: size))
  return 0
}

enum FuzzDriver {
  /// The running target's harness; set once in `main`, before any input runs.
  nonisolated(unsafe) static var harness: ((UnsafeRawBufferPointer) -> Void)?

  /// Runs every file named, and every file in every folder named; writes seeds when asked.
  static func replay(arguments: [String], seeds: [(name: String, bytes: [UInt8])]) -> Int32 {
    if arguments.count == 2, arguments[0] == "--write-seeds" {
      for seed in seeds {
        guard writeFile(arguments[1] + "/" + seed.name, seed.bytes) else {
          print("cannot write \(arguments[1])/\(seed.name)")
          return 1
        }
      }
      print("wrote \(seeds.count) seeds to \(arguments[1])")
      return 0
    }
    guard !arguments.isEmpty, !arguments.contains(where: { $0.hasPrefix("-") }) else {
      print(
        """
        usage: \(CommandLine.arguments[0]) FILE_OR_DIR... | --write-seeds DIR
        This build replays inputs; scripts/fuzz.sh builds the libFuzzer one.
        """)
      return 2
    }
    var count = 0
    for argument in arguments {
      for path in files(at: argument) {
        guard let bytes = readFile(path) else {
          print("cannot read \(path)")
          return 1
        }
        bytes.withUnsafeBytes { harness?($0) }
        count += 1
      }
    }
    print("replayed \(count) inputs: no invariant broken")
    return 0
  }

  /// The path itself, or the regular files directly inside it when it is a folder.
  private static func files(at path: String) -> [String] {
    guard let directory = opendir(path) else { return [path] }
    defer { closedir(directory) }
    var names: [String] = []
    while let entry = readdir(directory) {
      let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
        String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
      }
      if !name.hasPrefix(".") { names.append(path + "/" + name) }
    }
    return names.sorted()
  }

  private static func readFile(_ path: String) -> [UInt8]? {
    guard let file = fopen(path, "rb") else { return nil }
    defer { fclose(file) }
    var bytes: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 65_536)
    while true {
      let read = fread(&buffer, 1, buffer.count, file)
      if read > 0 { bytes.append(contentsOf: buffer[0..<read]) }
      if read < buffer.count { return ferror(file) == 0 ? bytes : nil }
    }
  }

  private static func writeFile(_ path: String, _ bytes: [UInt8]) -> Bool {
    guard let file = fopen(path, "wb") else { return false }
    defer { fclose(file) }
    return fwrite(bytes, 1, bytes.count, file) == bytes.count
  }
}
