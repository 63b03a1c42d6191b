/// The keywords of DNS_CHECK, UDP_CHECK and SMTP_CHECK (PING_CHECK has only the shared ones).
extension CheckerDraft {
    static let dnsRules: [String: KeywordRule<CheckerDraft>] = [
        "type": .values(1, 1) { draft, statement, context in
            draft.dns.type = context.word(statement, as: DNSRecordType.self) ?? draft.dns.type
        },
        "name": .values(1, 1) { draft, statement, context in
            let name = statement.arguments[0]
            guard DNSName.isValid(name) else {
                context.error(statement.location, "DNS name '\(name)' is not a valid domain name (labels of 1-63 characters, 255 in all)")
                return
            }
            draft.dns.name = name
        },
    ]

    static let udpRules: [String: KeywordRule<CheckerDraft>] = [
        "payload": .values(1, 1) { draft, statement, context in
            guard let pattern = ReplyPattern(hex: statement.arguments[0]), pattern.masks.allSatisfy({ $0 == 0xff }) else {
                context.error(statement.location, "payload '\(statement.arguments[0])' must be an even number of hexadecimal digits")
                return
            }
            draft.udp.payload = pattern.bytes
        },
        "require_reply": .values(0, 1) { draft, statement, context in
            draft.udp.requireReply = true
            guard let text = statement.arguments.first else { return }
            guard let pattern = ReplyPattern(hex: text) else {
                context.error(statement.location, "require_reply '\(text)' must be an even number of hexadecimal digits, X for any digit")
                return
            }
            draft.udp.replyPattern = pattern
        },
        "min_reply_length": .values(1, 1) { draft, statement, context in
            draft.udp.minReplyLength = context.integer(statement, in: 0...65535) ?? draft.udp.minReplyLength
        },
        "max_reply_length": .values(1, 1) { draft, statement, context in
            draft.udp.maxReplyLength = context.integer(statement, in: 0...65535) ?? draft.udp.maxReplyLength
        },
    ]

    static let smtpRules: [String: KeywordRule<CheckerDraft>] = [
        "helo_name": .values(1, 1) { draft, statement, _ in draft.smtp.heloName = statement.arguments[0] },
        "host": .block { draft, statement, context in
            guard context.noArguments(statement) else { return }
            context.warning(statement.location, "The SMTP_CHECK host block is deprecated. Please define additional checkers.")
            var host = CheckerDraft(checker: HealthChecker(kind: .smtpCheck(SMTPCheck()), location: statement.location))
            context.parseBlock(opener: statement, into: &host, table: hostTable)
            draft.smtpHosts.append(host.checker)
        },
    ]

    /// A `host { }` takes what any connecting checker does.
    private static let hostTable = KeywordTable<CheckerDraft>("host", deprecated: CheckTiming.deprecatedSpellings, timingRules, generalRules, connectionRules)

    /// The checkers an SMTP_CHECK with `host { }` blocks stands for, keepalived's way: its own
    /// connection (the real server) when it sets any connection option or has no hosts, then
    /// one per host, each host's settings over the SMTP_CHECK's.
    static func expand(_ main: HealthChecker, hosts: [HealthChecker]) -> [HealthChecker] {
        guard !hosts.isEmpty else { return [main] }
        let ownConnection = main.connectIP != nil || main.connectPort != nil || main.bindTo != nil || main.bindPort != nil
            || main.bindInterface != nil || main.fwmark != nil || main.timing.connectTimeout != nil
        let derived = hosts.map { host in
            var checker = main
            checker.location = host.location
            checker.connectIP = host.connectIP ?? main.connectIP
            checker.connectPort = host.connectPort ?? main.connectPort
            checker.bindTo = host.bindTo ?? main.bindTo
            checker.bindPort = host.bindPort ?? main.bindPort
            checker.bindInterface = host.bindInterface ?? main.bindInterface
            checker.fwmark = host.fwmark ?? main.fwmark
            checker.alpha = host.alpha ?? main.alpha
            checker.logAllFailures = host.logAllFailures ?? main.logAllFailures
            checker.timing = host.timing.overriding(main.timing)
            return checker
        }
        return ownConnection ? [main] + derived : derived
    }
}

/// Domain names as a DNS query carries them.
public enum DNSName {
    /// Dot-separated labels of 1-63 bytes, 255 bytes in all; "." is the root.
    public static func isValid(_ name: String) -> Bool {
        if name == "." { return true }
        let trimmed = name.hasSuffix(".") ? String(name.dropLast()) : name
        guard !trimmed.isEmpty, trimmed.utf8.count <= 253 else { return false }
        return trimmed.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { (1...63).contains($0.utf8.count) }
    }
}

extension CheckerDraft {
    static let fileRules: [String: KeywordRule<CheckerDraft>] = [
        "track_file": .values(1, 1) { draft, statement, _ in draft.file.trackFile = statement.arguments[0] },
        "weight": .values(1, 2) { draft, statement, context in
            guard let weight = context.integer(statement, in: -65535...65535) else { return }
            draft.file.weight = weight
            guard statement.arguments.count == 2 else { return }
            switch statement.arguments[1] {
            case "reverse": draft.file.reverse = true
            case "noreverse": draft.file.reverse = false
            default: context.error(statement.location, "unknown weight option '\(statement.arguments[1])'; expected reverse or noreverse")
            }
        },
    ]
}

extension TrackFile {
    static let keywords = KeywordTable<TrackFile>("track_file", [
        "file": .values(1, 1) { file, statement, _ in file.path = statement.arguments[0] },
        "weight": .values(1, 2) { file, statement, context in
            guard let weight = context.integer(statement, in: -254...254) else { return }
            file.weight = weight
            guard statement.arguments.count == 2 else { return }
            guard statement.arguments[1] == "reverse" else {
                return context.error(statement.location, "unknown weight option '\(statement.arguments[1])'; expected reverse")
            }
            file.weightReverse = true
        },
        "init_file": .values(0, 2) { file, statement, context in
            file.initialValue = 0
            for word in statement.arguments {
                if word == "overwrite" {
                    file.overwrite = true
                } else if let value = Int(word), (-254...254).contains(value) {
                    file.initialValue = value
                } else {
                    context.error(statement.location, "init_file value '\(word)' must be a number in -254-254 (or 'overwrite')")
                }
            }
        },
    ])
}
