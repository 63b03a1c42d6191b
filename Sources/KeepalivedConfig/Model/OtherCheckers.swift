/// The record types a DNS_CHECK may ask for, with their numbers on the wire.
public enum DNSRecordType: String, Sendable, CaseIterable {
    case a = "A"
    case ns = "NS"
    case cname = "CNAME"
    case soa = "SOA"
    case mx = "MX"
    case txt = "TXT"
    case aaaa = "AAAA"

    public var code: UInt16 {
        switch self {
        case .a: return 1
        case .ns: return 2
        case .cname: return 5
        case .soa: return 6
        case .mx: return 15
        case .txt: return 16
        case .aaaa: return 28
        }
    }
}

/// `DNS_CHECK { type …  name … }`: one query over UDP; the server is up when it answers it.
public struct DNSCheck: Sendable, Hashable {
    public var type: DNSRecordType?
    public var name: String?

    public static let defaultType = DNSRecordType.soa
    public static let defaultName = "."

    public init() {}
}

/// Bytes a UDP_CHECK's reply must start with; a nibble written `X` matches anything.
public struct ReplyPattern: Sendable, Hashable {
    public var bytes: [UInt8]
    /// Per byte, the bits that must match (0xf0 for `7X`, 0x00 for `XX`).
    public var masks: [UInt8]

    public init(bytes: [UInt8], masks: [UInt8]) {
        self.bytes = bytes
        self.masks = masks
    }

    /// Whether `reply` starts with the pattern. As in keepalived, a reply shorter than the
    /// pattern is compared as far as it goes (min_reply_length is there to refuse it).
    public func matches<Bytes: Collection>(_ reply: Bytes) -> Bool where Bytes.Element == UInt8 {
        for (index, byte) in reply.prefix(bytes.count).enumerated() where byte & masks[index] != bytes[index] & masks[index] {
            return false
        }
        return true
    }

    /// keepalived's notation: hexadecimal digits, an even number of them, `X` for any nibble.
    public init?(hex: String) {
        var bytes: [UInt8] = []
        var masks: [UInt8] = []
        let digits = Array(hex.utf8)
        guard !digits.isEmpty, digits.count % 2 == 0 else { return nil }
        for pair in stride(from: 0, to: digits.count, by: 2) {
            var byte: UInt8 = 0
            var mask: UInt8 = 0
            for digit in digits[pair...pair + 1] {
                byte <<= 4
                mask <<= 4
                if digit == UInt8(ascii: "X") || digit == UInt8(ascii: "x") { continue }
                guard let value = LineTokenizer.hexValue(digit) else { return nil }
                byte |= UInt8(value)
                mask |= 0x0f
            }
            bytes.append(byte)
            masks.append(mask)
        }
        self.init(bytes: bytes, masks: masks)
    }

    public var description: String {
        zip(bytes, masks).map { byte, mask in
            let high = mask & 0xf0 == 0 ? "X" : String(byte >> 4, radix: 16)
            let low = mask & 0x0f == 0 ? "X" : String(byte & 0x0f, radix: 16)
            return high + low
        }.joined()
    }
}

/// `UDP_CHECK`: a datagram to the server; it is down on an ICMP error, and (with
/// `require_reply`) when no matching reply comes within connect_timeout.
public struct UDPCheck: Sendable, Hashable {
    public var payload: [UInt8]?
    public var requireReply = false
    public var replyPattern: ReplyPattern?
    public var minReplyLength: Int?
    public var maxReplyLength: Int?

    /// What keepalived sends when no payload is given: 32 bytes of "keepalived check - " repeated.
    public static let defaultPayload = Array(String(repeating: "keepalived check - ", count: 2).utf8.prefix(32))

    public init() {}
}

/// `SMTP_CHECK`: banner 220, `HELO helo_name`, 250, `QUIT`. The deprecated `host { }` blocks
/// become checkers of their own when the file is read, as keepalived makes them.
public struct SMTPCheck: Sendable, Hashable {
    public var heloName: String?

    /// keepalived's HELO name when none is given.
    public static let defaultHeloName = "smtpchecker.keepalived.org"

    public init() {}
}
