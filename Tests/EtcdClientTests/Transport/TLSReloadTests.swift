import Foundation
import Testing

@testable import EtcdClient

#if canImport(Glibc)
  import Glibc
#endif

/// The pure decision of when to look at the TLS files and when to load them.
@Suite("TLSReloadSchedule")
struct TLSReloadScheduleTests {
  static let second: Int64 = 1_000_000_000

  static func stamp(_ inode: UInt64, size: Int64 = 100, modified: Int64 = 1) -> TLSFileStamp {
    TLSFileStamp(device: 1, inode: inode, size: size, modified: modified, changed: modified)
  }

  static let loaded: [TLSFileStamp?] = [stamp(1), stamp(2), stamp(3)]

  /// One step: a look at `now` with `stamps`, then the outcome of the load if there is one.
  struct Step: Sendable, CustomTestStringConvertible {
    var name: String
    var trigger: TLSReloadSchedule.Trigger
    var now: Int64
    var stamps: [TLSFileStamp?]
    /// Whether the load that the look calls for succeeds; ignored when none is expected.
    var loadSucceeds: Bool = true
    var due: Bool
    var action: TLSReloadSchedule.Action?
    var testDescription: String { name }
  }

  static let s = second

  /// A named sequence of looks.
  struct Scenario: Sendable, CustomTestStringConvertible {
    var name: String
    var steps: [Step]
    var testDescription: String { name }
    init(_ name: String, _ steps: [Step]) {
      self.name = name
      self.steps = steps
    }
  }

  /// A table of scenarios, each a sequence of looks from a schedule made at 0 with `loaded` and a 30 s
  /// interval.
  static let scenarios: [Scenario] = [
    Scenario(
      "unchanged files are never loaded",
      [
        Step(name: "connection", trigger: .newConnection, now: 1, stamps: loaded, due: true, action: .keep),
        Step(name: "read too soon", trigger: .stateRead, now: 29 * s, stamps: loaded, due: false, action: nil),
        Step(name: "read when due", trigger: .stateRead, now: 31 * s, stamps: loaded, due: true, action: .keep),
        Step(name: "read again too soon", trigger: .stateRead, now: 40 * s, stamps: loaded, due: false, action: nil),
        Step(name: "connection right after", trigger: .newConnection, now: 41 * s, stamps: loaded, due: true,
             action: .keep),
      ]
    ),
    Scenario(
      "any stamp field that moves means a load",
      [
        Step(name: "size", trigger: .newConnection, now: 1, stamps: [stamp(1, size: 101), stamp(2), stamp(3)],
             due: true, action: .load),
        Step(name: "same again", trigger: .newConnection, now: 2,
             stamps: [stamp(1, size: 101), stamp(2), stamp(3)], due: true, action: .keep),
        Step(name: "mtime", trigger: .newConnection, now: 3,
             stamps: [stamp(1, size: 101), stamp(2, modified: 9), stamp(3)], due: true, action: .load),
        Step(name: "inode (renamed over)", trigger: .newConnection, now: 4,
             stamps: [stamp(1, size: 101), stamp(2, modified: 9), stamp(30)], due: true, action: .load),
      ]
    ),
    Scenario(
      "a failed load is tried again at every look until one succeeds",
      [
        Step(name: "certificate written, key not yet", trigger: .newConnection, now: 1,
             stamps: [stamp(1), stamp(20), stamp(3)], loadSucceeds: false, due: true, action: .load),
        Step(name: "nothing moved, tried again", trigger: .newConnection, now: 2,
             stamps: [stamp(1), stamp(20), stamp(3)], loadSucceeds: false, due: true, action: .load),
        Step(name: "read not due yet", trigger: .stateRead, now: 10 * s,
             stamps: [stamp(1), stamp(20), stamp(3)], due: false, action: nil),
        Step(name: "key written", trigger: .stateRead, now: 31 * s,
             stamps: [stamp(1), stamp(20), stamp(30)], due: true, action: .load),
        Step(name: "settled", trigger: .newConnection, now: 32 * s,
             stamps: [stamp(1), stamp(20), stamp(30)], due: true, action: .keep),
      ]
    ),
    Scenario(
      "a file gone is a change (its load fails)",
      [
        Step(name: "key deleted", trigger: .newConnection, now: 1, stamps: [stamp(1), stamp(2), nil],
             loadSucceeds: false, due: true, action: .load),
        Step(name: "key back as before", trigger: .newConnection, now: 2, stamps: loaded, due: true,
             action: .load),
        Step(name: "settled", trigger: .newConnection, now: 3, stamps: loaded, due: true, action: .keep),
      ]
    ),
  ]

