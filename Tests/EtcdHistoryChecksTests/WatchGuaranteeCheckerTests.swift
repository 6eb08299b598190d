import EtcdHistoryChecks
import Testing

private let a2 = putEvent(record("a", "1", create: 2, mod: 2, version: 1))
private let b3 = putEvent(record("b", "1", create: 3, mod: 3, version: 1))
private let deleteA3 = WatchEventRecord.deletion(of: "a", at: 3)
private let c4 = putEvent(record("c", "1", create: 4, mod: 4, version: 1))
private let a5 = putEvent(record("a", "2", create: 5, mod: 5, version: 1))

/// Watchers of `[a, c)` checked against a log of five revisions.
@Suite struct WatchGuaranteeCheckerTests {
  /// Revision 2 puts a, 3 is a txn putting b and deleting a, 4 puts c (outside the range), 5 puts
  /// a.
  let checker = WatchGuaranteeChecker(
    log: RevisionLog(
      events: [2: [a2], 3: [b3, deleteA3], 4: [c4], 5: [a5]], through: 5, from: 2))

  func watcher(
    from startRevision: Int64 = 2, _ responses: [[WatchEventRecord]],
    ending: WatcherRecord.Ending = .open
  ) -> WatcherRecord {
    WatcherRecord(
      key: "a", rangeEnd: "c", startRevision: startRevision,
      responses: responses.map {
        WatchResponseRecord(headerRevision: $0.last?.revision ?? 5, events: $0)
      },
      ending: ending)
  }

  @Test func cleanWatcherPasses() {
    var clean = watcher([[a2], [b3, deleteA3], [a5]])
    clean.responses.insert(
      WatchResponseRecord(headerRevision: 4, events: [], isProgressNotification: true), at: 2)
    #expect(checker.check(clean, caughtUpThrough: 5) == [])
  }

  @Test func unorderedEvents() {
    let violations = checker.check(watcher([[a2], [a5], [b3, deleteA3]]))
    #expect(violations.contains(.unordered(revision: 3, after: 5)))
  }

  @Test func duplicateEvent() {
    #expect(checker.check(watcher([[a2], [a2]])) == [.duplicate(revision: 2, key: "a")])
  }

  @Test func revisionSplitOverResponses() {
    #expect(
      checker.check(watcher([[a2], [b3], [deleteA3], [a5]])) == [
        .splitRevision(revision: 3, responses: [1, 2])
      ])
  }

  @Test func revisionsEventsInAnotherOrder() {
    #expect(
      checker.check(watcher([[a2], [deleteA3, b3]]))
        == [.unexpectedEvent(revision: 3, delivered: [deleteA3, b3], expected: [b3, deleteA3])])
  }

  @Test func missingRevision() {
    #expect(checker.check(watcher([[a2], [a5]])) == [.gap(missingRevisions: [3])])
  }

  @Test func missingTrailingRevisionOnlyWhenCaughtUp() {
    let stream = watcher([[a2], [b3, deleteA3]])
    #expect(checker.check(stream) == [])
    #expect(checker.check(stream, caughtUpThrough: 5) == [.gap(missingRevisions: [5])])
  }

  @Test func eventWithAnotherValue() {
    let wrong = putEvent(record("a", "x", create: 2, mod: 2, version: 1))
    #expect(
      checker.check(watcher([[wrong]])) == [
        .unexpectedEvent(revision: 2, delivered: [wrong], expected: [a2])
      ])
  }

  @Test func eventOutsideTheRange() {
    #expect(
      checker.check(watcher([[a2], [b3, deleteA3], [c4]])) == [
        .eventOutsideRange(revision: 4, key: "c")
      ])
  }

  @Test func progressNotificationBehindTheEvents() {
    var stream = watcher([[a2], [b3, deleteA3]])
    stream.responses.append(
      WatchResponseRecord(headerRevision: 2, events: [], isProgressNotification: true))
    #expect(checker.check(stream) == [.progressBehind(headerRevision: 2, lastEventRevision: 3)])
  }

  @Test func progressNotificationExtendsTheCheckedRevisions() {
    var stream = watcher([[a2]])
    stream.responses.append(
      WatchResponseRecord(headerRevision: 4, events: [], isProgressNotification: true))
    #expect(checker.check(stream) == [.gap(missingRevisions: [3])])
  }

  @Test func compactionEndingExcusesOnlyEarlierRevisions() {
    let compacted = watcher([], ending: .compacted(revision: 4))
    #expect(checker.check(compacted, caughtUpThrough: 5) == [.gap(missingRevisions: [5])])
    #expect(checker.check(watcher([]), caughtUpThrough: 5) == [.gap(missingRevisions: [2, 3, 5])])
  }

  @Test func resumedWatcherIsCheckedFromItsStartRevision() {
    #expect(checker.check(watcher(from: 4, [[a5]]), caughtUpThrough: 5) == [])
    #expect(
      checker.check(watcher(from: 4, [[b3, deleteA3], [a5]]))
        == [.unexpectedEvent(revision: 3, delivered: [b3, deleteA3], expected: [])])
  }

  @Test func eventsBeforeTheLogAreNotChecked() {
    let early = putEvent(record("a", "0", create: 1, mod: 1, version: 1))
    #expect(checker.check(watcher(from: 1, [[early], [a2]])) == [])
  }
}
