import KeepalivedConfig
import XCTest

/// static_ipaddress, static_routes, static_rules, virtual_rules and the full route grammar,
/// with the lines of Debian's keepalived samples (keepalived.conf.vrrp.routes, .rules,
/// .static_ipaddress).
final class StaticStateKeywordTests: XCTestCase {
    func testRoutesSample() {
        let result = parse("""
        static_routes {
            src 192.168.100.1 192.168.209.0/24 via 192.168.200.254 dev eth0
            192.168.210.0/24 via 192.168.200.254 dev eth0
            192.168.212.0/24 dev eth3 scope site
            192.168.213.0/24 dev eth1 scope link
        }
        """ + instance("""
        virtual_routes {
                src 192.168.100.1 192.168.109.0/24 via 192.168.200.254 dev eth1
                192.168.111.0/24 dev eth2
                192.168.113.0/24 via 192.168.100.252 or 192.168.100.253
        \tblackhole 192.168.113.1/32
                0.0.0.0/0 gw 192.168.0.1 table 100  # To set a default gateway into table 100.
            }
        """))
        XCTAssertEqual(result.diagnostics.errors.map(\.description), [])
        let config = result.configuration
        XCTAssertEqual(config.staticRoutes.count, 4)
        XCTAssertEqual(config.staticRoutes[0].source, IPAddress("192.168.100.1"))
        XCTAssertEqual(config.staticRoutes[0].destination.description, "192.168.209.0/24")
        XCTAssertEqual(config.staticRoutes[0].via, IPAddress("192.168.200.254"))
        XCTAssertEqual(config.staticRoutes[0].device, "eth0")
        XCTAssertEqual(config.staticRoutes[2].scope, .site)
        let routes = config.vrrpInstances[0].virtualRoutes
        XCTAssertEqual(routes.count, 5)
        // `or`: two nexthops, the first the `via` before it.
        XCTAssertNil(routes[2].via)
        XCTAssertEqual(routes[2].nexthops, [RouteNexthop(via: IPAddress("192.168.100.252")), RouteNexthop(via: IPAddress("192.168.100.253"))])
        assertDiagnostic(result, .warning, line: 12, contains: "\"or\" for routes is deprecated. Please use \"nexthop\"")
        XCTAssertEqual(routes[3].type, .blackhole)
        XCTAssertEqual(routes[3].destination.length, 32)
        XCTAssertEqual(routes[4].destination.length, 0)
        XCTAssertEqual(routes[4].table, 100)
        assertDiagnostic(result, .warning, line: 14, contains: "\"gw\" for routes is deprecated. Please use \"via\"")
    }

    func testRulesSampleRefusesTheMalformedAddressAsKeepalivedDoes() {
        let result = parse("""
        static_rules {
            from 192.168.100.0/24 table 1
            to 192.168.100./24 table 1
        }
        """ + instance("""
        virtual_rules {
                from 192.168.200.0/24 table 2
                to 192.168.200./24 table 2
            }
        """))
        assertDiagnostic(result, .error, line: 3, contains: "Invalid rule to address 192.168.100./24")
        assertDiagnostic(result, .error, line: 9, contains: "Invalid rule to address 192.168.200./24")
        assertDiagnostic(result, .warning, line: 2, contains: "Rule has no preference specified - setting to 16384. This is probably not what you want.")
        assertDiagnostic(result, .warning, line: 8, contains: "setting to 16383")
        let config = result.configuration
        XCTAssertEqual(config.staticRules.count, 1)
        XCTAssertEqual(config.staticRules[0].from?.description, "192.168.100.0/24")
        XCTAssertEqual(config.staticRules[0].action, .table(1))
        XCTAssertEqual(config.staticRules[0].effectivePreference, 16384)
        XCTAssertNil(config.staticRules[0].preference)
        XCTAssertEqual(config.vrrpInstances[0].virtualRules.map(\.effectivePreference), [16383])
    }

    func testStaticAddressSample() {
        let result = parse("""
        static_ipaddress {
            192.168.200.16 dev eth0 scope link
            192.168.200.17 dev eth1 scope link
            192.168.200.18 dev eth2
            192.168.200.19
        }
        """)
        XCTAssertEqual(result.diagnostics.errors.map(\.description), [])
        let addresses = result.configuration.staticAddresses
        XCTAssertEqual(addresses.map(\.address.description), ["192.168.200.16", "192.168.200.17", "192.168.200.18", "192.168.200.19"])
        XCTAssertEqual(addresses[0].scope, .link)
        XCTAssertEqual(addresses[2].device, "eth2")
        assertDiagnostic(result, .warning, line: 5, contains: "static address 192.168.200.19 has no 'dev'")
        XCTAssertTrue(result.configuration.hasVRRPConfiguration, "static entries alone start the VRRP part")
    }

