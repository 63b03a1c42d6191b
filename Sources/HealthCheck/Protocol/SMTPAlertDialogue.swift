import DaemonCore

/// The client side of one alert's SMTP exchange, as keepalived holds it: banner 220, `HELO`
/// 250, `MAIL FROM` 250, one `RCPT TO` per recipient each 250, `DATA` 354, the message 250,
/// `QUIT` 221. A reply other than the one expected is logged in keepalived's words and the
/// exchange goes on with `QUIT`. Fed the server's bytes as they come; a reply may span
/// several lines (`250-…` then `250 …`) and reads; a line is bounded. Pure.
public struct SMTPAlertDialogue: Sendable {
    public enum Step: Sendable, Equatable {
        /// Wait for more bytes.
        case wait
        /// Send these bytes, then wait for the reply.
        case send([UInt8])
        /// The server took the message (keepalived logs this with detail); send QUIT.
        case delivered(then: [UInt8])
        /// Something went wrong (the line to log); send QUIT.
        case refused(String, then: [UInt8])
        /// The exchange is over.
        case finished
    }

    private enum Stage: Equatable {
        case banner, helo, mail, recipient(Int), data, body, quit, done

        var expected: Int {
            switch self {
            case .banner: return 220
            case .helo, .mail, .recipient, .body: return 250
            case .data: return 354
            case .quit, .done: return 221
            }
        }

        /// keepalived's name for the command a reply answers.
        var command: String {
            switch self {
            case .banner: return "(E)SMTP"
            case .helo: return "HELO"
            case .mail: return "MAIL"
            case .recipient: return "RCPT"
            case .data: return "DATA"
            case .body: return "BODY"
            case .quit, .done: return "QUIT"
            }
        }
    }

    /// keepalived reads replies into a 1024-byte buffer.
    static let maximumLine = 1024
    private static let quit = Array("QUIT\r\n".utf8)

    private let settings: MailSettings
    private let message: [UInt8]
    private var stage = Stage.banner
    private var line: [UInt8] = []

    /// `message` is the DATA part (`MailMessage.data`).
    public init(settings: MailSettings, message: String) {
        self.settings = settings
        self.message = Array(message.utf8)
    }

    /// Whether QUIT has been sent: the server may close now without anything being wrong.
    public var isQuitting: Bool { stage == .quit || stage == .done }

    public mutating func feed<Bytes: Sequence>(_ bytes: Bytes) -> Step where Bytes.Element == UInt8 {
        var outcome = Step.wait
        for byte in bytes {
            guard stage != .done else { break }
            if byte == UInt8(ascii: "\n") {
                let step = finishLine()
                if step != .wait { outcome = step }
                if step == .finished { return step }
            } else {
                guard line.count < Self.maximumLine else {
                    line.removeAll()
                    stage = .quit
                    return .refused("Received buffer from remote SMTP server \(settings.serverName) overflow our get read buffer length.",
                                    then: Self.quit)
                }
                line.append(byte)
            }
        }
        return outcome
    }

    private mutating func finishLine() -> Step {
        defer { line.removeAll(keepingCapacity: true) }
        if line.last == UInt8(ascii: "\r") { line.removeLast() }
        // `250-` continues the reply; `250 ` (or a bare code) ends it.
        if line.count > 3 && line[3] == UInt8(ascii: "-") { return .wait }
        let code = line.count >= 3 ? Int(String(decoding: line.prefix(3), as: UTF8.self)) ?? -1 : -1
        guard code == stage.expected else {
            let refused = "Error processing \(stage.command) cmd on SMTP server \(settings.serverName). SMTP status code = \(code)"
            if stage == .quit {
                stage = .done
                return .refused(refused, then: [])
            }
            stage = .quit
            return .refused(refused, then: Self.quit)
        }
        switch stage {
        case .banner:
            stage = .helo
            return .send(Array("HELO \(settings.heloName)\r\n".utf8))
        case .helo:
            stage = .mail
            return .send(Array("MAIL FROM:\(MailMessage.envelope(settings.from))\r\n".utf8))
        case .mail:
            return recipient(0)
        case .recipient(let index):
            if index + 1 < settings.recipients.count { return recipient(index + 1) }
            stage = .data
            return .send(Array("DATA\r\n".utf8))
        case .data:
            stage = .body
            return .send(message)
        case .body:
            stage = .quit
            return .delivered(then: Self.quit)
        case .quit, .done:
            stage = .done
            return .finished
        }
    }

    private mutating func recipient(_ index: Int) -> Step {
        stage = .recipient(index)
        return .send(Array("RCPT TO:\(MailMessage.envelope(settings.recipients[index]))\r\n".utf8))
    }
}
