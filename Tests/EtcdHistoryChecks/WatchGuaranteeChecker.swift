/// Checks a watcher's stream against a ``RevisionLog`` and etcd's watch guarantees: ordered by
/// revision, no duplicates, atomic (a revision's events in one response, in the log's order),
/// reliable (no event in range missing between the start revision and the last revision the watcher
/// saw), valid (events equal the log's), and bookmarkable (a progress notification is never behind
/// the events delivered).
///
/// Resumability is the same check: a watcher resumed from a delivered revision + 1 is a watcher
/// with that start revision.
package struct WatchGuaranteeChecker {
  /// What happened at each revision.
  package var log: RevisionLog

  /// Creates a checker against `log`.
  package init(log: RevisionLog) {
    self.log = log
  }

  private struct EventIdentity: Hashable {
    var revision: Int64
    var key: String
  }

  /// The broken guarantees of `watcher`, empty when it keeps them all.
  ///
  /// - Parameters:
  ///   - watcher: the watcher's record.
  ///   - caughtUpThrough: a revision the caller knows the watcher had caught up with (for example
  ///     the log's last revision for an `open` watcher that was drained); events missing up to it
  ///     are gaps too. Without it, gaps are looked for up to the last revision the watcher saw (its
  ///     last event or progress notification).
  /// - Returns: the violations, the stream's in the order found, then contents, then the gap.
  package func check(_ watcher: WatcherRecord, caughtUpThrough: Int64? = nil)
    -> [WatchGuaranteeViolation]
  {
    let range = KeyRange(key: watcher.key, rangeEnd: watcher.rangeEnd)
    var violations: [WatchGuaranteeViolation] = []
    var seen: Set<EventIdentity> = []
    var lastEventRevision: Int64?
    var highestSeen = watcher.startRevision - 1
    var delivered: [Int64: [WatchEventRecord]] = [:]
    var responsesOfRevision: [Int64: [Int]] = [:]

    for (index, response) in watcher.responses.enumerated() {
      if response.isProgressNotification {
        if let last = lastEventRevision, response.headerRevision < last {
          violations.append(
            .progressBehind(headerRevision: response.headerRevision, lastEventRevision: last))
        }
        highestSeen = max(highestSeen, response.headerRevision)
      }
      for event in response.events {
        let revision = event.revision
        guard range.contains(event.kv.key) else {
          violations.append(.eventOutsideRange(revision: revision, key: event.kv.key))
          continue
        }
        guard seen.insert(EventIdentity(revision: revision, key: event.kv.key)).inserted else {
          violations.append(.duplicate(revision: revision, key: event.kv.key))
          continue
        }
        if let last = lastEventRevision, revision < last {
          violations.append(.unordered(revision: revision, after: last))
        } else {
          lastEventRevision = revision
        }
        highestSeen = max(highestSeen, revision)
        delivered[revision, default: []].append(event)
        if responsesOfRevision[revision]?.last != index {
          responsesOfRevision[revision, default: []].append(index)
        }
      }
    }

    for (revision, responses) in responsesOfRevision.sorted(by: { $0.key < $1.key })
    where responses.count > 1 {
      violations.append(.splitRevision(revision: revision, responses: responses))
    }
    for (revision, events) in delivered.sorted(by: { $0.key < $1.key })
    where revision >= log.firstRevision {
      let expected =
        revision < watcher.startRevision || revision > log.lastRevision
        ? [] : log.events(at: revision, in: range)
      if events != expected {
        violations.append(
          .unexpectedEvent(revision: revision, delivered: events, expected: expected))
      }
    }

    var lowest = max(watcher.startRevision, log.firstRevision)
    if case .compacted(let compactRevision) = watcher.ending {
      lowest = max(lowest, compactRevision)
    }
    let highest = min(max(highestSeen, caughtUpThrough ?? highestSeen), log.lastRevision)
    let missing = log.events.keys.sorted().filter { revision in
      revision >= lowest && revision <= highest && delivered[revision] == nil
        && !log.events(at: revision, in: range).isEmpty
    }
    if !missing.isEmpty {
      violations.append(.gap(missingRevisions: missing))
    }
    return violations
  }
}
