extension CheckTiming {
    /// delay_loop, connect_timeout, retry, delay_before_retry and warmup, valid at every level
    /// from virtual server down to checker.
    static func rules<Target>(_ path: WritableKeyPath<Target, CheckTiming> & Sendable) -> [String: KeywordRule<Target>] {
        [
            "delay_loop": .values(1, 1) { target, statement, context in
                target[keyPath: path].delayLoop = context.seconds(statement, in: 0.001...86400) ?? target[keyPath: path].delayLoop
            },
            "connect_timeout": .values(1, 1) { target, statement, context in
                target[keyPath: path].connectTimeout = context.seconds(statement, in: 0.001...3600) ?? target[keyPath: path].connectTimeout
            },
            "retry": .values(1, 1) { target, statement, context in
                target[keyPath: path].retry = context.integer(statement, in: 0...1000) ?? target[keyPath: path].retry
            },
            "delay_before_retry": .values(1, 1) { target, statement, context in
                target[keyPath: path].delayBeforeRetry = context.seconds(statement, in: 0...86400) ?? target[keyPath: path].delayBeforeRetry
            },
            "warmup": .values(1, 1) { target, statement, context in
                target[keyPath: path].warmup = context.seconds(statement, in: 0...86400) ?? target[keyPath: path].warmup
            },
        ]
    }

    static let deprecatedSpellings = ["nb_get_retry": "retry"]
}

extension LVSForwardingMethod {
    /// `lvs_method NAT|DR|TUN [type …]`; tunnel options are accepted and not acted on yet.
    static func parse(_ statement: Statement, _ context: inout ParseContext) -> LVSForwardingMethod? {
        guard let method = context.word(statement, as: LVSForwardingMethod.self) else { return nil }
        if statement.arguments.count > 1 {
            guard method == .tun else {
                context.error(statement.location, "\(statement.keyword) \(method.rawValue) takes no options")
                return nil
            }
            context.warning(statement.location, "tunnel options (\(statement.arguments.dropFirst().joined(separator: " "))) are not supported yet; plain ipip is used")
        }
        return method
    }
}

