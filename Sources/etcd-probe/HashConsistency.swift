/// One member's answer to HashKV at a requested revision.
enum MemberHashResult: Sendable, Equatable {
  /// The member hashed `revision` (the revision asked for) above its `compactRevision`.
  case hashed(revision: Int64, compactRevision: Int64, hash: UInt32)
  /// The member cannot hash this revision yet or any more (compacted or future revision): retry at a
  /// fresh one.
  case revisionUnavailable
  /// The call failed (unreachable, timeout, ...); `reason` is a short snake_case label such as
  /// "unavailable".
  case failed(reason: String)
}

/// The verdict of one consistency check over every member's HashKV at one revision. Pure.
///
/// etcd's HashKV covers the history in (compact revision, revision], so two healthy members give
/// different hashes at the same revision while one has applied a compaction and the other has not.
/// As etcd's own corruption checker does, hashes are compared only between members that hashed the
/// same revision above the same compact revision.
///
/// The comparable group is the largest set of `.hashed` members sharing (revision, compactRevision).
/// Equal-sized groups are ranked by the higher compact revision, then the higher revision: those are
/// the members that have applied more of the cluster's history, the state the others converge to.
/// Only a group of two or more is compared; with a smaller one, every member that answered is not
/// comparable.
struct HashConsistency: Sendable, Equatable {
  /// The outcome of a check; the raw values are metric label values.
  enum Outcome: String, Sendable, CaseIterable {
    case agreed
    case mismatch
    case notComparable = "not_comparable"
    case error
  }

  /// Members whose hash equals the majority hash of the comparable group.
  let agreeing: Set<String>
  /// Members whose hash differs from the majority of members hashed at the same revision and compact
  /// revision: a confirmed divergence. With a tie (e.g. two members, two hashes; or 2 vs 2) every
  /// member of the comparable group is in here, since none can be trusted over the other.
  let disagreeing: Set<String>
  /// Members that answered but at another (revision, compactRevision) than the comparable group, or
  /// with `revisionUnavailable`; every member that answered when no group of two could be compared.
  let notComparable: Set<String>
  /// Members whose call failed.
  let failed: Set<String>
  /// The check's outcome, in precedence order: `mismatch` if any member disagrees; else `error` if
  /// any failed; else `notComparable` if any member is not comparable or fewer than two members could
  /// be compared; else `agreed`.
  let outcome: Outcome

  /// Whether asking again at a fresh revision may turn not-comparable members comparable: there is no
  /// mismatch, at least one member is not comparable (another compact revision, or
  /// `revisionUnavailable`), and at least two members answered at all (with fewer, no revision can
  /// make a pair, as in a one-member cluster).
  var shouldRetry: Bool {
    outcome != .mismatch && !notComparable.isEmpty && agreeing.count + notComparable.count >= 2
  }

  /// Judges every member's result, keyed by member name (endpoint).
  init(_ results: [String: MemberHashResult]) {
    struct GroupKey: Hashable {
      var revision: Int64
      var compactRevision: Int64
    }
    var groups: [GroupKey: [String: UInt32]] = [:]
    var notComparable: Set<String> = []
    var failed: Set<String> = []
    for (member, result) in results {
      switch result {
      case .hashed(let revision, let compactRevision, let hash):
        groups[GroupKey(revision: revision, compactRevision: compactRevision), default: [:]][member] =
          hash
      case .revisionUnavailable:
        notComparable.insert(member)
      case .failed:
        failed.insert(member)
      }
    }

    // Largest group first, then the higher compact revision, then the higher revision. Keys are
    // unique, so the choice does not depend on dictionary order.
    let comparable = groups.max { a, b in
      (a.value.count, a.key.compactRevision, a.key.revision)
        < (b.value.count, b.key.compactRevision, b.key.revision)
    }
    var agreeing: Set<String> = []
    var disagreeing: Set<String> = []
    for (key, hashes) in groups {
      guard key == comparable?.key, hashes.count >= 2 else {
        notComparable.formUnion(hashes.keys)
        continue
      }
      var counts: [UInt32: Int] = [:]
      for hash in hashes.values { counts[hash, default: 0] += 1 }
      let majority = counts.first { $0.value * 2 > hashes.count }?.key
      for (member, hash) in hashes {
        if hash == majority {
          agreeing.insert(member)
        } else {
          disagreeing.insert(member)
        }
      }
    }

    self.agreeing = agreeing
    self.disagreeing = disagreeing
    self.notComparable = notComparable
    self.failed = failed
    if !disagreeing.isEmpty {
      outcome = .mismatch
    } else if !failed.isEmpty {
      outcome = .error
    } else if !notComparable.isEmpty || agreeing.count < 2 {
      outcome = .notComparable
    } else {
      outcome = .agreed
    }
  }

  /// Runs a consistency check with bounded retries: `check` is called with the attempt number
  /// (0-based) and returns every member's result at a fresh revision; it is called again while the
  /// verdict's `shouldRetry` holds, fewer than `maxAttempts` attempts were made and the task is not
  /// cancelled. Returns the last verdict and the number of attempts made.
  ///
  /// `check` runs on the caller's actor (`isolation`), so an actor can pass a closure that uses its
  /// own state without making it `Sendable`.
  static func check(
    maxAttempts: Int,
    isolation: isolated (any Actor)? = #isolation,
    _ check: (Int) async -> [String: MemberHashResult]
  ) async -> (HashConsistency, attempts: Int) {
    precondition(maxAttempts >= 1, "maxAttempts must be at least 1")
    var verdict = HashConsistency(await check(0))
    var attempts = 1
    while verdict.shouldRetry, attempts < maxAttempts, !Task.isCancelled {
      verdict = HashConsistency(await check(attempts))
      attempts += 1
    }
    return (verdict, attempts: attempts)
  }
}
