import KeepalivedConfig

/// Addresses, routes and rules written as keepalived writes them in its log lines
/// ("Restoring deleted static route …"), so searches for those lines keep working.
enum KernelObjectText {
    /// keepalived leaves out the length of a host address.
    static func prefix(_ address: IPAddress, _ length: Int) -> String {
        length == address.maximumPrefixLength ? "\(address)" : "\(address)/\(length)"
    }

    private static let scopeNumbers: [AddressScope: Int] = [.global: 0, .site: 200, .link: 253, .host: 254, .nowhere: 255]

    static func address(_ vip: VirtualIPAddress, device: String, set: Bool = true) -> String {
        var text = prefix(vip.address, vip.effectivePrefixLength)
        if let broadcast = vip.broadcast { text += " brd \(broadcast)" }
        text += " dev \(device) scope \(vip.scope?.rawValue ?? "global")"
        if let label = vip.label { text += " label \(label)" }
        if let peer = vip.peer { text += " peer \(peer)/\(vip.effectivePrefixLength)" }
        if vip.noTrack { text += " no_track" }
        if vip.address.family == .inet6 { text += " preferred_lft forever" }
        // keepalived describes the address after putting it back, so it reads as set.
        return set ? text + " set" : text
    }

    static func route(_ route: VirtualRoute) -> String {
        var text = "prepend "
        if route.type != .unicast { text += "\(route.type.rawValue) " }
        text += prefix(route.destination.address, route.destination.length)
        if let source = route.source { text += " src \(source)" }
        if let tos = route.tos { text += " tos \(tos)" }
        if let via = route.via { text += " via \(via.family == .inet6 ? "inet6" : "inet") \(via)" }
        if let device = route.device { text += " dev \(device)" }
        if let table = route.table, table != 254 { text += " table \(table)" }
        text += " proto \(route.effectiveProtocol)"
        if let scope = route.scope, let number = scopeNumbers[scope] { text += " scope \(number)" }
        if let metric = route.metric { text += " metric \(metric)" }
        if route.onlink && route.destination.address.family == .inet { text += " onlink" }
        for hop in route.nexthops {
            text += " nexthop"
            if let via = hop.via { text += " via inet\(via.family == .inet ? "" : "6") \(via)" }
            if let device = hop.device { text += " dev \(device)" }
            if let weight = hop.weight { text += " weight \(weight)" }
            if hop.onlink { text += " onlink" }
        }
        if route.noTrack { text += " no_track" }
        return text
    }

    static func rule(_ rule: RoutingRule) -> String {
        var text = rule.from == nil && rule.to == nil && rule.family == .inet6 ? "inet6 " : ""
        if rule.invert { text += "not " }
        text += "from " + (rule.from.map { prefix($0.address, $0.length) } ?? "all")
        if let to = rule.to { text += " to \(prefix(to.address, to.length))" }
        text += " priority \(rule.effectivePreference)"
        text += " tos 0x\(String(rule.tos ?? 0, radix: 16))"
        if let mark = rule.fwmark {
            text += " fwmark 0x\(String(mark, radix: 16))"
            if let mask = rule.fwmask, mask != UInt32.max { text += "/0x\(String(mask, radix: 16))" }
        }
        if let device = rule.inputInterface { text += " iif \(device)" }
        if let device = rule.outputInterface { text += " oif \(device)" }
        if let length = rule.suppressPrefixLength { text += " suppress_prefixlen \(length)" }
        if let group = rule.suppressInterfaceGroup { text += " suppress_ifgroup \(group)" }
        if let tunnel = rule.tunnelID { text += " tunnel-id \(tunnel)" }
        if let range = rule.uidRange { text += " uidrange \(range.lowerBound)-\(range.upperBound)" }
        if rule.l3mdev { text += " l3mdev" }
        if let number = rule.effectiveProtocol { text += " protocol \(number)" }
        if let number = rule.ipProtocol { text += " ipproto \(number)" }
        if let ports = rule.sourcePorts { text += " sport \(ports.lowerBound)-\(ports.upperBound)" }
        if let ports = rule.destinationPorts { text += " dport \(ports.lowerBound)-\(ports.upperBound)" }
        if let realms = rule.realms { text += " realms \(realms >> 16)/\(realms & 0xFFFF)" }
        switch rule.action {
        case .table(let table): text += " lookup \(table)"
        case .goto(let target): text += " goto \(target)"
        case .nop: text += " nop"
        case .blackhole: text += " type blackhole"
        case .unreachable: text += " type unreachable"
        case .prohibit: text += " type prohibit"
        }
        if rule.noTrack { text += " no_track" }
        return text
    }
}
