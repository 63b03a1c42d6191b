import KeepalivedConfig
import XCTest

/// swiftkeepalived's `announce_route` block and `announce_maintenance_file` (no keepalived equivalent).
final class RouteAnnouncementKeywordTests: XCTestCase {
    func testEverySettingAndTheDefaults() {
        let config = parseClean("""
        global_defs {
            announce_maintenance_file /etc/keepalived/maintenance
        }
        \(instance())
        virtual_server 10.0.0.100 80 {
            protocol TCP
            announce_route {
                table 100
                protocol 201
                device vip0
                hold_address
                vrrp_instance VI_1
                up_delay 2.5
            }
            real_server 10.0.1.1 80 {
            }
        }
        virtual_server 10.0.0.101 80 {
            protocol TCP
            announce_route {
            }
        }
        """)
        XCTAssertEqual(config.globalDefs.announceMaintenanceFile, "/etc/keepalived/maintenance")
        let announcement = try? XCTUnwrap(config.virtualServers[0].announcement)
        XCTAssertEqual(announcement?.effectiveTable, 100)
        XCTAssertEqual(announcement?.effectiveProtocol, 201)
        XCTAssertEqual(announcement?.effectiveDevice, "vip0")
        XCTAssertEqual(announcement?.holdAddress, true)
        XCTAssertEqual(announcement?.vrrpInstance, "VI_1")
        XCTAssertEqual(announcement?.effectiveUpDelay, 2.5)
        XCTAssertEqual(announcement?.location.line, 12)
        let defaults = config.virtualServers[1].announcement
        XCTAssertEqual(defaults?.effectiveTable, 254)
        XCTAssertEqual(defaults?.effectiveProtocol, 250)
        XCTAssertEqual(defaults?.effectiveDevice, "lo")
        XCTAssertEqual(defaults?.effectiveUpDelay, 3)
        XCTAssertEqual(config.virtualServers[1].announcedPrefixes(groups: [:]).map(\.description), ["10.0.0.101/32"])
        XCTAssertEqual(defaults?.holdsLocally(IPPrefix(address: IPAddress("10.0.0.101")!, length: 32)), false, "hold_address is off by default")
        let route = defaults?.route(for: IPPrefix(address: IPAddress("10.0.0.101")!, length: 32))
        XCTAssertEqual(route?.effectiveProtocol, 250, "the announcement's protocol, not VRRP's 18")
        XCTAssertEqual(route?.device, "lo")
        XCTAssertEqual(route?.table, 254)
    }

    func testGroupAddressesAndExplicitPrefixes() {
        let config = parseClean("""
        virtual_server_group WEB {
            10.0.0.100-102 80
            fwmark 7
        }
        virtual_server group WEB {
            protocol TCP
            announce_route {
                hold_address
            }
        }
        virtual_server fwmark 9 {
            announce_route {
                prefix 10.9.0.0/24
                prefix 2001:db8::1
            }
        }
        """)
        let groups = config.virtualServerGroupsByName
        XCTAssertEqual(config.virtualServers[0].announcedPrefixes(groups: groups).map(\.description),
                       ["10.0.0.100/32", "10.0.0.101/32", "10.0.0.102/32"])
        XCTAssertEqual(config.virtualServers[1].announcedPrefixes(groups: groups).map(\.description), ["10.9.0.0/24", "2001:db8::1/128"])
        let held = config.virtualServers[0].announcement
        XCTAssertEqual(held?.holdsLocally(IPPrefix(address: IPAddress("10.0.0.100")!, length: 32)), true)
        XCTAssertEqual(held?.holdsLocally(IPPrefix(address: IPAddress("10.0.0.0")!, length: 24)), false, "a network is not held")
    }

    func testErrorsAtTheirLines() {
        let bad = parse("""
        virtual_server 10.0.0.100 80 {
            protocol TCP
            announce_route {
                table nosuchtable
                protocol 2
                device this-name-is-too-long
                prefix 10.0.0.1/24
                vrrp_instance VI_9
                up_delay soon
            }
        }
        virtual_server fwmark 3 {
            announce_route {
            }
        }
        global_defs {
            announce_maintenance_file maintenance
        }
        """)
        assertDiagnostic(bad, .error, line: 4, contains: "routing table 'nosuchtable'")
        assertDiagnostic(bad, .error, line: 5, contains: "route protocol '2' must be 5-255")
        assertDiagnostic(bad, .error, line: 6, contains: "is not a valid interface name")
        assertDiagnostic(bad, .error, line: 7, contains: "has host bits set; write 10.0.0.0/24")
        assertDiagnostic(bad, .error, line: 3, contains: "names vrrp_instance VI_9, which is not defined")
        assertDiagnostic(bad, .error, line: 9, contains: "soon")
        assertDiagnostic(bad, .error, line: 13, contains: "nothing to announce (a fwmark service has no address)")
        assertDiagnostic(bad, .error, line: 17, contains: "announce_maintenance_file needs an absolute path")
    }

    func testDumpShowsTheBlock() {
        let config = parseClean("virtual_server 10.0.0.100 80 {\n protocol TCP\n announce_route {\n  prefix 10.0.0.0/24\n }\n}\n")
        let dump = ConfigDump.render(config)
        XCTAssertTrue(dump.contains("announce_route {"), dump)
        XCTAssertTrue(dump.contains("protocol 250  # default") || dump.contains("protocol 250"), dump)
        XCTAssertTrue(dump.contains("prefix 10.0.0.0/24"), dump)
    }
}