    func testEveryRuleSelectorAndAction() {
        let config = parseClean("""
        static_rules {
            inet6 from all lookup main preference 10
            not from 192.0.2.0/24 to 198.51.100.0/24 priority 11 tos 0x10 fwmark 0x10/0xff iif lan0 oif lan1 table 150
            from 192.0.2.1 order 12 ipproto tcp sport 1000-2000 dport 80 uidrange 100-200 protocol 18 realms 1/2 table 160
            preference 13 suppress_prefixlength 0 suppress_ifgroup 3 table main
            preference 14 goto 20
            preference 15 nop
            preference 16 type blackhole
            preference 17 unreachable
            preference 18 prohibit tunnel-id 7 no_track protocol 4
            preference 19 l3mdev
        }
        """)
        let rules = config.staticRules
        XCTAssertEqual(rules.count, 10)
        XCTAssertEqual(rules[0].family, .inet6)
        XCTAssertNil(rules[0].from)
        XCTAssertEqual(rules[0].action, .table(254))
        XCTAssertTrue(rules[1].invert)
        XCTAssertEqual(rules[1].to?.description, "198.51.100.0/24")
        XCTAssertEqual(rules[1].tos, 16)
        XCTAssertEqual(rules[1].fwmark, 0x10)
        XCTAssertEqual(rules[1].fwmask, 0xFF)
        XCTAssertEqual(rules[1].inputInterface, "lan0")
        XCTAssertEqual(rules[1].outputInterface, "lan1")
        XCTAssertEqual(rules[2].from?.length, 32)
        XCTAssertEqual(rules[2].ipProtocol, 6)
        XCTAssertEqual(rules[2].sourcePorts, 1000...2000)
        XCTAssertEqual(rules[2].destinationPorts, 80...80)
        XCTAssertEqual(rules[2].uidRange, 100...200)
        XCTAssertEqual(rules[2].realms, 1 << 16 | 2)
        XCTAssertEqual(rules[2].effectiveProtocol, 18)
        XCTAssertEqual(rules[3].suppressPrefixLength, 0)
        XCTAssertEqual(rules[3].suppressInterfaceGroup, 3)
        XCTAssertEqual(rules[4].action, .goto(20))
        XCTAssertEqual(rules[5].action, .nop)
        XCTAssertEqual(rules[6].action, .blackhole)
        XCTAssertEqual(rules[7].action, .unreachable)
        XCTAssertEqual(rules[8].action, .prohibit)
        XCTAssertEqual(rules[8].tunnelID, 7)
        XCTAssertEqual(rules[8].effectiveProtocol, 4, "an untracked rule keeps the protocol it names")
        XCTAssertTrue(rules[9].l3mdev)
    }

    func testRuleErrorsAtTheirLines() {
        let result = parse("""
        static_rules {
            from 192.0.2.0/24 preference 1
            from 192.0.2.0/24 to 2001:db8::/32 table 5 preference 2
            table 5 goto 9 preference 3
            goto 9
            preference 10 goto 9
            table 0 preference 4
            nop suppress_prefixlength 1 preference 5
            fwmark 0x10/ table 5 preference 6
            table 5 frobnicate preference 7
            inet6 realms 1 table 5 preference 8
            table 5 protocol 4 preference 9
        }
        """)
        assertDiagnostic(result, .error, line: 2, contains: "No action specified for rule - ignoring")
        assertDiagnostic(result, .error, line: 3, contains: "rule specification has mixed IPv4 and IPv6")
        assertDiagnostic(result, .error, line: 4, contains: "Cannot specify more than one of table/nop/goto")
        assertDiagnostic(result, .error, line: 5, contains: "goto target 9 specified without preference")
        assertDiagnostic(result, .error, line: 6, contains: "preference 10 >= goto target 9")
        assertDiagnostic(result, .error, line: 7, contains: "Table 0 is not valid")
        assertDiagnostic(result, .error, line: 8, contains: "suppressor/realm specified for non table action - skipping")
        assertDiagnostic(result, .error, line: 9, contains: "Invalid rule fwmark 0x10/ specified")
        assertDiagnostic(result, .error, line: 10, contains: "Unknown rule option frobnicate")
        assertDiagnostic(result, .error, line: 11, contains: "realms is only valid for IPv4")
        assertDiagnostic(result, .warning, line: 12, contains: "Rule cannot be tracked if protocol is not RTPROT_KEEPALIVED(18), resetting protocol")
        XCTAssertEqual(result.configuration.staticRules.map(\.effectivePreference), [9])
    }

