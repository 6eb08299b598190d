import EtcdClient

// What README.md's examples use without defining: a client made elsewhere, the keys of a loop, and the
// application's own work. Only the types matter here; nothing in this target runs.

/// The client an example talks through.
let client = try! EtcdClient(configuration: .init(endpoints: ["127.0.0.1:2379"]))

/// The keys an example writes.
let keys = ["a", "b"]

/// The application's work done under a lock.
func reindex() async throws {}

/// The application's work done while a lease lives.
func serve() async throws {}
