#if canImport(Glibc)
import Glibc
#endif

/// Lines of `virtual_rules` and `static_rules`: `ip rule` words, as keepalived reads them.
extension ParseContext {
    /// `[inet|inet6] [not] [from P] [to P] [preference N] [tos N] [fwmark N[/M]] [iif IF] [oif IF]
    /// [ipproto P] [sport A[-B]] [dport A[-B]] [uidrange A-B] [protocol N] [realms [S/]D]
    /// [suppress_prefixlength N] [suppress_ifgroup N] [tunnel-id N] [no_track]` and one action:
    /// `table T` / `lookup T`, `goto N`, `nop`, `l3mdev`, `[type] blackhole|unreachable|prohibit`.
    mutating func routingRule(_ entry: Statement) -> RoutingRule? {
        var words = ([entry.keyword] + entry.arguments)[...]
        var family: AddressFamily?
        var rule = RoutingRule(action: .nop, location: entry.location)
        var action: RuleAction?
        var tableOption = false
        func fail(_ message: String) -> RoutingRule? {
            error(entry.location, message)
            return nil
        }
        func agree(_ implied: AddressFamily) -> Bool {
            if let family, family != implied { return false }
            family = implied
            return true
        }
        let needsValue: Set<String> = ["from", "to", "table", "lookup", "preference", "order", "priority", "tos", "dsfield",
                                       "fwmark", "realms", "suppress_prefixlength", "sup_pl", "suppress_ifgroup", "sup_group",
                                       "dev", "iif", "oif", "tunnel-id", "uidrange", "protocol", "ipproto", "sport", "dport",
                                       "goto", "type", "track_group"]
        while let word = words.popFirst() {
            if needsValue.contains(word) && words.isEmpty { return fail("'\(word)' needs a value in rule") }
            var newAction: RuleAction?
            switch word {
            case "inet", "inet6":
                guard agree(word == "inet" ? .inet : .inet6) else {
                    return fail("\(word) specified for \(word == "inet" ? "IPv6" : "IPv4") rule")
                }
            case "from", "to":
                let text = words.removeFirst()
                guard let prefix = ruleAddress(text) else { return fail("Invalid rule \(word) address \(text)") }
                if let prefix {
                    guard agree(prefix.address.family) else { return fail("rule specification has mixed IPv4 and IPv6") }
                }
                if word == "from" { rule.from = prefix } else { rule.to = prefix }
            case "table", "lookup":
                let text = words.removeFirst()
                guard let table = RoutingNames.table(text) else { return fail("Routing table \(text) not found for rule") }
                guard table != 0 else { return fail("Table 0 is not valid") }
                newAction = .table(table)
            case "not": rule.invert = true
            case "preference", "order", "priority":
                let text = words.removeFirst()
                guard let value = RoutingNames.unsigned(text, maximum: UInt64(UInt32.max)) else {
                    return fail("Invalid rule preference \(text) specified")
                }
                rule.preference = Int(value)
            case "tos", "dsfield":
                let text = words.removeFirst()
                guard let value = RoutingNames.unsigned(text, maximum: 255) else { return fail("TOS value \(text) is invalid") }
                rule.tos = Int(value)
            case "fwmark":
                let text = words.removeFirst()
                let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
                guard let mark = RoutingNames.unsigned(parts[0], maximum: UInt64(UInt32.max)) else {
                    return fail("Invalid rule fwmark \(text) specified")
                }
                rule.fwmark = UInt32(mark)
                if parts.count == 2 {
                    guard let mask = RoutingNames.unsigned(parts[1], maximum: UInt64(UInt32.max)) else {
                        return fail("Invalid rule fwmark \(text) specified")
                    }
                    rule.fwmask = UInt32(mask)
                }
            case "realms":
                let text = words.removeFirst()
                guard let realms = Self.realms(text) else { return fail("invalid realms \(text) for rule") }
                guard agree(.inet) else { return fail("realms is only valid for IPv4") }
                rule.realms = realms
                tableOption = true
            case "suppress_prefixlength", "sup_pl":
                let text = words.removeFirst()
                guard let value = RoutingNames.unsigned(text, maximum: UInt64(Int32.max)) else {
                    return fail("Invalid suppress_prefixlength \(text) specified")
                }
                rule.suppressPrefixLength = Int(value)
                tableOption = true
            case "suppress_ifgroup", "sup_group":
                let text = words.removeFirst()
                guard let value = text == "default" ? 0 : RoutingNames.unsigned(text, maximum: UInt64(UInt32.max)) else {
                    return fail("suppress_group \(text) is invalid")
                }
                rule.suppressInterfaceGroup = Int(value)
                tableOption = true
            case "dev", "iif": rule.inputInterface = words.removeFirst()
            case "oif": rule.outputInterface = words.removeFirst()
            case "tunnel-id":
                let text = words.removeFirst()
                guard let value = RoutingNames.unsigned(text, maximum: UInt64.max) else { return fail("Invalid tunnel-id \(text) specified") }
                rule.tunnelID = value
            case "uidrange":
                let text = words.removeFirst()
                let parts = text.split(separator: "-", maxSplits: 1).compactMap { UInt32($0) }
                guard parts.count == 2, parts[0] <= parts[1] else { return fail("Invalid uidrange \(text) specified") }
                rule.uidRange = parts[0]...parts[1]
            case "l3mdev":
                rule.l3mdev = true
                newAction = .table(0)
            case "protocol":
                let text = words.removeFirst()
                guard let value = RoutingNames.protocol(text) else { return fail("Invalid protocol \(text)") }
                rule.protocolNumber = value
            case "ipproto":
                let text = words.removeFirst()
                guard let value = Self.ipProtocol(text) else { return fail("Invalid ipproto \(text)") }
                rule.ipProtocol = value
            case "sport", "dport":
                let text = words.removeFirst()
                guard let range = Self.portRange(text) else { return fail("invalid \(word) range \(text)") }
                if word == "sport" { rule.sourcePorts = range } else { rule.destinationPorts = range }
            case "no_track": rule.noTrack = true
            case "track_group":
                words.removeFirst()
                warning(entry.location, "rule option 'track_group' is not supported yet; ignored")
            default:
                var text = word
                if text == "type" { text = words.removeFirst() }
                switch text {
                case "goto":
                    guard let value = words.popFirst().flatMap({ RoutingNames.unsigned($0, maximum: UInt64(UInt32.max)) }) else {
                        return fail("Invalid target \(words.first ?? "") specified")
                    }
                    newAction = .goto(Int(value))
                case "nop": newAction = .nop
                case "blackhole": newAction = .blackhole
                case "unreachable": newAction = .unreachable
                case "prohibit": newAction = .prohibit
                case "unicast", "local", "broadcast", "anycast", "multicast", "throw", "nat", "xresolve":
                    return fail("Invalid rule action \(text)")
                default:
                    return fail("Unknown rule option \(text)")
                }
            }
            if let newAction {
                guard action == nil else {
                    return fail("Cannot specify more than one of table/nop/goto/blackhole/prohibit/unreachable/l3mdev for rule")
                }
                action = newAction
            }
        }
        guard let action else { return fail("No action specified for rule - ignoring") }
        rule.action = action
        if case .goto(let target) = action {
            guard let preference = rule.preference else {
                return fail("Invalid rule - goto target \(target) specified without preference")
            }
            guard preference < target else { return fail("Invalid rule - preference \(preference) >= goto target \(target)") }
        }
        if case .table = action {} else if tableOption {
            return fail("suppressor/realm specified for non table action - skipping")
        }
        if let protocolNumber = rule.protocolNumber, !rule.noTrack, protocolNumber != VirtualRoute.keepalivedProtocol {
            warning(entry.location, "Rule cannot be tracked if protocol is not RTPROT_KEEPALIVED(18), resetting protocol")
            rule.protocolNumber = nil
        }
        rule.family = family ?? .inet
        if rule.preference == nil {
            let assigned = nextRulePreference[rule.family] ?? RoutingRule.firstAssignedPreference
            nextRulePreference[rule.family] = assigned - 1
            rule.assignedPreference = assigned
            warning(entry.location, "Rule has no preference specified - setting to \(assigned). This is probably not what you want.")
        }
        return rule
    }