  @Test(arguments: scenarios)
  func scenario(_ scenario: Scenario) {
    let name = scenario.name
    var schedule = TLSReloadSchedule(checkInterval: 30 * Self.second, loadedStamps: Self.loaded, now: 0)
    for step in scenario.steps {
      let due = schedule.isCheckDue(step.trigger, now: step.now)
      #expect(due == step.due, "\(name): \(step.name)")
      guard due else { continue }
      let action = schedule.checked(stamps: step.stamps, now: step.now)
      #expect(action == step.action, "\(name): \(step.name)")
      guard action == .load else { continue }
      if step.loadSucceeds {
        schedule.loadSucceeded(stamps: step.stamps)
        #expect(!schedule.lastLoadFailed)
        #expect(schedule.loadedStamps == step.stamps)
      } else {
        let before = schedule.loadedStamps
        schedule.loadFailed()
        #expect(schedule.lastLoadFailed)
        #expect(schedule.loadedStamps == before, "a failure keeps the stamps of the files in use")
      }
    }
  }

  @Test func withoutAnIntervalOnlyNewConnectionsLook() {
    let schedule = TLSReloadSchedule(checkInterval: nil, loadedStamps: Self.loaded, now: 0)
    #expect(!schedule.isCheckDue(.stateRead, now: 1_000_000 * Self.second))
    #expect(schedule.isCheckDue(.newConnection, now: 1))
  }

  @Test func aZeroIntervalLooksAtEveryRead() {
    var schedule = TLSReloadSchedule(checkInterval: 0, loadedStamps: Self.loaded, now: 0)
    #expect(schedule.isCheckDue(.stateRead, now: 0))
    _ = schedule.checked(stamps: Self.loaded, now: 5)
    #expect(schedule.isCheckDue(.stateRead, now: 5))
  }
}

/// `stat` stamps of real files: what moves them and what does not.
@Suite("TLSFileStamp")
struct TLSFileStampTests {
  @Test func stampsFollowRewritesRenamesAndPermissionChanges() throws {
    try withTemporaryDirectory { directory in
      let path = directory + "/client.crt"
      #expect(TLSFileStamp.of(path) == nil)
      try "first".write(toFile: path, atomically: false, encoding: .utf8)
      let first = try #require(TLSFileStamp.of(path))
      #expect(TLSFileStamp.of(path) == first, "an untouched file keeps its stamp")
      #expect(first.size == 5)

      // Same size, in place: only the times move.
      usleep(10_000)
      try "other".write(toFile: path, atomically: false, encoding: .utf8)
      let rewritten = try #require(TLSFileStamp.of(path))
      #expect(rewritten != first)
      #expect(rewritten.inode == first.inode && rewritten.size == first.size)

      // Renamed over (an atomic writer, or Kubernetes' symlink swap): a new inode.
      try "third".write(toFile: directory + "/new", atomically: false, encoding: .utf8)
      #expect(rename(directory + "/new", path) == 0)
      let renamed = try #require(TLSFileStamp.of(path))
      #expect(renamed.inode != rewritten.inode)

      // chmod: only the status change time moves.
      usleep(10_000)
      #expect(chmod(path, 0o600) == 0)
      let chmodded = try #require(TLSFileStamp.of(path))
      #expect(chmodded != renamed)
      #expect(chmodded.modified == renamed.modified)

      // A symbolic link: the target's stamp.
      #expect(symlink(path, directory + "/link") == 0)
      #expect(TLSFileStamp.of(directory + "/link") == chmodded)
    }
  }
}

