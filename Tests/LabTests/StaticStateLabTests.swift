import Foundation
import XCTest

/// static_ipaddress / static_routes / static_rules and virtual_rules with a multipath
/// virtual_route, in a lab's namespaces: what `ip addr`, `ip route` and `ip rule` show there.
final class StaticStateLabTests: LabTestCase {
    private func ip(_ node: String, _ arguments: String) -> String {
        (try? lab.exec(node, ["ip"] + arguments.split(separator: " ").map(String.init)).output) ?? ""
    }

    /// No instance at all: the VRRP part still runs for the static entries, as keepalived's
    /// VRRP process does; they are put back when deleted by hand (not the no_track one) and
    /// gone after SIGTERM.
    func testStaticStateIsSetRestoredAndRemovedAtStop() throws {
        lab = try Lab(directors: 1)
        let daemon = try lab.start(.ours, on: "d1", config: """
        static_ipaddress {
            203.0.113.5/24 dev lan0
        }
        static_routes {
            198.51.100.0/25 via 192.0.2.1 dev lan0 table 150
            blackhole 198.51.100.128/25 table 150
            203.0.113.128/25 via 192.0.2.1 dev lan0 table 151 no_track
        }
        static_rules {
            from 198.51.100.0/24 table 150 preference 1000
            not to 203.0.113.0/24 fwmark 0x10/0xff lookup 151 priority 1001
        }
        """)
        lab.wait(upTo: 5, for: "the static address, routes and rules") {
            ip("d1", "-4 addr show dev lan0").contains("203.0.113.5/24")
                && ip("d1", "route show table 150").contains("198.51.100.0/25 via 192.0.2.1 dev lan0")
                && ip("d1", "rule show").contains("1001:")
        }
        let table150 = ip("d1", "route show table 150")
        XCTAssertTrue(table150.contains("blackhole 198.51.100.128/25 proto keepalived"), table150)
        XCTAssertTrue(ip("d1", "route show table 151").contains("203.0.113.128/25 via 192.0.2.1"))
        let rules = ip("d1", "rule show")
        XCTAssertTrue(rules.contains("1000:\tfrom 198.51.100.0/24 lookup 150 proto keepalived"), rules)
        XCTAssertTrue(rules.contains("1001:\tnot from all to 203.0.113.0/24 fwmark 0x10/0xff lookup 151 proto keepalived"), rules)

        // Deleted by hand: put back, with keepalived's lines.
        try lab.exec("d1", ["ip", "route", "del", "198.51.100.0/25", "table", "150"])
        lab.wait(upTo: 3, for: "the static route to come back") { ip("d1", "route show table 150").contains("198.51.100.0/25 via 192.0.2.1") }
        XCTAssertTrue(daemon.log.contains("Restoring deleted static route prepend 198.51.100.0/25 via inet 192.0.2.1 dev lan0 table 150 proto 18"), daemon.log)
        try lab.exec("d1", ["ip", "rule", "del", "preference", "1000"])
        lab.wait(upTo: 3, for: "the static rule to come back") { ip("d1", "rule show").contains("1000:") }
        XCTAssertTrue(daemon.log.contains("Restoring deleted static rule from 198.51.100.0/24 priority 1000"), daemon.log)
        try lab.exec("d1", ["ip", "addr", "del", "203.0.113.5/24", "dev", "lan0"])
        lab.wait(upTo: 3, for: "the static address to come back") { ip("d1", "-4 addr show dev lan0").contains("203.0.113.5/24") }
        XCTAssertTrue(daemon.log.contains("Restoring deleted static address 203.0.113.5/24 dev lan0 scope global"), daemon.log)
        // no_track: left deleted.
        try lab.exec("d1", ["ip", "route", "del", "203.0.113.128/25", "table", "151"])
        Thread.sleep(forTimeInterval: 1)
        XCTAssertFalse(ip("d1", "route show table 151").contains("203.0.113.128"))

        daemon.kill(SIGTERM)
        XCTAssertTrue(daemon.waitForExit(timeout: 5))
        XCTAssertFalse(ip("d1", "-4 addr show dev lan0").contains("203.0.113.5"))
        XCTAssertFalse(ip("d1", "route show table 150").contains("198.51.100"))
        let after = ip("d1", "rule show")
        XCTAssertFalse(after.contains("1000:") || after.contains("1001:"), after)
    }