    /// A rule's `from`/`to`: a prefix, a host address, or `all`/`any`/`default` (`.some(nil)`);
    /// nil when malformed.
    private func ruleAddress(_ text: String) -> IPPrefix?? {
        if ["all", "any", "default"].contains(text) { return .some(nil) }
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard let address = IPAddress(String(parts[0])) else { return nil }
        guard parts.count == 2 else { return IPPrefix(address: address, length: address.maximumPrefixLength) }
        guard let length = Int(parts[1]), (0...address.maximumPrefixLength).contains(length) else { return nil }
        return IPPrefix(address: address, length: length)
    }

    /// `[SOURCE/]DESTINATION`, realm numbers 0-65535.
    private static func realms(_ text: String) -> UInt32? {
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false).map { UInt32($0) }
        guard parts.allSatisfy({ $0 != nil && $0! <= 0xFFFF }) else { return nil }
        return parts.count == 2 ? parts[0]! << 16 | parts[1]! : parts[0]!
    }

    /// `N` or `N-M`, ports 0-65535.
    private static func portRange(_ text: String) -> ClosedRange<Int>? {
        let parts = text.split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false).map { Int($0) }
        guard parts.allSatisfy({ $0 != nil && (0...65535).contains($0!) }) else { return nil }
        let low = parts[0]!, high = parts.count == 2 ? parts[1]! : low
        return low <= high ? low...high : nil
    }

    /// A protocol number (0-127, as keepalived reads it) or a name from /etc/protocols.
    private static func ipProtocol(_ text: String) -> Int? {
        if let number = Int(text) { return (0...Int(Int8.max)).contains(number) ? number : nil }
        guard let entry = getprotobyname(text) else { return nil }
        return Int(entry.pointee.p_proto)
    }
}