/// `TLSContextStore` on real PEM files (no sockets): reloads, failures, and the expiry it reports.
@Suite("TLSContextStore")
struct TLSContextStoreTests {
  /// A self-signed CA, valid until 2126-11-12T01:53:53Z.
  static let ca1 = """
    -----BEGIN CERTIFICATE-----
    MIIBlDCCATugAwIBAgIUbhakzXtWoDSrmMUOa3z9172uCzEwCgYIKoZIzj0EAwIw
    HzEdMBsGA1UEAwwUZXRjZC1zd2lmdCB1bml0IENBIDEwIBcNMjYxMjA2MDE1MzUz
    WhgPMjEyNjExMTIwMTUzNTNaMB8xHTAbBgNVBAMMFGV0Y2Qtc3dpZnQgdW5pdCBD
    QSAxMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEQsdJmmuNLqd0GVEkekVXwRw/
    zyOMopif6nYiuFkB6bDVxmy4ZiFs9gfwEY68ndwBrAaTD29wXig6ZjgX52VrW6NT
    MFEwHQYDVR0OBBYEFNjT+l258rEJHp4yALns8tHD1se0MB8GA1UdIwQYMBaAFNjT
    +l258rEJHp4yALns8tHD1se0MA8GA1UdEwEB/wQFMAMBAf8wCgYIKoZIzj0EAwID
    RwAwRAIgDBZlbuX8kk+I2dVZCB5zGDElOG6v/pRSmuZ4fO/9dOUCIFtWBl5pvC86
    Yqjn5YDHa4CUwBhzg2QXzNryjY9aUaKE
    -----END CERTIFICATE-----
    """
  static let ca1NotAfter = Date(timeIntervalSince1970: 4_950_122_033)
  /// Another self-signed CA, valid until 2127-02-20T01:53:53Z.
  static let ca2 = """
    -----BEGIN CERTIFICATE-----
    MIIBljCCATugAwIBAgIUTcVg8ph4sp1e6yZrd33RVlUveCkwCgYIKoZIzj0EAwIw
    HzEdMBsGA1UEAwwUZXRjZC1zd2lmdCB1bml0IENBIDIwIBcNMjYxMjA2MDE1MzUz
    WhgPMjEyNzAyMjAwMTUzNTNaMB8xHTAbBgNVBAMMFGV0Y2Qtc3dpZnQgdW5pdCBD
    QSAyMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEnHMbpbzoWca92Y1WEGnroJBR
    AowRiLPVGhgsFG9cS62OxABil+OuenaXpQ3l2y3Tf+9KOCkW3TUEvoM3ugItxaNT
    MFEwHQYDVR0OBBYEFBk7zQoYD5VmcF0qDbgekAnr/j7RMB8GA1UdIwQYMBaAFBk7
    zQoYD5VmcF0qDbgekAnr/j7RMA8GA1UdEwEB/wQFMAMBAf8wCgYIKoZIzj0EAwID
    SQAwRgIhAJJm///vdogq9e7nKrh4wS9lP8HDGUpbzyAhjCR1MTakAiEAydNxFRU0
    6+awqywnQWTqZt+IrnVvTRGpmG4hUy41KV8=
    -----END CERTIFICATE-----
    """
  static let ca2NotAfter = Date(timeIntervalSince1970: 4_958_762_033)
  /// A client certificate signed by `ca1`, valid until 2126-08-04T01:53:53Z, and its key.
  static let client = """
    -----BEGIN CERTIFICATE-----
    MIIBPTCB4wIUa8cMMuTEJBADWEICM/I1KV1cSW4wCgYIKoZIzj0EAwIwHzEdMBsG
    A1UEAwwUZXRjZC1zd2lmdCB1bml0IENBIDEwIBcNMjYxMjA2MDE1MzUzWhgPMjEy
    NjA4MDQwMTUzNTNaMCExHzAdBgNVBAMMFmV0Y2Qtc3dpZnQgdW5pdCBjbGllbnQw
    WTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAATTc1wsVqoGXmmaDFbyzW2LjFVJRE1K
    uHIEPdNCbVLKupKKKcuRiecZZ91M1AAQiY3scZVdUK/hFynM5/yTRNOWMAoGCCqG
    SM49BAMCA0kAMEYCIQDqupd4Ag4V/eMr0hY4mtlY38a9DIYQNfydxvb7dVy4EQIh
    ALvODiDBt4cbD1m+Ap1oJlsZOyCRHVM7E7ptJ0v2HL+X
    -----END CERTIFICATE-----
    """
  static let clientNotAfter = Date(timeIntervalSince1970: 4_941_482_033)
  static let clientKey = """
    -----BEGIN PRIVATE KEY-----
    MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgwQ2kddApZiqOYHad
    rI9BSII2VFK7hMcRRdWJbGX9+xOhRANCAATTc1wsVqoGXmmaDFbyzW2LjFVJRE1K
    uHIEPdNCbVLKupKKKcuRiecZZ91M1AAQiY3scZVdUK/hFynM5/yTRNOW
    -----END PRIVATE KEY-----
    """
  /// A key that is not `client`'s.
  static let otherKey = """
    -----BEGIN PRIVATE KEY-----
    MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgOvvt/gOfCHtupuMb
    GPBFmreRaRal5qsnPi+55qB5oIehRANCAAQ6VxMWDYHxso/Ve7bjPvxTabIHjfbK
    FWc7lRi7XXLLND8Uro3bDsLP1dVOcHX6kdP7YhGQ6gT0Ml+Ggqkng1nT
    -----END PRIVATE KEY-----
    """

