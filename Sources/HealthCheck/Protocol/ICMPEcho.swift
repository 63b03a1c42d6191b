/// ICMP and ICMPv6 echo requests of a PING_CHECK and the recognition of their replies. Pure.
public struct ICMPEcho: Sendable {
    public let identifier: UInt16
    public let sequence: UInt16
    public let isIPv6: Bool

    public init(identifier: UInt16, sequence: UInt16, isIPv6: Bool) {
        self.identifier = identifier
        self.sequence = sequence
        self.isIPv6 = isIPv6
    }

    /// Echo request with a payload of 16 bytes; the checksum is filled in for ICMPv4 (a kernel
    /// ping socket recomputes it, ICMPv6's is always the kernel's).
    public var request: [UInt8] {
        var packet: [UInt8] = [isIPv6 ? 128 : 8, 0, 0, 0,
                               UInt8(identifier >> 8), UInt8(identifier & 0xff), UInt8(sequence >> 8), UInt8(sequence & 0xff)]
        packet += Array("swiftkeepalived!".utf8)
        if !isIPv6 {
            let sum = Self.checksum(packet)
            packet[2] = UInt8(sum >> 8)
            packet[3] = UInt8(sum & 0xff)
        }
        return packet
    }

    /// The Internet checksum (RFC 1071).
    public static func checksum(_ bytes: [UInt8]) -> UInt16 {
        var sum: UInt32 = 0
        var index = 0
        while index + 1 < bytes.count {
            sum += UInt32(bytes[index]) << 8 | UInt32(bytes[index + 1])
            index += 2
        }
        if index < bytes.count { sum += UInt32(bytes[index]) << 8 }
        while sum >> 16 != 0 { sum = (sum & 0xffff) + (sum >> 16) }
        return ~UInt16(sum)
    }

    /// Whether `packet` is the reply to this request. `withIPHeader` for a raw IPv4 socket,
    /// whose reads start with the IP header; `anyIdentifier` for a kernel ping socket, which
    /// sets the identifier itself (and only hands this socket its own replies).
    public func isReply<Bytes: RandomAccessCollection>(_ packet: Bytes, withIPHeader: Bool, anyIdentifier: Bool) -> Bool
    where Bytes.Element == UInt8, Bytes.Index == Int {
        var start = packet.startIndex
        if withIPHeader {
            guard let first = packet.first, first >> 4 == 4 else { return false }
            start += Int(first & 0x0f) * 4
        }
        guard packet.endIndex - start >= 8 else { return false }
        let replyType: UInt8 = isIPv6 ? 129 : 0
        guard packet[start] == replyType, packet[start + 1] == 0 else { return false }
        let replyIdentifier = UInt16(packet[start + 4]) << 8 | UInt16(packet[start + 5])
        let replySequence = UInt16(packet[start + 6]) << 8 | UInt16(packet[start + 7])
        return replySequence == sequence && (anyIdentifier || replyIdentifier == identifier)
    }
}
