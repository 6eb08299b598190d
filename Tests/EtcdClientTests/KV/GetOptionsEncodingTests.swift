import EtcdProto
import Testing

@testable import EtcdClient

@Suite("GetOptions on the wire")
struct GetOptionsEncodingTests {
  @Test("an unset bound is etcd's 0 (none); a set one is sent as given")
  func optionalBoundsEncode() {
    let defaults = Etcdserverpb_RangeRequest(key: Array("k".utf8), options: GetOptions())
    #expect(defaults.limit == 0)
    #expect(defaults.revision == 0)
    #expect(defaults.minModRevision == 0 && defaults.maxModRevision == 0)
    #expect(defaults.minCreateRevision == 0 && defaults.maxCreateRevision == 0)

    let bounded = Etcdserverpb_RangeRequest(
      key: Array("k".utf8),
      options: GetOptions(
        limit: 5, revision: 7, minModRevision: 2, maxModRevision: 6, minCreateRevision: 1,
        maxCreateRevision: 4))
    #expect(bounded.limit == 5)
    #expect(bounded.revision == 7)
    #expect(bounded.minModRevision == 2 && bounded.maxModRevision == 6)
    #expect(bounded.minCreateRevision == 1 && bounded.maxCreateRevision == 4)
  }
}