    /// SIGHUP: static entries that left the file are removed, new ones set, the others untouched.
    func testReloadChangesOnlyWhatTheFileChanged() throws {
        lab = try Lab(directors: 1)
        let daemon = try lab.start(.ours, on: "d1", config: """
        static_routes {
            198.51.100.0/25 via 192.0.2.1 dev lan0 table 150
        }
        static_rules {
            from 198.51.100.0/24 table 150 preference 1000
            from 203.0.113.0/24 table 150 preference 1001
        }
        """)
        lab.wait(upTo: 5, for: "the static rules") { ip("d1", "rule show").contains("1001:") }
        try """
        static_routes {
            198.51.100.0/25 via 192.0.2.1 dev lan0 table 150
            198.51.100.128/25 via 192.0.2.1 dev lan0 table 150
        }
        static_rules {
            from 198.51.100.0/24 table 150 preference 1000
        }
        """.write(toFile: daemon.configPath, atomically: true, encoding: .utf8)
        daemon.kill(SIGHUP)
        lab.wait(upTo: 5, for: "the reload") {
            !ip("d1", "rule show").contains("1001:") && ip("d1", "route show table 150").contains("198.51.100.128/25")
        }
        XCTAssertTrue(ip("d1", "rule show").contains("1000:"))
        XCTAssertTrue(ip("d1", "route show table 150").contains("198.51.100.0/25"))
        XCTAssertFalse(daemon.log.contains("Restoring deleted"), "nothing of ours was deleted by someone else: \(daemon.log)")
        daemon.kill(SIGTERM)
        XCTAssertTrue(daemon.waitForExit(timeout: 5))
        XCTAssertFalse(ip("d1", "route show table 150").contains("198.51.100"))
        XCTAssertFalse(ip("d1", "rule show").contains("1000:"))
    }

    /// virtual_rules and a multipath virtual_route (keepalived's `or` and `nexthop` lists) are on
    /// the MASTER only: they move with it and leave when it stops.
    func testVirtualRulesAndMultipathRoutesFollowTheMaster() throws {
        lab = try Lab(directors: 2)
        func config(priority: Int) -> String {
            """
            vrrp_instance VI_1 {
                state BACKUP
                interface lan0
                virtual_router_id 51
                priority \(priority)
                advert_int 1
                virtual_ipaddress {
                    192.0.2.200
                }
                virtual_routes {
                    198.51.100.0/25 via 192.0.2.1 or 192.0.2.2 table 160
                    198.51.100.128/25 table 160 nexthop via 192.0.2.1 dev lan0 weight 3 nexthop via 192.0.2.2 dev lan0
                }
                virtual_rules {
                    from 203.0.113.0/24 lookup 160 preference 2000
                    to 198.51.100.0/24 iif lan0 ipproto udp dport 53 table 160 preference 2001
                }
            }
            """
        }
        let first = try lab.start(.ours, on: "d1", config: config(priority: 100))
        let second = try lab.start(.ours, on: "d2", config: config(priority: 90))
        lab.wait(upTo: 6, for: "d1 to become master") { lab.addresses("d1").contains("192.0.2.200") }
        lab.wait(upTo: 2, for: "d1's rules") { ip("d1", "rule show").contains("2001:") }
        let routes = ip("d1", "route show table 160")
        XCTAssertTrue(routes.contains("198.51.100.0/25 proto keepalived \n\tnexthop via 192.0.2.1 dev lan0 weight 1 \n\tnexthop via 192.0.2.2 dev lan0 weight 1"), routes)
        XCTAssertTrue(routes.contains("198.51.100.128/25 proto keepalived \n\tnexthop via 192.0.2.1 dev lan0 weight 3 \n\tnexthop via 192.0.2.2 dev lan0 weight 1"), routes)
        let rules = ip("d1", "rule show")
        XCTAssertTrue(rules.contains("2000:\tfrom 203.0.113.0/24 lookup 160 proto keepalived"), rules)
        XCTAssertTrue(rules.contains("2001:\tfrom all to 198.51.100.0/24 iif lan0 ipproto udp dport 53 lookup 160 proto keepalived"), rules)
        XCTAssertFalse(ip("d2", "route show table 160").contains("198.51.100"), "the backup holds no virtual route")
        XCTAssertFalse(ip("d2", "rule show").contains("2000:"), "the backup holds no virtual rule")

        // The master stops: d2 takes the rules and routes over, d1 keeps none.
        first.kill(SIGTERM)
        XCTAssertTrue(first.waitForExit(timeout: 5))
        lab.wait(upTo: 6, for: "d2 to take the rules and routes") {
            ip("d2", "rule show").contains("2001:") && ip("d2", "route show table 160").contains("198.51.100.128/25")
        }
        XCTAssertFalse(ip("d1", "route show table 160").contains("198.51.100"))
        XCTAssertFalse(ip("d1", "rule show").contains("2000:"))
        second.kill(SIGTERM)
        XCTAssertTrue(second.waitForExit(timeout: 5))
        XCTAssertFalse(ip("d2", "route show table 160").contains("198.51.100"))
        XCTAssertFalse(ip("d2", "rule show").contains("2000:") || ip("d2", "rule show").contains("2001:"))
    }
}