extension VirtualServer {
    static let keywords = KeywordTable<VirtualServer>("virtual_server", deprecated: CheckTiming.deprecatedSpellings,
                                                      CheckTiming.rules(\VirtualServer.timing), schedulerFlagRules, [
        "lb_algo": .values(1, 1) { server, statement, context in
            server.scheduler = context.word(statement, as: LVSScheduler.self, caseInsensitive: false) ?? server.scheduler
        },
        "lvs_sched": .values(1, 1) { server, statement, context in
            server.scheduler = context.word(statement, as: LVSScheduler.self, caseInsensitive: false) ?? server.scheduler
        },
        "lb_kind": .values(1, 6) { server, statement, context in
            server.forwardingMethod = LVSForwardingMethod.parse(statement, &context) ?? server.forwardingMethod
        },
        "lvs_method": .values(1, 6) { server, statement, context in
            server.forwardingMethod = LVSForwardingMethod.parse(statement, &context) ?? server.forwardingMethod
        },
        "protocol": .values(1, 1) { server, statement, context in
            server.protocolName = context.word(statement, as: LVSProtocol.self) ?? server.protocolName
        },
        "persistence_timeout": .values(0, 1) { server, statement, context in
            if statement.arguments.isEmpty {
                server.persistenceTimeout = VirtualServer.defaultPersistenceTimeout
            } else {
                server.persistenceTimeout = context.integer(statement, in: 0...2_678_400) ?? server.persistenceTimeout
            }
        },
        "persistence_granularity": .values(1, 1) { server, statement, context in
            guard context.validGranularity(statement) else { return }
            server.persistenceGranularity = statement.arguments[0]
        },
        "persistence_engine": .values(1, 1) { server, statement, _ in server.persistenceEngine = statement.arguments[0] },
        "ip_family": .values(1, 1) { server, statement, context in
            server.ipFamily = context.word(statement, as: AddressFamily.self, caseInsensitive: false) ?? server.ipFamily
        },
        "ops": .flag { $0.onePacketScheduling = true },
        "ha_suspend": .flag { $0.haSuspend = true },
        "alpha": .flag { $0.alpha = true },
        "omega": .flag { $0.omega = true },
        "quorum": .values(1, 1) { server, statement, context in
            server.quorum = context.integer(statement, in: 1...Int(Int32.max)) ?? server.quorum
        },
        "hysteresis": .values(1, 1) { server, statement, context in
            server.hysteresis = context.integer(statement, in: 0...Int(Int32.max)) ?? server.hysteresis
        },
        "quorum_up": .values(1, 3) { server, statement, context in server.quorumUp = context.script(statement) },
        "quorum_down": .values(1, 3) { server, statement, context in server.quorumDown = context.script(statement) },
        "virtualhost": .values(1, 1) { server, statement, _ in server.virtualhost = statement.arguments[0] },
        "smtp_alert": .values(0, 1) { server, statement, context in server.smtpAlert = context.boolean(statement) },
        "sorry_server": .values(1, 2) { server, statement, context in
            guard let address = context.address(statement) else { return }
            var port: Int?
            if statement.arguments.count == 2 {
                guard let value = context.integer(statement, at: 1, in: 0...65535, what: "sorry_server port") else { return }
                port = value
            }
            server.sorryServer = (address, port)
        },
        "sorry_server_inhibit": .flag { $0.sorryServerInhibit = true },
        "sorry_server_lvs_method": .values(1, 6) { server, statement, context in
            server.sorryServerForwardingMethod = LVSForwardingMethod.parse(statement, &context) ?? server.sorryServerForwardingMethod
        },
        "inhibit_on_failure": .values(0, 1) { server, statement, context in server.inhibitOnFailure = context.boolean(statement) },
        "announce_route": .block(once: true) { server, statement, context in
            guard statement.arguments.isEmpty else {
                context.error(statement.location, "announce_route takes no value; its settings go in its block")
                return context.skipBlock()
            }
            var announcement = RouteAnnouncement(location: statement.location)
            context.parseBlock(opener: statement, into: &announcement, table: RouteAnnouncement.keywords)
            server.announcement = announcement
        },
        "real_server": .block { server, statement, context in
            guard let (address, port) = context.serverAddress(statement) else {
                context.skipBlock()
                return
            }
            var real = RealServer(address: address, port: port, location: statement.location)
            context.parseBlock(opener: statement, into: &real, table: RealServer.keywords)
            server.realServers.append(real)
        },
    ], unimplementedKeywords)

    /// `sh-port`, `mh-fallback`, `flag-1`, …: IPVS scheduler flags, kept by name.
    static let schedulerFlags = ["sh-port", "sh-fallback", "mh-port", "mh-fallback", "flag-1", "flag-2", "flag-3"]

    private static var schedulerFlagRules: [String: KeywordRule<VirtualServer>] {
        Dictionary(uniqueKeysWithValues: schedulerFlags.map { flag in
            (flag, KeywordRule<VirtualServer>.flag { $0.schedulerFlags.insert(flag) })
        })
    }
}

