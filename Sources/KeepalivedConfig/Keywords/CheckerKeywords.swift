/// A checker block while it is being read: every kind's fields, narrowed to one kind at the end.
struct CheckerDraft: Sendable {
    var checker: HealthChecker
    var http = HTTPCheck()
    var misc = MiscCheck()
    var dns = DNSCheck()
    var udp = UDPCheck()
    var smtp = SMTPCheck()
    /// SMTP_CHECK's deprecated `host { }` blocks, as checkers.
    var smtpHosts: [HealthChecker] = []
    var file = FileCheck()

    enum Kind { case httpGet, sslGet, tcpCheck, miscCheck, dnsCheck, udpCheck, pingCheck, smtpCheck, fileCheck }

    static let connectionRules: [String: KeywordRule<CheckerDraft>] = [
        "connect_ip": .values(1, 1) { draft, statement, context in
            draft.checker.connectIP = context.address(statement) ?? draft.checker.connectIP
        },
        "connect_port": .values(1, 1) { draft, statement, context in
            draft.checker.connectPort = context.port(statement, at: 0, what: "connect_port") ?? draft.checker.connectPort
        },
        "bindto": .values(1, 1) { draft, statement, context in
            draft.checker.bindTo = context.address(statement) ?? draft.checker.bindTo
        },
        "bind_port": .values(1, 1) { draft, statement, context in
            draft.checker.bindPort = context.port(statement, at: 0, what: "bind_port") ?? draft.checker.bindPort
        },
        "bind_if": .values(1, 1) { draft, statement, _ in draft.checker.bindInterface = statement.arguments[0] },
        "fwmark": .values(1, 1) { draft, statement, context in
            guard let mark = context.integer(statement, in: 1...Int(UInt32.max)) else { return }
            draft.checker.fwmark = UInt32(mark)
        },
    ]

    static let timingRules = CheckTiming.rules(\CheckerDraft.checker.timing)

    static let generalRules: [String: KeywordRule<CheckerDraft>] = [
        "alpha": .values(0, 1) { draft, statement, context in draft.checker.alpha = context.boolean(statement) },
        "log_all_failures": .values(0, 1) { draft, statement, context in draft.checker.logAllFailures = context.boolean(statement) },
    ]

    static let httpRules: [String: KeywordRule<CheckerDraft>] = [
        "url": .block { draft, statement, context in
            guard context.noArguments(statement) else { return }
            var url = CheckedURL(location: statement.location)
            context.parseBlock(opener: statement, into: &url, table: CheckedURL.keywords)
            draft.http.urls.append(url)
        },
        "http_protocol": .values(1, 1) { draft, statement, context in
            draft.http.httpProtocol = context.word(statement, as: HTTPProtocolVersion.self) ?? draft.http.httpProtocol
        },
        "virtualhost": .values(1, 1) { draft, statement, _ in draft.http.virtualhost = statement.arguments[0] },
        "fast_recovery": .values(0, 1) { draft, statement, context in draft.http.fastRecovery = context.boolean(statement) },
        "tls_compliant": .values(0, 1) { draft, statement, context in draft.http.tlsCompliant = context.boolean(statement) },
    ]

    static func table(for kind: Kind) -> KeywordTable<CheckerDraft> {
        switch kind {
        case .httpGet: return httpGetTable
        case .sslGet: return sslGetTable
        case .tcpCheck: return tcpCheckTable
        case .miscCheck: return miscCheckTable
        case .dnsCheck: return dnsCheckTable
        case .udpCheck: return udpCheckTable
        case .pingCheck: return pingCheckTable
        case .smtpCheck: return smtpCheckTable
        case .fileCheck: return fileCheckTable
        }
    }

    private static let httpGetTable = tables[.httpGet]!
    private static let sslGetTable = tables[.sslGet]!
    private static let tcpCheckTable = tables[.tcpCheck]!
    private static let miscCheckTable = tables[.miscCheck]!
    private static let dnsCheckTable = tables[.dnsCheck]!
    private static let udpCheckTable = tables[.udpCheck]!
    private static let pingCheckTable = tables[.pingCheck]!
    private static let smtpCheckTable = tables[.smtpCheck]!
    private static let fileCheckTable = tables[.fileCheck]!

