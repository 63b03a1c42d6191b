/// Lines of `virtual_routes` and `static_routes`: `ip route` words, as keepalived reads them.
extension ParseContext {
    /// Route options keepalived knows that we do not program yet, with whether they take a value.
    /// They are warned about and skipped, so the rest of the route still applies.
    private static let unsupportedRouteOptions: [String: Bool] = [
        "from": true, "encap": true, "expires": true, "mtu": true, "hoplimit": true, "advmss": true,
        "rtt": true, "rttvar": true, "reordering": true, "window": true, "cwnd": true, "ssthresh": true,
        "realms": true, "rto_min": true, "initcwnd": true, "initrwnd": true, "features": true,
        "quickack": true, "congctl": true, "pref": true, "ttl-propagate": true, "fastopen_no_cookie": true,
        "vrf": true, "track_group": true, "add": false, "append": false,
    ]
    /// Options whose value may be preceded by `lock`.
    private static let lockableRouteOptions: Set<String> = ["mtu", "advmss", "rtt", "rttvar", "reordering", "cwnd", "ssthresh", "rto_min", "congctl"]

    /// `[to] [TYPE] PREFIX [src A] [via|gw [inet|inet6] A] [or A] [dev IF] [scope S] [table T]
    /// [metric N] [tos N] [protocol P] [onlink] [no_track] [nexthop via A [dev IF] [weight N] [onlink] …]`,
    /// options in any order before the nexthops, as keepalived reads them.
    mutating func virtualRoute(_ entry: Statement) -> VirtualRoute? {
        var words = ([entry.keyword] + entry.arguments)[...]
        var family: AddressFamily?
        var route = VirtualRoute(destination: IPPrefix(address: .v4(0), length: 0), location: entry.location)
        var hasDestination = false
        var usedOr = false
        func fail(_ message: String) -> VirtualRoute? {
            error(entry.location, message)
            return nil
        }
        /// Records the family an address or word implies; false when it contradicts an earlier one.
        func agree(_ implied: AddressFamily) -> Bool {
            if let family, family != implied { return false }
            family = implied
            return true
        }
        while let word = words.first, word != "nexthop" {
            words.removeFirst()
            if let takesValue = Self.unsupportedRouteOptions[word] {
                if takesValue {
                    if Self.lockableRouteOptions.contains(word), words.first == "lock" { words.removeFirst() }
                    guard words.popFirst() != nil else { return fail("'\(word)' needs a value in route") }
                }
                warning(entry.location, "route option '\(word)' is not supported yet; ignored")
                continue
            }
            let needsValue = ["src", "via", "gw", "or", "dev", "oif", "scope", "table", "metric", "priority",
                              "preference", "tos", "dsfield", "protocol", "as"].contains(word)
            if needsValue && words.isEmpty { return fail("'\(word)' needs a value in route") }
            switch word {
            case "inet", "inet6":
                guard agree(word == "inet" ? .inet : .inet6) else {
                    return fail("\(word) specified for \(word == "inet" ? "IPv6" : "IPv4") route")
                }
            case "src":
                let text = words.removeFirst()
                guard let address = IPAddress(text) else { return fail("invalid route src address \(text)") }
                guard agree(address.family) else { return fail("Cannot mix IPv4 and IPv6 addresses for route") }
                route.source = address
            case "via", "gw":
                if word == "gw" { warning(entry.location, "\"gw\" for routes is deprecated. Please use \"via\"") }
                var text = words.removeFirst()
                if (text == "inet" || text == "inet6"), let next = words.popFirst() { text = next }
                guard let address = IPAddress(text) else { return fail("invalid route via address \(text)") }
                guard agree(address.family) else { return fail("Cannot mix IPv4 and IPv6 addresses for route") }
                route.via = address
            case "or":
                warning(entry.location, "\"or\" for routes is deprecated. Please use \"nexthop\"")
                let text = words.removeFirst()
                if usedOr {
                    warning(entry.location, "\"or\" route already specified - ignoring subsequent")
                    continue
                }
                guard let first = route.via else { return fail("\"or\" needs a 'via' gateway before it") }
                guard let address = IPAddress(text) else { return fail("Invalid \"or\" address \(text)") }
                guard agree(address.family) else { return fail("Cannot mix IPv4 and IPv6 addresses for route") }
                route.nexthops = [RouteNexthop(via: first), RouteNexthop(via: address)]
                route.via = nil
                usedOr = true
            case "dev", "oif": route.device = words.removeFirst()
            case "scope":
                guard let scope = addressScope(words.removeFirst(), entry) else { return nil }
                route.scope = scope
            case "table":
                let text = words.removeFirst()
                guard let table = RoutingNames.table(text) else { return fail("Routing table \(text) not found for route") }
                route.table = table
            case "metric", "priority", "preference":
                let text = words.removeFirst()
                guard let metric = RoutingNames.unsigned(text, maximum: UInt64(UInt32.max)) else {
                    return fail("Invalid metric \(text) specified for route")
                }
                route.metric = Int(metric)
            case "tos", "dsfield":
                let text = words.removeFirst()
                guard let tos = RoutingNames.unsigned(text, maximum: 255) else { return fail("TOS value \(text) is invalid") }
                route.tos = Int(tos)
            case "protocol":
                let text = words.removeFirst()
                guard let number = RoutingNames.protocol(text) else { return fail("Protocol \(text) not found or invalid for route") }
                route.protocolNumber = number
            case "as":
                if words.first == "to" { words.removeFirst() }
                _ = words.popFirst()
                warning(entry.location, "\"as to\" for MPLS only - ignoring")
            case "onlink": route.onlink = true
            case "prepend": break
            case "no_track": route.noTrack = true
            default:
                var text = word
                if text == "to", let next = words.popFirst() { text = next }
                if let type = RouteType(rawValue: text), type != .unicast || words.first.map(isDestination) == true {
                    route.type = type
                    guard let next = words.popFirst() else { return fail("Route must have a destination") }
                    text = next
                }
                guard let destination = routeDestination(text, family: family) else {
                    return fail(isDestination(text) ? "invalid route destination \(text)" : "unknown route keyword \(text)")
                }
                // `default` takes the family the rest of the line gives it.
                if !["default", "all", "any"].contains(text) {
                    guard agree(destination.address.family) else { return fail("Cannot mix IPv4 and IPv6 addresses for route (\(text))") }
                }
                route.destination = destination
                hasDestination = true
            }
        }
        if words.first == "nexthop" {
            guard !usedOr else { return fail("Cannot specify nexthops with \"or\" route") }
            guard let hops = nexthops(&words, entry, family: &family) else { return nil }
            route.nexthops = hops
        }
        guard hasDestination else { return fail("Route must have a destination") }
        if route.destination.length == 0, route.destination.address == .v4(0), family == .inet6 {
            route.destination = IPPrefix(address: .v6(0, 0), length: 0)
        }
        if let protocolNumber = route.protocolNumber, !route.noTrack, protocolNumber != VirtualRoute.keepalivedProtocol {
            warning(entry.location, "Route cannot be tracked if protocol is not RTPROT_KEEPALIVED(18), resetting protocol")
            route.protocolNumber = nil
        }
        if route.via != nil && !route.nexthops.isEmpty && !usedOr {
            warning(entry.location, "route 'via' is ignored when nexthops are given")
        }
        return route
    }