extension RealServer {
    static let keywords = KeywordTable<RealServer>("real_server", deprecated: CheckTiming.deprecatedSpellings,
                                                   CheckTiming.rules(\RealServer.timing), [
        "weight": .values(1, 1) { server, statement, context in
            server.weight = context.integer(statement, in: 0...65535, what: "real_server weight") ?? server.weight
        },
        "lb_kind": .values(1, 6) { server, statement, context in
            server.forwardingMethod = LVSForwardingMethod.parse(statement, &context) ?? server.forwardingMethod
        },
        "lvs_method": .values(1, 6) { server, statement, context in
            server.forwardingMethod = LVSForwardingMethod.parse(statement, &context) ?? server.forwardingMethod
        },
        "inhibit_on_failure": .values(0, 1) { server, statement, context in server.inhibitOnFailure = context.boolean(statement) },
        "notify_up": .values(1, 3) { server, statement, context in server.notifyUp = context.script(statement) },
        "notify_down": .values(1, 3) { server, statement, context in server.notifyDown = context.script(statement) },
        "uthreshold": .values(1, 1) { server, statement, context in
            server.upperThreshold = context.integer(statement, in: 0...Int(Int32.max)) ?? server.upperThreshold
        },
        "lthreshold": .values(1, 1) { server, statement, context in
            server.lowerThreshold = context.integer(statement, in: 0...Int(Int32.max)) ?? server.lowerThreshold
        },
        "smtp_alert": .values(0, 1) { server, statement, context in server.smtpAlert = context.boolean(statement) },
        "virtualhost": .values(1, 1) { server, statement, _ in server.virtualhost = statement.arguments[0] },
        "alpha": .values(0, 1) { server, statement, context in server.alpha = context.boolean(statement) },
        "HTTP_GET": .block { server, statement, context in context.parseChecker(statement, kind: .httpGet, into: &server) },
        "SSL_GET": .block { server, statement, context in context.parseChecker(statement, kind: .sslGet, into: &server) },
        "TCP_CHECK": .block { server, statement, context in context.parseChecker(statement, kind: .tcpCheck, into: &server) },
        "MISC_CHECK": .block { server, statement, context in context.parseChecker(statement, kind: .miscCheck, into: &server) },
        "DNS_CHECK": .block { server, statement, context in context.parseChecker(statement, kind: .dnsCheck, into: &server) },
        "UDP_CHECK": .block { server, statement, context in context.parseChecker(statement, kind: .udpCheck, into: &server) },
        "PING_CHECK": .block { server, statement, context in context.parseChecker(statement, kind: .pingCheck, into: &server) },
        "FILE_CHECK": .block { server, statement, context in context.parseChecker(statement, kind: .fileCheck, into: &server) },
        "SMTP_CHECK": .block { server, statement, context in context.parseChecker(statement, kind: .smtpCheck, into: &server) },
    ], unimplementedKeywords)
}

extension ParseContext {
    /// `virtual_server ADDRESS [PORT]`, `virtual_server fwmark N`, `virtual_server group NAME`.
    mutating func virtualServerKey(_ statement: Statement) -> VirtualServerKey? {
        let arguments = statement.arguments
        switch arguments.first {
        case "fwmark":
            guard arguments.count == 2, let mark = UInt32(arguments[1]), mark > 0 else {
                error(statement.location, "virtual_server fwmark needs a mark in 1-\(UInt32.max)")
                return nil
            }
            return .fwmark(mark)
        case "group":
            guard arguments.count == 2 else {
                error(statement.location, "virtual_server group needs one group name")
                return nil
            }
            return .group(arguments[1])
        default:
            guard let (address, port) = serverAddress(statement) else { return nil }
            return .address(address, port: port ?? 0)
        }
    }

    /// `ADDRESS [PORT]` after virtual_server / real_server.
    mutating func serverAddress(_ statement: Statement) -> (IPAddress, Int?)? {
        guard (1...2).contains(statement.arguments.count) else {
            error(statement.location, "'\(statement.keyword)' needs an address and optionally a port")
            return nil
        }
        guard let address = address(statement, at: 0) else { return nil }
        guard statement.arguments.count == 2 else { return (address, nil) }
        // Port 0 is IPVS's "any port": a fwmark service's real servers, DR and TUN (which keep the
        // client's port), a persistent service on every port. keepalived takes it.
        guard let port = integer(statement, at: 1, in: 0...65535, what: "\(statement.keyword) port") else { return nil }
        return (address, port)
    }

