import EtcdClient

/// Which members the probe probes, from the cluster's member list: the client URL of every started member,
/// labelled `host:port`, learners marked as such. Pure.
///
/// A member added to the cluster is probed from the first member list that shows its client URLs; a removed
/// member is no longer probed (and its series go with it); a promoted learner is probed as a voter. A member
/// list with no usable member changes nothing: the probe never drops every target on one odd answer.
enum MemberDiscovery {
  /// A member the probe should probe.
  struct Target: Sendable, Equatable {
    /// The `endpoint` label: the client URL's `host:port`.
    var name: String
    /// The endpoint to connect to: the member's first client URL, with its scheme.
    var endpoint: String
    /// Whether the member is a learner.
    var isLearner: Bool
  }

  /// What to change in the probed set.
  struct Plan: Sendable, Equatable {
    /// Members to start probing.
    var add: [Target] = []
    /// Labels of targets to stop probing.
    var remove: [String] = []
    /// Targets whose learner flag changed (promotion), by label.
    var learner: [String: Bool] = [:]

    /// Whether the plan changes nothing.
    var isEmpty: Bool { add.isEmpty && remove.isEmpty && learner.isEmpty }
  }

  /// The targets the member list describes, in member-list order; members that have not started (no client
  /// URL yet) and URLs that do not parse are left out.
  static func targets(of members: [Member]) -> [Target] {
    var seen: Set<String> = []
    return members.compactMap { member in
      for url in member.clientURLs {
        guard let name = EndpointLabel.of(url), seen.insert(name).inserted else { continue }
        return Target(name: name, endpoint: url, isLearner: member.isLearner)
      }
      return nil
    }
  }

  /// The changes that turn the probed set `current` (label → learner flag) into the member list's.
  static func plan(current: [String: Bool], members: [Member]) -> Plan {
    let wanted = targets(of: members)
    guard !wanted.isEmpty else { return Plan() }
    var plan = Plan()
    let wantedNames = Set(wanted.map(\.name))
    plan.remove = current.keys.filter { !wantedNames.contains($0) }.sorted()
    for target in wanted {
      if let learner = current[target.name] {
        if learner != target.isLearner { plan.learner[target.name] = target.isLearner }
      } else {
        plan.add.append(target)
      }
    }
    return plan
  }
}
