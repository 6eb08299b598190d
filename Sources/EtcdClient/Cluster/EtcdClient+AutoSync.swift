extension EtcdClient {
  /// Replaces the endpoints with the client URLs the cluster's members advertise (clientv3's `Sync`).
  ///
  /// Connections to endpoints that remain are kept; removed ones are closed before this returns, and their
  /// calls in flight end as on a lost connection (reads are retried on the remaining endpoints, watches and
  /// keep-alives resume there). A member list with no usable client URL leaves the endpoints as they are.
  /// - Throws: `EtcdError` from the member list call.
  public func syncEndpoints(timeout: Duration? = nil) async throws(EtcdError) {
    let members = try await memberList(timeout: timeout).members
    var parsed: [Endpoint] = []
    for url in members.filter({ !$0.isLearner }).flatMap(\.clientURLs) {
      if let endpoint = try? Endpoint(parsing: url),
        !parsed.contains(where: { $0.authority == endpoint.authority })
      {
        parsed.append(endpoint)
      }
    }
    guard !parsed.isEmpty else { return }
    for removed in endpoints.replace(with: parsed) {
      await removed.close()
    }
  }

  /// Starts the background task that calls `syncEndpoints` every `interval` until the client closes.
  func startAutoSync(every interval: Duration) {
    let task = Task { [weak self] in
      defer { self?.autoSyncFinished.store(true, ordering: .releasing) }
      while !Task.isCancelled {
        try? await Task.sleep(for: interval)
        guard let self, !Task.isCancelled else { return }
        try? await self.syncEndpoints()
      }
    }
    setAutoSyncTask(task)
  }
}
