/// The conversation of an SMTP_CHECK: the server's banner (220), `HELO name` answered with 250,
/// then `QUIT`, whose answer (or the server's close) ends it: keepalived accepts any. Fed the bytes as they come; a reply may span several lines
/// (`250-…` then `250 …`) and several reads. Lines are bounded, so a hostile server cannot make
/// it hold more than one line. Pure.
public struct SMTPDialogue: Sendable {
    public enum Step: Sendable, Equatable {
        /// Wait for more bytes.
        case wait
        /// Send these bytes, then wait.
        case send([UInt8])
        /// The dialogue is over and passed.
        case passed
        case failed(String)
    }

    private enum Stage { case banner, helo, quit, done }

    /// RFC 5321 limits a reply line to 512 bytes; some servers' banners are longer.
    static let maximumLine = 1024

    private let heloName: String
    private var stage = Stage.banner
    private var line: [UInt8] = []

    public init(heloName: String) {
        self.heloName = heloName
    }

    public mutating func feed<Bytes: Sequence>(_ bytes: Bytes) -> Step where Bytes.Element == UInt8 {
        var outcome = Step.wait
        for byte in bytes {
            guard stage != .done else { break }
            if byte == UInt8(ascii: "\n") {
                let step = finishLine()
                switch step {
                case .wait: continue
                case .failed, .passed: return step
                case .send: outcome = step
                }
            } else {
                guard line.count < Self.maximumLine else { return fail("reply line longer than \(Self.maximumLine) bytes") }
                line.append(byte)
            }
        }
        return outcome
    }

    /// The server closed the connection: fine once QUIT was sent.
    public mutating func closed() -> Step {
        stage == .done || stage == .quit ? .passed : fail("connection closed by the server \(waitingFor)")
    }

    var waitingFor: String {
        switch stage {
        case .banner: return "before its 220 banner"
        case .helo: return "before answering HELO"
        case .quit, .done: return "after QUIT"
        }
    }

    private mutating func finishLine() -> Step {
        defer { line.removeAll(keepingCapacity: true) }
        if line.last == UInt8(ascii: "\r") { line.removeLast() }
        guard line.count >= 3, let code = Int(String(decoding: line.prefix(3), as: UTF8.self)) else {
            return fail("malformed reply line '\(printable)'")
        }
        // `250-` continues the reply; `250 ` (or a bare code) ends it.
        if line.count > 3 && line[3] == UInt8(ascii: "-") { return .wait }
        switch stage {
        case .banner:
            guard code == 220 else { return fail("bad banner '\(printable)' (expected 220)") }
            stage = .helo
            return .send(Array("HELO \(heloName)\r\n".utf8))
        case .helo:
            guard code == 250 else { return fail("HELO answered '\(printable)' (expected 250)") }
            stage = .quit
            return .send(Array("QUIT\r\n".utf8))
        case .quit:
            stage = .done
            return .passed
        case .done:
            return .wait
        }
    }

    private var printable: String {
        String(decoding: line.prefix(80).map { (32...126).contains($0) ? $0 : UInt8(ascii: "?") }, as: UTF8.self)
    }

    private mutating func fail(_ reason: String) -> Step {
        stage = .done
        return .failed(reason)
    }
}
