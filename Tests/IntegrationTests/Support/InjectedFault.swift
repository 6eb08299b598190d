/// A fault a robustness scenario injects into a 3-member cluster in network namespaces while its clients work,
/// and heals before the history is checked. Each is aimed at the member that leads when it starts, but for
/// ``followerIsolatedFromPeers``.
enum InjectedFault: String, CaseIterable, Sendable, Codable, CustomStringConvertible {
  /// No fault: the baseline every other scenario is compared with.
  case none
  /// The leader's peer link goes down: the leader still reaches clients but not its peers, the others elect a
  /// new leader, and the old one rejoins later.
  case leaderIsolatedFromPeers
  /// A follower's peer link goes down: it still serves clients, who must not read stale data from it.
  case followerIsolatedFromPeers
  /// The link between the clients and the leader goes down: calls to it fail over to the other members.
  case clientCutFromLeader
  /// The leader's peer link goes down and up again, several times.
  case flappingLeaderPeerLink
  /// The leader is killed (SIGKILL), then restarted.
  case leaderKilled
  /// The proxy in front of the leader drops everything the leader answers: requests still arrive and are
  /// applied, their answers are lost (a one-way loss).
  case responsesLostFromLeader
  /// The proxy in front of the leader holds every chunk in both directions for a while.
  case leaderDelayed

  var description: String { rawValue }
}
