import KeepalivedConfig

/// The one query of a DNS_CHECK and the verdict on its answer. Pure, so unit-tested byte by byte.
public struct DNSQuery: Sendable {
    public let id: UInt16
    public let name: String
    public let type: DNSRecordType

    public init(id: UInt16, name: String, type: DNSRecordType) {
        self.id = id
        self.name = name
        self.type = type
    }

    /// A standard query with recursion desired, class IN.
    public var bytes: [UInt8] {
        var message: [UInt8] = [UInt8(id >> 8), UInt8(id & 0xff), 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]
        message += Self.encode(name)
        message += [UInt8(type.code >> 8), UInt8(type.code & 0xff), 0, 1]
        return message
    }

    static func encode(_ name: String) -> [UInt8] {
        var encoded: [UInt8] = []
        for label in name.split(separator: ".") {
            encoded.append(UInt8(label.utf8.count))
            encoded += label.utf8
        }
        encoded.append(0)
        return encoded
    }

    /// What is wrong with `reply` as the answer to this query: nil when it is a good answer (not
    /// truncated to nothing, same id, a response, no error code, the question echoed).
    /// `.unrelated` for a datagram that is not an answer to this query at all (wait on).
    public enum Verdict: Sendable, Equatable {
        case good
        case unrelated
        case bad(String)
    }

    public func verdict<Bytes: RandomAccessCollection>(of reply: Bytes) -> Verdict where Bytes.Element == UInt8, Bytes.Index == Int {
        let start = reply.startIndex
        guard reply.count >= 12 else { return .bad("reply of \(reply.count) bytes is shorter than a DNS header") }
        let replyID = UInt16(reply[start]) << 8 | UInt16(reply[start + 1])
        guard replyID == id else { return .unrelated }
        let flags = UInt16(reply[start + 2]) << 8 | UInt16(reply[start + 3])
        guard flags & 0x8000 != 0 else { return .bad("not a response (QR bit clear)") }
        let rcode = Int(flags & 0x000f)
        // keepalived's words, then the code's name.
        guard rcode == 0 else { return .bad("read error occurred. (rcode = \(rcode)) \(Self.rcodeName(rcode))") }
        let questions = Int(reply[start + 4]) << 8 | Int(reply[start + 5])
        guard questions == 1 else { return .bad("\(questions) questions in the reply instead of 1") }
        let question = Array(bytes[12...])
        guard reply.count >= 12 + question.count else { return .bad("reply ends inside the question") }
        for (offset, byte) in question.enumerated() {
            var got = reply[start + 12 + offset]
            var sent = byte
            // Names compare without regard to ASCII case (and some servers change it, RFC 4343).
            if (65...90).contains(got) { got += 32 }
            if (65...90).contains(sent) { sent += 32 }
            guard got == sent else { return .bad("the reply's question is not the one asked") }
        }
        return .good
    }

    static func rcodeName(_ code: Int) -> String {
        let names = [1: "FORMERR", 2: "SERVFAIL", 3: "NXDOMAIN", 4: "NOTIMP", 5: "REFUSED"]
        return names[code] ?? "unknown"
    }
}