  struct Files {
    let ca: String
    let certificate: String
    let key: String

    func write(_ text: String, to path: String) throws {
      // Written in place, as a careless rotation would: the test wants the stamps to move without a rename.
      try text.write(toFile: path, atomically: false, encoding: .utf8)
    }
  }

  static func configuration(_ files: Files, interval: Duration?) -> EtcdClient.Configuration.TLS {
    var tls = EtcdClient.Configuration.TLS.defaults
    tls.trustRoots = .file(files.ca)
    tls.clientCertificate = .files(certificateChain: files.certificate, privateKey: files.key)
    tls.reloadCheckInterval = interval
    return tls
  }

  static func withFiles(_ body: (Files) throws -> Void) throws {
    try withTemporaryDirectory { directory in
      let files = Files(
        ca: directory + "/ca.crt", certificate: directory + "/client.crt", key: directory + "/client.key")
      try files.write(ca1, to: files.ca)
      try files.write(client, to: files.certificate)
      try files.write(clientKey, to: files.key)
      try body(files)
    }
  }

  @Test func theFirstLoadReportsTheExpiryOfEachCertificate() throws {
    try Self.withFiles { files in
      let store = try TLSContextStore(configuration: Self.configuration(files, interval: .seconds(30)))
      let material = store.material()
      #expect(material.clientCertificateNotAfter == Self.clientNotAfter)
      #expect(material.trustRootsNotAfter == [Self.ca1NotAfter])
      let state = try #require(store.filesState())
      #expect(state.files == [files.ca, files.certificate, files.key])
      #expect(state.successfulLoads == 1 && state.failedLoads == 0 && !state.isFailing)
      #expect(state.lastError == nil && state.lastFailure == nil)
    }
  }