    /// A netmask (`255.255.255.0`) for IPv4 or a prefix length (`64`) for IPv6, as ipvsadm -M takes.
    mutating func validGranularity(_ statement: Statement) -> Bool {
        let text = statement.arguments[0]
        if let length = Int(text), (1...128).contains(length) { return true }
        if case .v4(let mask)? = IPAddress(text), mask != 0, (~mask) & ((~mask) &+ 1) == 0 { return true }
        error(statement.location, "persistence_granularity '\(text)' must be an IPv4 netmask like 255.255.255.0 or an IPv6 prefix length 1-128")
        return false
    }

    /// One `virtual_server_group` line: `ADDRESS[-LAST] [PORT]`, `ADDRESS/PREFIX [PORT]`, or `fwmark N [inet|inet6]`.
    mutating func addGroupEntry(_ entry: Statement, to group: inout VirtualServerGroup) {
        if entry.keyword == "fwmark" {
            guard (1...2).contains(entry.arguments.count), let mark = UInt32(entry.arguments[0]), mark > 0 else {
                error(entry.location, "fwmark needs a mark in 1-\(UInt32.max)")
                return
            }
            var family: AddressFamily?
            if entry.arguments.count == 2 {
                guard let named = AddressFamily(rawValue: entry.arguments[1]) else {
                    error(entry.location, "fwmark family must be inet or inet6, not '\(entry.arguments[1])'")
                    return
                }
                family = named
            }
            group.entries.append((.fwmark(mark, family: family), entry.location))
            return
        }
        guard entry.arguments.count <= 1 else {
            error(entry.location, "virtual_server_group entry takes an address or range and a port")
            return
        }
        var port: Int?
        if entry.arguments.count == 1 {
            guard let value = self.port(entry, at: 0) else { return }
            port = value
        }
        guard let (first, last) = addressRange(entry.keyword, entry) else { return }
        group.entries.append((.range(first: first, last: last, port: port), entry.location))
    }

    /// `10.0.0.1-9` (last byte, or last IPv6 group), `10.0.0.250-10.0.1.10`, or `10.0.0.8/29`.
    private mutating func addressRange(_ text: String, _ entry: Statement) -> (IPAddress, IPAddress)? {
        if text.contains("/") {
            guard let (address, length) = prefixedAddress(text, entry), let length else { return nil }
            let hostBits = address.maximumPrefixLength - length
            guard hostBits <= 16 else {
                error(entry.location, "address block \(text) is too large for a virtual_server_group (at most 65536 addresses)")
                return nil
            }
            let size = UInt64(1) << UInt64(hostBits)
            let start: IPAddress
            switch address {
            case .v4(let value): start = .v4(value & ~UInt32(size - 1))
            case .v6(let high, let low): start = .v6(high, low & ~(size - 1))
            }
            return (start, start.advanced(by: size - 1)!)
        }
        // Empty pieces kept: `-`, `-10.0.0.1` and `10.0.0.1-` are errors, not a crash or a lone address.
        let parts = text.split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false)
        guard let first = IPAddress(String(parts[0])) else {
            error(entry.location, "'\(text)' is not a valid address or address range")
            return nil
        }
        guard parts.count == 2 else { return (first, first) }
        let tail = String(parts[1])
        var last: IPAddress?
        if let full = IPAddress(tail) {
            last = full
        } else if first.family == .inet, let byte = UInt32(tail), byte <= 255, case .v4(let value) = first {
            last = .v4(value & 0xFFFF_FF00 | byte)
        } else if first.family == .inet6, let group = UInt64(tail, radix: 16), group <= 0xFFFF, case .v6(let high, let low) = first {
            last = .v6(high, low & ~0xFFFF | group)
        }
        guard let last, last.family == first.family, first.distance(to: last) != nil else {
            error(entry.location, "'\(text)' is not a valid address range (the end must follow the start)")
            return nil
        }
        guard first.distance(to: last)! < 65536 else {
            error(entry.location, "address range \(text) is too large (at most 65536 addresses)")
            return nil
        }
        return (first, last)
    }
}
