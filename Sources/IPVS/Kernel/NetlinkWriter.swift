import CNetlinkGenl

/// Encodes generic-netlink requests straight into one growing buffer, in the kernel's layout
/// (`<linux/netlink.h>`): a batch of thousands of requests costs a few allocations instead of two
/// libnl messages per request. libnl still owns the socket, sequence numbers and every reply.
struct NetlinkWriter {
    /// Zero-filled room, of which the first `count` bytes are written.
    private var storage: [UInt8]
    private(set) var count = 0
    private var messageStart = 0
    private var nests: [Int] = []
    /// Where each message begins, so the last can be told apart.
    private(set) var messageOffsets: [Int] = []

    init(capacity: Int = 512) {
        storage = [UInt8](repeating: 0, count: capacity)
    }

    /// What starts a generic-netlink request: `nlmsghdr` (type = the family) and `genlmsghdr`.
    struct Header {
        var family: UInt16
        var flags: UInt16
        var sequence: UInt32
        var port: UInt32
        var command: UInt8
        var version: UInt8
    }

    /// The bytes written so far.
    var bytes: [UInt8] { Array(storage[..<count]) }

    func withBytes<Result>(_ body: (UnsafeRawBufferPointer) throws -> Result) rethrows -> Result {
        try storage.withUnsafeBytes { try body(UnsafeRawBufferPointer(rebasing: $0[..<count])) }
    }

    mutating func beginMessage(_ header: Header) {
        messageStart = count
        messageOffsets.append(messageStart)
        append(UInt32(0))  // nlmsg_len, set by endMessage
        append(header.family)
        append(header.flags | UInt16(NLM_F_REQUEST))
        append(header.sequence)
        append(header.port)
        append(header.command)
        append(header.version)
        append(UInt16(0))
    }

    mutating func endMessage() {
        store(UInt32(count - messageStart), at: messageStart)
        pad()
    }

    /// Adds a flag to a message already written (nlmsg_flags follows the 4-byte length and 2-byte type).
    mutating func addFlag(_ flag: Int32, toMessageAt offset: Int) {
        let flags = storage.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: offset + 6, as: UInt16.self) }
        store(flags | UInt16(flag), at: offset + 6)
    }

    mutating func beginNest(_ type: Int32) {
        nests.append(count)
        append(UInt16(0))
        append(UInt16(type))
    }

    mutating func endNest() {
        guard let start = nests.popLast() else { return }
        store(UInt16(count - start), at: start)
    }

    mutating func put(_ type: Int32, u16 value: UInt16) {
        attributeHeader(type, length: 2)
        append(value)
        pad()
    }

    mutating func put(_ type: Int32, u32 value: UInt32) {
        attributeHeader(type, length: 4)
        append(value)
    }

    /// A NUL-terminated string attribute.
    mutating func put(_ type: Int32, string: String) {
        let utf8 = string.utf8
        attributeHeader(type, length: utf8.count + 1)
        reserve(utf8.count + 1)
        for byte in utf8 {
            storage[count] = byte
            count += 1
        }
        storage[count] = 0
        count += 1
        pad()
    }

    mutating func put(_ type: Int32, raw: UnsafeRawBufferPointer) {
        attributeHeader(type, length: raw.count)
        reserve(raw.count)
        storage.withUnsafeMutableBytes { target in
            UnsafeMutableRawBufferPointer(rebasing: target[count..<count + raw.count]).copyMemory(from: raw)
        }
        count += raw.count
        pad()
    }

    private mutating func attributeHeader(_ type: Int32, length: Int) {
        append(UInt16(4 + length))
        append(UInt16(type))
    }

    /// The kernel wants every message and attribute to start on a 4-byte boundary; the padding is
    /// already zero.
    private mutating func pad() {
        let padded = (count + 3) & ~3
        reserve(padded - count)
        count = padded
    }

    private mutating func reserve(_ extra: Int) {
        guard count + extra > storage.count else { return }
        storage.append(contentsOf: repeatElement(0, count: max(extra, storage.count)))
    }

    // Netlink headers and attributes are in host byte order.
    private mutating func append<Value: FixedWidthInteger>(_ value: Value) {
        reserve(MemoryLayout<Value>.size)
        store(value, at: count)
        count += MemoryLayout<Value>.size
    }

    private mutating func store<Value: FixedWidthInteger>(_ value: Value, at offset: Int) {
        storage.withUnsafeMutableBytes { $0.storeBytes(of: value, toByteOffset: offset, as: Value.self) }
    }
}