  @Test func changedFilesLoadAtTheNextLookAndUnchangedOnesAreNotRead() throws {
    try Self.withFiles { files in
      let store = try TLSContextStore(configuration: Self.configuration(files, interval: nil))
      let first = store.contextForNewConnection()
      #expect(store.contextForNewConnection() === first, "unchanged files give the same context")

      try files.write(Self.ca2 + "\n" + Self.ca1, to: files.ca)
      // No interval: a state read does not look; a new connection does.
      #expect(store.material().trustRootsNotAfter == [Self.ca1NotAfter])
      let second = store.contextForNewConnection()
      #expect(second !== first)
      #expect(store.material().trustRootsNotAfter == [Self.ca1NotAfter, Self.ca2NotAfter])
      #expect(store.filesState()?.successfulLoads == 2)
    }
  }

  @Test func aCertificateAndKeyWrittenInTwoStepsKeepTheOldContextInBetween() throws {
    try Self.withFiles { files in
      let store = try TLSContextStore(configuration: Self.configuration(files, interval: .zero))
      let good = store.contextForNewConnection()

      // The key first: it does not fit the certificate still on disk.
      try files.write(Self.otherKey, to: files.key)
      #expect(store.contextForNewConnection() === good)
      var state = try #require(store.filesState())
      #expect(state.isFailing)
      #expect(state.failedLoads == 2, "the connection's look and the read's look each tried")
      #expect(state.lastError?.contains("does the client private key belong to the client certificate?") == true,
              "\(state.lastError ?? "-")")
      #expect(state.lastFailure != nil)

      // Back to a key that fits: the next look loads.
      try files.write(Self.clientKey, to: files.key)
      state = try #require(store.filesState())
      #expect(!state.isFailing)
      #expect(state.successfulLoads == 2)
      #expect(state.lastError != nil, "the last error stays for the record")
      #expect(store.contextForNewConnection() !== good)
    }
  }

  @Test func brokenOrMissingFilesAreFailuresThatKeepTheLastGoodContext() throws {
    try Self.withFiles { files in
      let store = try TLSContextStore(configuration: Self.configuration(files, interval: .zero))
      var good = store.contextForNewConnection()
      let cases: [(String, () throws -> Void, String)] = [
        ("half-written certificate", { try files.write(String(Self.client.prefix(200)), to: files.certificate) },
         files.certificate),
        ("garbage key", { try files.write("not a key", to: files.key) }, files.key),
        ("deleted CA file", { try FileManager.default.removeItem(atPath: files.ca) }, files.ca),
      ]
      var failures = 0
      for (name, breakIt, file) in cases {
        try breakIt()
        #expect(store.contextForNewConnection() === good, "\(name)")
        failures += 1
        let state = try #require(store.filesState())
        failures += 1
        #expect(state.isFailing, "\(name)")
        #expect(state.failedLoads == failures, "\(name)")
        #expect(state.lastError?.contains(file) == true, "\(name): \(state.lastError ?? "-")")
        #expect(store.material().clientCertificateNotAfter == Self.clientNotAfter)
        failures += 1
        // Repair.
        try files.write(Self.ca1, to: files.ca)
        try files.write(Self.client, to: files.certificate)
        try files.write(Self.clientKey, to: files.key)
        #expect(store.filesState()?.isFailing == false, "\(name)")
        let repaired = store.contextForNewConnection()
        #expect(repaired !== good, "\(name): the repaired files make a new context")
        good = repaired
      }
    }
  }

  @Test func noFilesMeansNoFilesState() throws {
    var tls = EtcdClient.Configuration.TLS.defaults
    tls.trustRoots = .pem(Self.ca1)
    let store = try TLSContextStore(configuration: tls)
    #expect(store.filesState() == nil)
    #expect(store.material().trustRootsNotAfter == [Self.ca1NotAfter])
    #expect(store.material().clientCertificateNotAfter == nil)
  }
}

/// Runs `body` with a new temporary directory and removes it afterwards.
private func withTemporaryDirectory(_ body: (String) throws -> Void) throws {
  let directory = NSTemporaryDirectory() + "etcd-swift-tls-unit-\(UUID().uuidString.prefix(8))"
  try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
  defer { try? FileManager.default.removeItem(atPath: directory) }
  try body(directory)
}