    private static let tables: [Kind: KeywordTable<CheckerDraft>] = {
        let sslRules: [String: KeywordRule<CheckerDraft>] = ["enable_sni": .flag { $0.http.enableSNI = true }]
        let miscRules: [String: KeywordRule<CheckerDraft>] = [
            "misc_path": .values(1, 3) { draft, statement, context in
                let user = draft.misc.path?.user
                draft.misc.path = context.script(statement)
                if draft.misc.path?.user == nil { draft.misc.path?.user = user }
            },
            "misc_timeout": .values(1, 1) { draft, statement, context in
                draft.misc.timeout = context.seconds(statement, in: 0.001...86400) ?? draft.misc.timeout
            },
            "misc_dynamic": .flag { $0.misc.dynamic = true },
            "user": .values(1, 2) { draft, statement, _ in
                var path = draft.misc.path ?? ScriptCommand(command: "")
                path.user = statement.arguments[0]
                path.group = statement.arguments.count > 1 ? statement.arguments[1] : nil
                draft.misc.path = path
            },
        ]
        let deprecated = CheckTiming.deprecatedSpellings
        return [
            .httpGet: KeywordTable("HTTP_GET", deprecated: deprecated, timingRules, generalRules, connectionRules, httpRules, unimplementedHTTPKeywords),
            .sslGet: KeywordTable("SSL_GET", deprecated: deprecated, timingRules, generalRules, connectionRules, httpRules, sslRules),
            .tcpCheck: KeywordTable("TCP_CHECK", deprecated: deprecated, timingRules, generalRules, connectionRules),
            .miscCheck: KeywordTable("MISC_CHECK", deprecated: deprecated, timingRules, generalRules, miscRules),
            .dnsCheck: KeywordTable("DNS_CHECK", deprecated: deprecated, timingRules, generalRules, connectionRules, dnsRules),
            .udpCheck: KeywordTable("UDP_CHECK", deprecated: deprecated, timingRules, generalRules, connectionRules, udpRules),
            .pingCheck: KeywordTable("PING_CHECK", deprecated: deprecated, timingRules, generalRules, connectionRules),
            .smtpCheck: KeywordTable("SMTP_CHECK", deprecated: deprecated, timingRules, generalRules, connectionRules, smtpRules),
            // The file is watched, not polled: no timing, no connection.
            .fileCheck: KeywordTable("FILE_CHECK", fileRules),
        ]
    }()

    var finished: HealthChecker {
        var result = checker
        switch checker.kind {
        case .httpGet: result.kind = .httpGet(http)
        case .sslGet: result.kind = .sslGet(http)
        case .tcpCheck: result.kind = .tcpCheck
        case .miscCheck: result.kind = .miscCheck(misc)
        case .dnsCheck: result.kind = .dnsCheck(dns)
        case .udpCheck: result.kind = .udpCheck(udp)
        case .pingCheck: result.kind = .pingCheck
        case .smtpCheck: result.kind = .smtpCheck(smtp)
        case .fileCheck: result.kind = .fileCheck(file)
        }
        return result
    }
}

extension CheckedURL {
    init(location: SourceLocation) {
        self.location = location
    }

    static let keywords = KeywordTable<CheckedURL>("url", [
        "path": .values(1, 1) { url, statement, _ in url.path = statement.arguments[0] },
        "digest": .values(1, 1) { url, statement, context in
            guard let digest = MD5Digest(hex: statement.arguments[0]) else {
                context.error(statement.location, "digest '\(statement.arguments[0])' must be 32 hexadecimal digits (an MD5 sum, as genhash prints)")
                return
            }
            url.digest = digest
        },
        "status_code": .values(1, nil) { url, statement, context in
            var ranges: [StatusCodeRange] = []
            for text in statement.arguments {
                let bounds = text.split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false).map { Int($0) }
                guard let lower = bounds[0], let upper = bounds.count == 2 ? bounds[1] : lower,
                      (100...599).contains(lower), (100...599).contains(upper), lower <= upper else {
                    context.error(statement.location, "status_code '\(text)' must be a code or a range of codes in 100-599 (like 200 or 200-299)")
                    return
                }
                ranges.append(StatusCodeRange(lower: lower, upper: upper))
            }
            url.statusCodes = ranges
        },
        "virtualhost": .values(1, 1) { url, statement, _ in url.virtualhost = statement.arguments[0] },
        "tls_compliant": .values(0, 1) { url, statement, context in url.tlsCompliant = context.boolean(statement) },
    ], URLRegex.rules)
}

extension ParseContext {
    mutating func parseChecker(_ statement: Statement, kind: CheckerDraft.Kind, into server: inout RealServer) {
        guard noArguments(statement) else { return }
        let placeholder: HealthCheckKind
        switch kind {
        case .httpGet: placeholder = .httpGet(HTTPCheck())
        case .sslGet: placeholder = .sslGet(HTTPCheck())
        case .tcpCheck: placeholder = .tcpCheck
        case .miscCheck: placeholder = .miscCheck(MiscCheck())
        case .dnsCheck: placeholder = .dnsCheck(DNSCheck())
        case .udpCheck: placeholder = .udpCheck(UDPCheck())
        case .pingCheck: placeholder = .pingCheck
        case .smtpCheck: placeholder = .smtpCheck(SMTPCheck())
        case .fileCheck: placeholder = .fileCheck(FileCheck())
        }
        var draft = CheckerDraft(checker: HealthChecker(kind: placeholder, location: statement.location))
        parseBlock(opener: statement, into: &draft, table: CheckerDraft.table(for: kind))
        server.checkers += CheckerDraft.expand(draft.finished, hosts: draft.smtpHosts)
    }
}
