import Foundation
import Synchronization
import Testing

@testable import PrometheusMetrics
import LoopbackTestSupport

/// A real server on 127.0.0.1 under clients that cost it without asking anything of it: 1,000
/// slowloris or idle connections, oversized request heads, readers of a large response that read a
/// few bytes at a time. A well-behaved scraper, with a 1 s timeout, is answered throughout and at
/// once afterwards, and the server counts the connections it ended. Deadlines are configured short
/// so each test runs in seconds.
@Suite("MetricsServer under hostile load", .serialized)
struct MetricsServerHostileLoadTests {
  static let attackers = 1_000

  /// Starts a server with short deadlines, a `/status` page and `configure`'s changes.
  static func startServer(
    _ registry: MetricsRegistry = ExpositionFixtures.populatedRegistry(),
    configure: (inout MetricsServer.Configuration) -> Void = { _ in }
  ) throws -> (MetricsServer, Int) {
    var configuration = MetricsServer.Configuration(host: "127.0.0.1", port: 0)
    configuration.requestHeadTimeout = .milliseconds(1500)
    configuration.responseSendTimeout = .seconds(1)
    configuration.pages = [.init(path: "/status") { _ in .init(body: "fine\n") }]
    configure(&configuration)
    let server = MetricsServer(registry: registry, configuration: configuration)
    try server.start()
    return (server, try #require(server.port))
  }

  /// Scrapes `/metrics`, `/healthz` and `/status` in turn from 127.0.0.1 on a thread of its own,
  /// each with a 1 s timeout and accepting gzip as Prometheus does, until stopped; remembers every
  /// failure and how long each answered scrape took.
  final class Scraper: Sendable {
    let port: Int
    let answered = Atomic<Int>(0)
    let failures = Mutex<[String]>([])
    let durations = Mutex<[Duration]>([])
    private let stopping = Atomic<Bool>(false)
    private let finished = Atomic<Bool>(false)

    init(port: Int) {
      self.port = port
    }

    func start() {
      let thread = Thread { [self] in
        defer { finished.store(true, ordering: .releasing) }
        let paths = ["/metrics", "/healthz", "/status"]
        for index in 0..<100_000 where !stopping.load(ordering: .acquiring) {
          scrape(paths[index % paths.count])
          usleep(20_000)
        }
      }
      thread.stackSize = 1 << 20
      thread.start()
    }

    /// One scrape; a failure or wrong answer is remembered.
    func scrape(_ path: String) {
      do {
        let start = ContinuousClock.now
        let response = try LoopbackHTTP.request(
          port: port, path: path, headers: ["Accept-Encoding": "gzip"], timeoutSeconds: 1)
        if response.status == 200 {
          durations.withLock { $0.append(ContinuousClock.now - start) }
          answered.add(1, ordering: .relaxed)
        } else {
          failures.withLock { $0.append("\(path): \(response.status)") }
        }
      } catch {
        failures.withLock { $0.append("\(path): \(error)") }
      }
    }

    /// Stops scraping and waits (at most 5 s) for the thread.
    func stop() async throws {
      stopping.store(true, ordering: .releasing)
      for _ in 0..<100 where !finished.load(ordering: .acquiring) {
        try await Task.sleep(for: .milliseconds(50))
      }
    }

    /// Stops scraping; expects that every scrape was answered, and more than `minimum`. Prints the
    /// median and slowest answer.
    func stopExpectingAllAnswered(
      moreThan minimum: Int, sourceLocation: SourceLocation = #_sourceLocation
    ) async throws {
      try await stop()
      let durations = self.durations.withLock { $0.sorted() }
      if let slowest = durations.last {
        print(
          "\(sourceLocation.fileName):\(sourceLocation.line): \(durations.count) scrapes under attack, "
            + "median \(durations[durations.count / 2]), slowest \(slowest)")
      }
      let failures = self.failures.withLock { $0 }
      #expect(
        failures.isEmpty, "\(failures.count) failed: \(failures.prefix(5))",
        sourceLocation: sourceLocation)
      #expect(answered.load(ordering: .relaxed) > minimum, sourceLocation: sourceLocation)
    }
  }

  /// The value of `metrics_server_connections_closed_total{reason}` in a fresh scrape.
  static func closedCount(_ port: Int, _ reason: String) throws -> Int? {
    let text = try LoopbackHTTP.request(port: port, path: "/metrics", timeoutSeconds: 5).text
    let prefix = "metrics_server_connections_closed_total{reason=\"\(reason)\"} "
    let line = text.split(separator: "\n").first { $0.hasPrefix(prefix) }
    return line.flatMap { Int($0.dropFirst(prefix.count)) }
  }

