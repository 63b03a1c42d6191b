import KeepalivedConfig
import Logging
import DaemonCore

/// Accept mode off (`no_accept`, and strict mode's default): a master that is not the address
/// owner drops traffic to and from its VIPs, as RFC 5798 section 6.4.3 asks and keepalived does
/// with its firewall. Here: one nftables table, `inet swiftkeepalived`, whose sets hold the VIPs
/// of such masters; made at start (a killed run's table is replaced), deleted at stop.
final class VIPFirewall {
    static let table = "swiftkeepalived"
    private let nft: NFTables
    private let logger: Logger

    init(logger: Logger) throws {
        self.logger = logger
        nft = try NFTables()
        try nft.run(Self.setupCommands)
    }

    /// The table, made anew: the input and output hooks just before the usual filter chains,
    /// neighbour discovery for IPv6 VIPs let through (or nobody could find them).
    static let setupCommands = """
        add table inet \(table)
        delete table inet \(table)
        add table inet \(table)
        add set inet \(table) vips4 { type ipv4_addr; }
        add set inet \(table) vips6 { type ipv6_addr; }
        add chain inet \(table) in { type filter hook input priority -1; policy accept; }
        add chain inet \(table) out { type filter hook output priority -1; policy accept; }
        add rule inet \(table) in ip6 daddr @vips6 icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert } accept
        add rule inet \(table) in ip daddr @vips4 drop
        add rule inet \(table) in ip6 daddr @vips6 drop
        add rule inet \(table) out ip6 saddr @vips6 icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert } accept
        add rule inet \(table) out ip saddr @vips4 drop
        add rule inet \(table) out ip6 saddr @vips6 drop

        """

    /// The commands that add (or delete) `addresses` to the sets.
    static func commands(_ addresses: [IPAddress], adding: Bool) -> String {
        var lines: [String] = []
        for (family, set) in [(AddressFamily.inet, "vips4"), (.inet6, "vips6")] {
            let members = addresses.filter { $0.family == family }.map(\.description)
            guard !members.isEmpty else { continue }
            lines.append("\(adding ? "add" : "delete") element inet \(table) \(set) { \(members.joined(separator: ", ")) }")
        }
        return lines.joined(separator: "\n")
    }

    func drop(_ addresses: [IPAddress], instance: String) {
        apply(Self.commands(addresses, adding: true), instance: instance, what: "drop traffic to")
    }

    func allow(_ addresses: [IPAddress], instance: String) {
        apply(Self.commands(addresses, adding: false), instance: instance, what: "stop dropping traffic to")
    }

    private func apply(_ commands: String, instance: String, what: String) {
        guard !commands.isEmpty else { return }
        do {
            try nft.run(commands)
        } catch {
            logger.error("(\(instance)) cannot \(what) its VIPs (nftables table inet \(Self.table)): \(error)")
        }
    }

    func remove() {
        do {
            try nft.run("delete table inet \(Self.table)")
        } catch {
            logger.error("cannot delete nftables table inet \(Self.table): \(error)")
        }
    }
}
