/// A transaction request: when every compare holds, the `success` operations run, otherwise the
/// `failure` ones, in order, within one revision.
///
/// The nested operations are puts, ranges and deletes (etcd also accepts nested transactions; the
/// model runs them the same way).
package struct KVTxn: Hashable, Sendable, Codable {
  /// The conditions, all of which must hold for `success` to run.
  package var compares: [KVCompare]
  /// The operations when every compare holds.
  package var success: [KVRequest]
  /// The operations when a compare fails.
  package var failure: [KVRequest]

  /// Creates a transaction from its compares and branches.
  package init(compares: [KVCompare], success: [KVRequest], failure: [KVRequest]) {
    self.compares = compares
    self.success = success
    self.failure = failure
  }
}