  /// Waits (at most `seconds`) until the server closed every socket; returns how many it closed.
  static func awaitClosed(_ sockets: [LoopbackSocket], seconds: Int) -> Int {
    var open = sockets
    let deadline = ContinuousClock.now + .seconds(seconds)
    for _ in 0..<10_000 where !open.isEmpty && ContinuousClock.now < deadline {
      open.removeAll { $0.receive(limit: 4096, waitingMilliseconds: 0) == .closed }
      if !open.isEmpty { usleep(20_000) }
    }
    return sockets.count - open.count
  }

  @Test(
    "1,000 slowloris connections: scrapes are answered throughout and at once afterwards",
    arguments: [["127.0.0.1"], ["127.0.0.2", "127.0.0.3", "127.0.0.4"]])
  func slowloris(sources: [String]) async throws {
    let (server, port) = try Self.startServer()
    defer { server.stop() }
    let scraper = Scraper(port: port)

    // Each sends a request line and then a header line every 400 ms, never the end of the head.
    var sockets: [LoopbackSocket] = []
    for index in 0..<Self.attackers {
      let socket = try LoopbackSocket(port: port, from: sources[index % sources.count])
      socket.send("GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n")
      sockets.append(socket)
    }
    scraper.start()
    let attackStart = ContinuousClock.now
    for round in 0..<10 where ContinuousClock.now < attackStart + .seconds(3) {
      for socket in sockets { socket.send("X-Slow-\(round): 1\r\n") }
      usleep(400_000)
    }
    let closed = Self.awaitClosed(sockets, seconds: 3)
    try await scraper.stopExpectingAllAnswered(moreThan: 10)
    #expect(closed == Self.attackers)
    sockets.removeAll()
    // Afterwards: answered at once, and every slow connection was cut for its head.
    #expect(try Self.closedCount(port, "head_timeout") == Self.attackers)
    #expect(try LoopbackHTTP.request(port: port, path: "/healthz", timeoutSeconds: 1).status == 200)
  }

  @Test("1,000 idle connections: scrapes are answered, the idle ones cut at the head deadline")
  func idleConnections() async throws {
    let (server, port) = try Self.startServer()
    defer { server.stop() }
    let scraper = Scraper(port: port)
    var sockets: [LoopbackSocket] = []
    for _ in 0..<Self.attackers { sockets.append(try LoopbackSocket(port: port)) }
    scraper.start()
    let closed = Self.awaitClosed(sockets, seconds: 5)
    try await scraper.stopExpectingAllAnswered(moreThan: 10)
    #expect(closed == Self.attackers)
    #expect(try Self.closedCount(port, "head_timeout") == Self.attackers)
  }

  @Test("oversized request heads get 431 (414 for the request line) and do not hurt scrapes")
  func oversizedHeads() async throws {
    let (server, port) = try Self.startServer()
    defer { server.stop() }
    let scraper = Scraper(port: port)
    scraper.start()
    let big = String(repeating: "a", count: 40 * 1024)
    var statusLines: [String] = []
    for index in 0..<20 {
      let socket = try LoopbackSocket(port: port, from: "127.0.0.\(2 + index % 3)")
      socket.sendAll(Array("GET /metrics HTTP/1.1\r\nHost: x\r\nX-Big: \(big)\r\n\r\n".utf8))
      let (bytes, _) = socket.receiveUntilClosed(limit: 4096, waitingMilliseconds: 2000)
      statusLines.append(String(decoding: bytes.prefix(12), as: UTF8.self))
    }
    let longLine = try LoopbackSocket(port: port)
    longLine.sendAll(Array("GET /\(big) HTTP/1.1\r\nHost: x\r\n\r\n".utf8))
    let (lineAnswer, _) = longLine.receiveUntilClosed(limit: 4096, waitingMilliseconds: 2000)
    try await scraper.stopExpectingAllAnswered(moreThan: 0)

    #expect(statusLines == Array(repeating: "HTTP/1.1 431", count: 20))
    #expect(String(decoding: lineAnswer.prefix(12), as: UTF8.self) == "HTTP/1.1 414")
    #expect(try Self.closedCount(port, "head_too_large") == 20)
  }

