/// What a `downgrade(_:version:)` call asks of the cluster (etcd 3.5 and later).
///
/// A downgrade lowers the cluster's version by one minor release, so that its members can then be
/// replaced one by one with binaries of that release: check the target with `.validate`, start
/// with `.enable`, and stop a downgrade in progress with `.cancel`.
public enum DowngradeAction: Sendable, Hashable, CaseIterable {
  /// Checks that the cluster could be downgraded to the version, changing nothing: the version
  /// must be the minor release just below the cluster's, and no downgrade may be in progress.
  case validate
  /// Validates the version, then starts downgrading the cluster to it.
  case enable
  /// Cancels the downgrade in progress; the version is not looked at.
  case cancel
}