    /// True for a word that reads as an address (`192.0.2.0/24`, `2001:db8::/32`, `default`).
    private func isDestination(_ text: String) -> Bool {
        ["default", "all", "any"].contains(text) || text.first.map { $0.isNumber || $0 == ":" } == true
            || text.contains(":")
    }

    /// `PREFIX`, `ADDRESS` (a host route) or `default` / `all` / `any` (length 0).
    private func routeDestination(_ text: String, family: AddressFamily?) -> IPPrefix? {
        if ["default", "all", "any"].contains(text) {
            return IPPrefix(address: family == .inet6 ? .v6(0, 0) : .v4(0), length: 0)
        }
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard let address = IPAddress(String(parts[0])) else { return nil }
        guard parts.count == 2 else { return IPPrefix(address: address, length: address.maximumPrefixLength) }
        guard let length = Int(parts[1]), (0...address.maximumPrefixLength).contains(length) else { return nil }
        return IPPrefix(address: address, length: length)
    }

    /// `nexthop via A [dev IF] [weight N] [onlink]`, repeated, up to the end of the line.
    private mutating func nexthops(_ words: inout ArraySlice<String>, _ entry: Statement, family: inout AddressFamily?) -> [RouteNexthop]? {
        var hops: [RouteNexthop] = []
        func fail(_ message: String) -> [RouteNexthop]? {
            error(entry.location, message)
            return nil
        }
        while words.first == "nexthop" {
            words.removeFirst()
            var hop = RouteNexthop()
            loop: while let word = words.first {
                switch word {
                case "via", "dev", "weight":
                    words.removeFirst()
                    guard var value = words.popFirst() else { return fail("'\(word)' needs a value in nexthop") }
                    if word == "via" {
                        if (value == "inet" || value == "inet6"), let next = words.popFirst() { value = next }
                        guard let address = IPAddress(value) else { return fail("invalid nexthop address \(value)") }
                        if let family, family != address.family { return fail("Address family mismatch for next hop") }
                        family = address.family
                        hop.via = address
                    } else if word == "dev" {
                        hop.device = value
                    } else {
                        guard let weight = Int(value), (1...256).contains(weight) else {
                            return fail(value == "0" ? "Invalid weight 0 specified for route" : "Invalid weight \(value) specified for route")
                        }
                        hop.weight = weight
                    }
                case "onlink":
                    words.removeFirst()
                    hop.onlink = true
                case "encap", "realms", "as":
                    return fail("nexthop option '\(word)' is not supported yet")
                default:
                    break loop
                }
            }
            hops.append(hop)
        }
        if let rest = words.first { return fail("Route has trailing nonsense after nexthops - \(rest)") }
        return hops
    }
}
