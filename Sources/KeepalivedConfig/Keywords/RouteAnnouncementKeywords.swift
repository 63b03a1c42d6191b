/// `announce_route { }` inside a virtual_server, and global_defs' `announce_maintenance_file`:
/// swiftkeepalived's extension for scale-out through BIRD or FRR (see RouteAnnouncement).
extension RouteAnnouncement {
    static let keywords = KeywordTable<RouteAnnouncement>("announce_route", [
        "table": .values(1, 1) { announcement, statement, context in
            guard let table = RoutingNames.table(statement.arguments[0]), table != 0 else {
                return context.error(statement.location, "announce_route: routing table '\(statement.arguments[0])' is not a number 1-\(UInt32.max) or a name in /etc/iproute2/rt_tables")
            }
            announcement.table = table
        },
        "protocol": .values(1, 1) { announcement, statement, context in
            guard let number = RoutingNames.protocol(statement.arguments[0]), number > 4 else {
                // 0-4 are the kernel's own (unspec, redirect, kernel, boot, static): another
                // program's routes could be taken for leftovers of ours and removed.
                return context.error(statement.location, "announce_route: route protocol '\(statement.arguments[0])' must be 5-255 or a name in /etc/iproute2/rt_protos (0-4 are the kernel's and the administrator's)")
            }
            announcement.protocolNumber = number
        },
        "device": .values(1, 1) { announcement, statement, context in
            guard context.validInterfaceName(statement.arguments[0], statement) else { return }
            announcement.device = statement.arguments[0]
        },
        "hold_address": .flag { $0.holdAddress = true },
        "vrrp_instance": .values(1, 1) { announcement, statement, _ in announcement.vrrpInstance = statement.arguments[0] },
        "up_delay": .values(1, 1) { announcement, statement, context in
            announcement.upDelay = context.seconds(statement, in: 0...3600) ?? announcement.upDelay
        },
        "prefix": .values(1, 1, once: false) { announcement, statement, context in
            guard let (address, length) = context.prefixedAddress(statement.arguments[0], statement) else { return }
            let prefix = IPPrefix(address: address, length: length ?? address.maximumPrefixLength)
            guard prefix.address == prefix.address.masked(to: prefix.length) else {
                return context.error(statement.location, "announce_route: prefix \(statement.arguments[0]) has host bits set; write \(prefix.address.masked(to: prefix.length))/\(prefix.length)")
            }
            announcement.prefixes.append(prefix)
        },
    ])
}

extension ParseContext {
    /// An interface name the kernel could have: 1-15 bytes, no '/', no white space.
    mutating func validInterfaceName(_ name: String, _ statement: Statement) -> Bool {
        guard (1...15).contains(name.utf8.count), !name.contains("/"), name != ".", name != ".." else {
            error(statement.location, "'\(name)' is not a valid interface name (1-15 characters, no '/')")
            return false
        }
        return true
    }
}
