import Testing

@testable import EtcdProcess

@Suite struct ChildProcessTests {
  @Test(
    arguments: [
      ("etcd", "/usr/local/bin:/usr/bin", ["/usr/bin/etcd"], "/usr/bin/etcd"),
      ("etcd", "/a:/b", ["/a/etcd", "/b/etcd"], "/a/etcd"),
      ("etcd", "/a::/b", ["/b/etcd"], "/b/etcd"),
      ("etcd", "/a:/b", [], nil),
      ("etcd", "", ["/etcd"], nil),
      ("/opt/etcd/etcd", "/usr/bin", ["/opt/etcd/etcd", "/usr/bin/etcd"], "/opt/etcd/etcd"),
      ("/opt/etcd/etcd", "/usr/bin", ["/usr/bin/etcd"], nil),
      ("bin/etcd", "/usr/bin", ["bin/etcd"], "bin/etcd"),
    ] as [(String, String, Set<String>, String?)])
  func findExecutable(_ name: String, _ searchPath: String, _ executables: Set<String>, _ expected: String?) {
    #expect(ChildProcess.findExecutable(name, searchPath: searchPath) { executables.contains($0) } == expected)
  }

  @Test(
    arguments: [
      ("4242 (etcd) S 1 4242 4242 0 -1 4194560", "S"),
      ("4242 (etcd) T 1 4242", "T"),
      ("17 (a) b (c)) R 1 17", "R"),
      ("17 (with space) Z 1", "Z"),
      ("17 etcd S", nil),
      ("17 (etcd)", nil),
    ] as [(String, Character?)])
  func processState(_ line: String, _ expected: Character?) {
    #expect(ChildProcess.state(statLine: line) == expected)
  }
}
