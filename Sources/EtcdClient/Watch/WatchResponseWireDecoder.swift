/// Reads an `etcdserverpb.WatchResponse` straight from its protobuf wire bytes into the state machine's
/// `ServerResponse`.
///
/// It is the message a watch fan-out receives most (one per watcher per revision). SwiftProtobuf's decoder is
/// generic code outside this module, so it looks up generic metadata at run time for every nested message
/// (the header, each event and its key-values); that lookup costs more than the rest of the delivery path.
/// This reads the fields etcd sends (header, watch id, created, canceled, compact revision, cancel reason,
/// fragment, events) and skips unknown ones, as SwiftProtobuf does. It answers nil for anything it does not
/// read the way SwiftProtobuf would (malformed bytes, a known field with another wire type, a singular message
/// field repeated, groups, a cancel reason that is not UTF-8), and the caller then decodes with SwiftProtobuf,
/// which gives the same result or the error.
struct WatchResponseWireDecoder {
  private let bytes: UnsafeBufferPointer<UInt8>
  private var index = 0

  private init(_ bytes: UnsafeBufferPointer<UInt8>) {
    self.bytes = bytes
  }

  /// The response in `message`; nil when the message is left to SwiftProtobuf.
  static func decode(_ message: [UInt8]) -> WatchStreamStateMachine.ServerResponse? {
    message.withUnsafeBufferPointer { buffer in
      var decoder = WatchResponseWireDecoder(buffer)
      return decoder.watchResponse(end: buffer.count)
    }
  }

  private enum WireType: UInt64 {
    case varint = 0, fixed64 = 1, lengthDelimited = 2, fixed32 = 5
  }

  // MARK: - Messages

  private mutating func watchResponse(end: Int) -> WatchStreamStateMachine.ServerResponse? {
    var response = WatchStreamStateMachine.ServerResponse(
      header: ResponseHeader(clusterID: 0, memberID: 0, revision: 0, raftTerm: 0), watchID: 0)
    var sawHeader = false
    while index < end {
      guard let (field, wireType) = tag() else { return nil }
      switch (field, wireType) {
      case (1, .lengthDelimited):
        guard !sawHeader, let fieldEnd = length(end: end), let header = header(end: fieldEnd) else { return nil }
        sawHeader = true
        response.header = header
      case (2, .varint):
        guard let v = varint() else { return nil }
        response.watchID = Int64(bitPattern: v)
      case (3, .varint):
        guard let v = varint() else { return nil }
        response.created = v != 0
      case (4, .varint):
        guard let v = varint() else { return nil }
        response.canceled = v != 0
      case (5, .varint):
        guard let v = varint() else { return nil }
        response.compactRevision = Int64(bitPattern: v)
      case (6, .lengthDelimited):
        guard let fieldEnd = length(end: end),
          let reason = String(validating: bytes[index..<fieldEnd], as: UTF8.self)
        else { return nil }
        index = fieldEnd
        response.cancelReason = reason
      case (7, .varint):
        guard let v = varint() else { return nil }
        response.fragment = v != 0
      case (11, .lengthDelimited):
        guard let fieldEnd = length(end: end), let event = event(end: fieldEnd) else { return nil }
        response.events.append(event)
      case (1...7, _), (11, _):
        return nil
      default:
        guard skip(wireType, end: end) else { return nil }
      }
    }
    return index == end ? response : nil
  }

  private mutating func header(end: Int) -> ResponseHeader? {
    var header = ResponseHeader(clusterID: 0, memberID: 0, revision: 0, raftTerm: 0)
    while index < end {
      guard let (field, wireType) = tag() else { return nil }
      switch (field, wireType) {
      case (1...4, .varint):
        guard let v = varint() else { return nil }
        switch field {
        case 1: header.clusterID = v
        case 2: header.memberID = v
        case 3: header.revision = Int64(bitPattern: v)
        default: header.raftTerm = v
        }
      case (1...4, _):
        return nil
      default:
        guard skip(wireType, end: end) else { return nil }
      }
    }
    return index == end ? header : nil
  }