    func testRouteGrammar() {
        let result = parse("""
        static_routes {
            to unreachable 198.51.100.0/24 table 150
            198.51.100.0/25 nexthop via 192.0.2.1 dev lan0 weight 2 nexthop via 192.0.2.2 onlink
            inet6 default via 2001:db8::1 dev lan0 metric 10 protocol static no_track
            203.0.113.0/24 dev lan0 tos 0x10 onlink mtu lock 1400 priority 7
            throw 192.0.2.128/25 table 150
            default via 2001:db8::2 table 151
        }
        """)
        XCTAssertEqual(result.diagnostics.errors.map(\.description), [])
        let routes = result.configuration.staticRoutes
        XCTAssertEqual(routes[0].type, .unreachable)
        XCTAssertEqual(routes[1].nexthops, [RouteNexthop(via: IPAddress("192.0.2.1"), device: "lan0", weight: 2),
                                            RouteNexthop(via: IPAddress("192.0.2.2"), onlink: true)])
        XCTAssertEqual(routes[2].destination, IPPrefix(address: .v6(0, 0), length: 0))
        XCTAssertEqual(routes[2].effectiveProtocol, 4)
        XCTAssertEqual(routes[3].tos, 16)
        XCTAssertTrue(routes[3].onlink)
        XCTAssertEqual(routes[3].metric, 7)
        assertDiagnostic(result, .warning, line: 5, contains: "route option 'mtu' is not supported yet; ignored")
        XCTAssertEqual(routes[4].type, .throw)
        XCTAssertEqual(routes[5].destination, IPPrefix(address: .v6(0, 0), length: 0), "default takes the gateway's family")
    }

    func testRouteErrorsAtTheirLines() {
        let result = parse("""
        static_routes {
            via 192.0.2.1 dev lan0
            198.51.100.0/24 via 2001:db8::1
            198.51.100.0/24 nexthop via 192.0.2.1 weight 0
            198.51.100.0/24 nexthop via 192.0.2.1 frobnicate
            198.51.100.0/24 via 192.0.2.1 or 192.0.2.2 nexthop via 192.0.2.3
            198.51.100.0/24 table nosuchtable
            frobnicate 198.51.100.0/24
        }
        """)
        assertDiagnostic(result, .error, line: 2, contains: "Route must have a destination")
        assertDiagnostic(result, .error, line: 3, contains: "Cannot mix IPv4 and IPv6 addresses for route")
        assertDiagnostic(result, .error, line: 4, contains: "Invalid weight 0 specified for route")
        assertDiagnostic(result, .error, line: 5, contains: "Route has trailing nonsense after nexthops - frobnicate")
        assertDiagnostic(result, .error, line: 6, contains: "Cannot specify nexthops with \"or\" route")
        assertDiagnostic(result, .error, line: 7, contains: "Routing table nosuchtable not found for route")
        assertDiagnostic(result, .error, line: 8, contains: "unknown route keyword frobnicate")
        XCTAssertEqual(result.configuration.staticRoutes.count, 0)
    }

    func testDumpParsesBack() {
        let text = """
        static_ipaddress {
            203.0.113.5/24 dev lan0 scope link
        }
        static_routes {
            198.51.100.0/25 via 192.0.2.1 or 192.0.2.2 table 150
            inet6 default via 2001:db8::1 dev lan0 protocol static no_track
            198.51.100.128/25 nexthop via 192.0.2.1 dev lan0 weight 3 nexthop via 192.0.2.2 onlink
        }
        static_rules {
            not from 192.0.2.0/24 fwmark 16/255 ipproto 6 sport 1-2 uidrange 5-6 table 150
            preference 19 l3mdev
        }
        """ + instance("""
        virtual_rules {
                to 198.51.100.0/24 lookup 151 preference 100
            }
        """)
        let first = parse(text)
        XCTAssertEqual(first.diagnostics.errors.map(\.description), [])
        let dump = ConfigDump.render(first.configuration)
        XCTAssertTrue(dump.contains("198.51.100.0/25 table 150 nexthop via 192.0.2.1 nexthop via 192.0.2.2"), dump)
        XCTAssertTrue(dump.contains("not from 192.0.2.0/24 preference 16384 fwmark 16/255 ipproto 6 sport 1-2 uidrange 5-6 table 150  # preference assigned"), dump)
        XCTAssertTrue(dump.contains("virtual_rules {"), dump)
        let again = parse(dump)
        XCTAssertEqual(again.diagnostics.errors.map(\.description), [])
        func withoutComments(_ text: String) -> [Substring] {
            text.split(separator: "\n").map { line in line.range(of: "  # ").map { line[..<$0.lowerBound] } ?? line }
        }
        XCTAssertEqual(withoutComments(ConfigDump.render(again.configuration)), withoutComments(dump))
        XCTAssertEqual(again.configuration.staticRoutes.map { var copy = $0; copy.location = first.configuration.staticRoutes[0].location; return copy },
                       first.configuration.staticRoutes.map { var copy = $0; copy.location = first.configuration.staticRoutes[0].location; return copy })
    }
}