  @Test("slow readers of a large response are cut at the send deadline and do not block scrapes")
  func slowReaders() async throws {
    // About 4 MB of text, more than the kernel buffers between server and a reader hold, in few
    // series with long labels, so a scrape renders quickly.
    let registry = ExpositionFixtures.populatedRegistry()
    let family = registry.makeCounterFamily(
      name: "hostile_load_series_total", help: "Many series.", labelNames: ["series"])
    let padding = String(repeating: "x", count: 400)
    for index in 0..<10_000 { family.labels("\(index)-\(padding)").increment() }
    // The readers' renders queue for the two server threads, and a head waiting for a thread is
    // still under its head deadline: a longer one keeps them from being cut for that.
    let (server, port) = try Self.startServer(registry) {
      $0.maxRequestsInFlight = 0
      $0.requestHeadTimeout = .seconds(10)
    }
    defer { server.stop() }

    let before = ContinuousClock.now
    let bodySize = try LoopbackHTTP.request(port: port, path: "/metrics").body.count
    print("slowReaders: a scrape of \(bodySize) bytes took \(ContinuousClock.now - before)")
    #expect(bodySize > 4_000_000)

    var readers: [LoopbackSocket] = []
    for _ in 0..<10 {
      let reader = try LoopbackSocket(port: port, from: "127.0.0.2", receiveBuffer: 4096)
      reader.send("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
      readers.append(reader)
    }
    // The responses are rendered when their first bytes arrive.
    var received = Array(repeating: 0, count: readers.count)
    for (index, reader) in readers.enumerated() {
      if case .bytes(let bytes) = reader.receive(limit: 16, waitingMilliseconds: 5000) {
        received[index] += bytes.count
      }
    }
    let scraper = Scraper(port: port)
    scraper.start()
    // 16 bytes per reader every 100 ms, past the 1 s send deadline.
    for _ in 0..<20 {
      for (index, reader) in readers.enumerated() {
        if case .bytes(let bytes) = reader.receive(limit: 16, waitingMilliseconds: 0) {
          received[index] += bytes.count
        }
      }
      usleep(100_000)
    }
    try await scraper.stopExpectingAllAnswered(moreThan: 10)
    // Then each reads what reached it: the server reset the connection before the whole response.
    var cut = 0
    for (index, reader) in readers.enumerated() {
      let (rest, closed) = reader.receiveUntilClosed(limit: 16 << 20, waitingMilliseconds: 3000)
      received[index] += rest.count
      if closed && received[index] < bodySize { cut += 1 }
    }

    #expect(cut == readers.count, "read \(received) of \(bodySize)")
    #expect(try Self.closedCount(port, "send_timeout") == readers.count)
    #expect(try Self.closedCount(port, "head_timeout") == 0)
  }

  @Test("connections past the per-address limit are closed at once; other addresses are served")
  func perAddressLimit() async throws {
    let (server, port) = try Self.startServer { $0.maxConnectionsPerAddress = 100 }
    defer { server.stop() }
    var sockets: [LoopbackSocket] = []
    for _ in 0..<300 { sockets.append(try LoopbackSocket(port: port, from: "127.0.0.2")) }
    // The 200 past the limit are reset while the first 100 wait for their head deadline.
    let refused = sockets.suffix(200)
    #expect(Self.awaitClosed(Array(refused), seconds: 1) == 200)
    #expect(sockets.prefix(100).allSatisfy { $0.receive(limit: 1, waitingMilliseconds: 0) == .nothing })
    let scrape = try LoopbackHTTP.request(port: port, path: "/healthz", timeoutSeconds: 1)
    #expect(scrape.status == 200)
    #expect(try Self.closedCount(port, "address_limit") == 200)
    #expect(try Self.closedCount(port, "head_timeout") == 0)
  }

  @Test("clients that send part of a head and hang up are closed at once, not at the head deadline")
  func hangUpMidHead() async throws {
    let (server, port) = try Self.startServer { $0.requestHeadTimeout = .seconds(30) }
    defer { server.stop() }
    var sockets: [LoopbackSocket] = []
    for _ in 0..<Self.attackers {
      let socket = try LoopbackSocket(port: port)
      socket.send("GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n")
      socket.finishSending()
      sockets.append(socket)
    }
    #expect(Self.awaitClosed(sockets, seconds: 5) == Self.attackers)
    #expect(try Self.closedCount(port, "head_timeout") == 0)
    // Those whose end of stream libmicrohttpd missed were closed by the sweeper.
    let sweptUp = try #require(try Self.closedCount(port, "incomplete_head"))
    #expect(sweptUp <= Self.attackers)
  }
}