  private mutating func event(end: Int) -> WatchEvent? {
    var type = WatchEvent.EventType.put
    var kv: KeyValue?
    var prevKV: KeyValue?
    while index < end {
      guard let (field, wireType) = tag() else { return nil }
      switch (field, wireType) {
      case (1, .varint):
        // Any value other than DELETE (1) reads as a put, as the SwiftProtobuf path maps it.
        guard let v = varint() else { return nil }
        type = v == 1 ? .delete : .put
      case (2, .lengthDelimited):
        guard kv == nil, let fieldEnd = length(end: end), let value = keyValue(end: fieldEnd) else { return nil }
        kv = value
      case (3, .lengthDelimited):
        guard prevKV == nil, let fieldEnd = length(end: end), let value = keyValue(end: fieldEnd) else {
          return nil
        }
        prevKV = value
      case (1...3, _):
        return nil
      default:
        guard skip(wireType, end: end) else { return nil }
      }
    }
    guard index == end else { return nil }
    return WatchEvent(
      type: type,
      kv: kv ?? KeyValue(key: [], value: [], createRevision: 0, modRevision: 0, version: 0, lease: nil),
      prevKV: prevKV)
  }

  private mutating func keyValue(end: Int) -> KeyValue? {
    var kv = KeyValue(key: [], value: [], createRevision: 0, modRevision: 0, version: 0, lease: nil)
    while index < end {
      guard let (field, wireType) = tag() else { return nil }
      switch (field, wireType) {
      case (1, .lengthDelimited), (5, .lengthDelimited):
        guard let fieldEnd = length(end: end) else { return nil }
        let value = Array(bytes[index..<fieldEnd])
        index = fieldEnd
        if field == 1 { kv.key = value } else { kv.value = value }
      case (2...4, .varint), (6, .varint):
        guard let v = varint() else { return nil }
        let n = Int64(bitPattern: v)
        switch field {
        case 2: kv.createRevision = n
        case 3: kv.modRevision = n
        case 4: kv.version = n
        default: kv.lease = LeaseID(wire: n)
        }
      case (1...6, _):
        return nil
      default:
        guard skip(wireType, end: end) else { return nil }
      }
    }
    return index == end ? kv : nil
  }

  // MARK: - Wire format

  /// The next field's number and wire type; nil for field number 0, a group or an unknown wire type.
  private mutating func tag() -> (Int, WireType)? {
    guard let key = varint(), let wireType = WireType(rawValue: key & 7) else { return nil }
    let field = key >> 3
    guard field > 0, field <= 536_870_911 else { return nil }
    return (Int(field), wireType)
  }

  /// A base-128 varint of at most 10 bytes.
  private mutating func varint() -> UInt64? {
    var result: UInt64 = 0
    var shift: UInt64 = 0
    while index < bytes.count, shift < 64 {
      let byte = bytes[index]
      index += 1
      result |= UInt64(byte & 0x7f) << shift
      if byte < 0x80 { return result }
      shift += 7
    }
    return nil
  }

  /// Reads a length prefix; the end of the field it announces, nil when that passes `end`.
  private mutating func length(end: Int) -> Int? {
    guard let n = varint(), n <= UInt64(end - index) else { return nil }
    return index + Int(n)
  }

  /// Skips an unknown field's value.
  private mutating func skip(_ wireType: WireType, end: Int) -> Bool {
    switch wireType {
    case .varint:
      return varint() != nil
    case .fixed64, .fixed32:
      let size = wireType == .fixed64 ? 8 : 4
      guard end - index >= size else { return false }
      index += size
      return true
    case .lengthDelimited:
      guard let fieldEnd = length(end: end) else { return false }
      index = fieldEnd
      return true
    }
  }
}
