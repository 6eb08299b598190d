import Testing

@testable import PrometheusMetrics

@Suite("ConstantTime")
struct ConstantTimeTests {
  @Test(
    "compares byte strings",
    arguments: [
      ([], [], true),
      ([1, 2, 3], [1, 2, 3], true),
      ([1, 2, 3], [0, 2, 3], false),
      ([1, 2, 3], [1, 2, 4], false),
      ([1, 2, 3], [1, 2], false),
      ([], [0], false),
      ([0], [], false),
      // Equal bytes where both have them, lengths differing by 256.
      ([UInt8](repeating: 0, count: 256), [], false),
      ([UInt8](repeating: 7, count: 300), [UInt8](repeating: 7, count: 44), false),
    ] as [([UInt8], [UInt8], Bool)])
  func equal(lhs: [UInt8], rhs: [UInt8], expected: Bool) {
    #expect(ConstantTime.equal(lhs, rhs) == expected)
    #expect(ConstantTime.equal(rhs, lhs) == expected)
  }
}
