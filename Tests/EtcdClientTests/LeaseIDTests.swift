import Testing

@testable import EtcdClient

@Suite("LeaseID")
struct LeaseIDTests {
  @Test("prints in hex as etcdctl does, and 0 on the wire is no lease")
  func wireAndDescription() {
    #expect(LeaseID(0x694d_8a1b_2c3d_4e5f).description == "694d8a1b2c3d4e5f")
    #expect("\(LeaseID(255))" == "ff")
    #expect(LeaseID(wire: 0) == nil)
    #expect(LeaseID(wire: 7) == LeaseID(7))
    let none: LeaseID? = nil
    #expect(none.wire == 0)
    #expect(Optional(LeaseID(42)).wire == 42)
    #expect(LeaseID(1) < LeaseID(2))
  }
}
