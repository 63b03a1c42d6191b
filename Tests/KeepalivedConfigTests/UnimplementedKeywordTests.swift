import KeepalivedConfig
import XCTest

/// keepalived keywords we accept without acting on them: one warning each, saying why, their
/// blocks skipped, the rest of the config read as usual; and the few mapped onto what we act on.
final class UnimplementedKeywordTests: XCTestCase {
    func testOneWarningEachAndTheirBlocksSkipped() {
        let result = parse("""
        global_defs {
            enable_snmp_vrrp
            vrrp_cpu_affinity 1
            vrrp_cpu_affinity 2
            router_id lb1
        }
        bfd_instance BFD_1 {
            neighbor_ip 192.0.2.2
            min_rx 10
        }
        vrrp_instance VI_1 {
            interface lan0
            virtual_router_id 51
            auth_hmac {
                key /etc/keepalived/hmac.key
                mode sha256
            }
            use_vmac_addr
            priority 150
            virtual_ipaddress {
                192.0.2.100
            }
        }
        virtual_server 192.0.2.1 80 {
            protocol TCP
            hashed
            real_server 198.51.100.1 80 {
                snmp_name web1
                BFD_CHECK {
                    name BFD_1
                }
                weight 3
            }
        }
        """)
        XCTAssertEqual(result.diagnostics.all.map(\.description), [
            "\(mainPath):2: warning: 'enable_snmp_vrrp' has no effect in swiftkeepalived (there is no SNMP agent); ignored",
            "\(mainPath):3: warning: 'vrrp_cpu_affinity' has no effect in swiftkeepalived (CPU affinity; set it in the service manager); ignored",
            "\(mainPath):4: warning: 'vrrp_cpu_affinity' has no effect in swiftkeepalived (CPU affinity; set it in the service manager); ignored",
            "\(mainPath):7: warning: 'bfd_instance' is not supported yet in swiftkeepalived (BFD); ignored",
            "\(mainPath):14: warning: 'auth_hmac' is not supported yet in swiftkeepalived (HMAC authentication); ignored",
            "\(mainPath):18: warning: 'use_vmac_addr' is not supported yet in swiftkeepalived (VMAC and ipvlan interfaces); ignored",
            "\(mainPath):26: warning: 'hashed' has no effect in swiftkeepalived (IPVS hashes every service; keepalived ignores it too); ignored",
            "\(mainPath):28: warning: 'snmp_name' has no effect in swiftkeepalived (there is no SNMP agent); ignored",
            "\(mainPath):29: warning: 'BFD_CHECK' is not supported yet in swiftkeepalived (BFD); ignored",
        ])
        let config = result.configuration
        XCTAssertEqual(config.globalDefs.routerID, "lb1")
        XCTAssertEqual(config.vrrpInstances.map(\.priority), [150])
        XCTAssertEqual(config.vrrpInstances.first?.virtualIPAddresses.map(\.address.description), ["192.0.2.100"])
        XCTAssertEqual(config.virtualServers.first?.realServers.first?.weight, 3)
        XCTAssertEqual(config.virtualServers.first?.realServers.first?.checkers.count, 0)
    }

    /// The dump leaves them out and still reads back to the same model.
    func testTheDumpLeavesThemOut() {
        let config = parseClean("global_defs {\n enable_dbus\n vrrp_startup_delay 5\n}\n" + instance("debug 2\nvirtual_ipaddress {\n192.0.2.100\n}"))
        let dump = ConfigDump.render(config)
        XCTAssertFalse(dump.contains("enable_dbus") || dump.contains("vrrp_startup_delay") || dump.contains("debug"), dump)
        XCTAssertEqual(withoutComments(ConfigDump.render(parseClean(dump))), withoutComments(dump))
    }

    /// A dump read back marks nothing as default: its values are all written.
    private func withoutComments(_ dump: String) -> String {
        dump.split(separator: "\n").map { line in
            line.range(of: "  # ").map { String(line[..<$0.lowerBound]) } ?? String(line)
        }.joined(separator: "\n")
    }

    func testVrrpMinGarpSetsWhatWasNotWrittenBefore() {
        let defaults = parseClean("global_defs {\n vrrp_min_garp\n}\n").globalDefs
        XCTAssertEqual(defaults.vrrpGarpMasterRepeat, 1)
        XCTAssertEqual(defaults.vrrpGarpMasterDelay, 0)
        XCTAssertEqual(defaults.vrrpGarpMasterRefresh, 0)
        let written = parseClean("global_defs {\n vrrp_garp_master_repeat 3\n vrrp_min_garp true\n vrrp_garp_master_delay 2\n}\n").globalDefs
        XCTAssertEqual(written.vrrpGarpMasterRepeat, 3, "written before: kept")
        XCTAssertEqual(written.vrrpGarpMasterDelay, 2, "written after: wins")
        XCTAssertNil(parseClean("global_defs {\n vrrp_min_garp false\n}\n").globalDefs.vrrpGarpMasterRepeat)
        assertDiagnostic(parse("global_defs {\n vrrp_min_garp maybe\n}\n"), .error, line: 2, contains: "vrrp_min_garp takes on|off")
    }

    func testNoVirtualIPAddressSilencesTheWarning() {
        let bare = parse(instance())
        assertDiagnostic(bare, .warning, line: 1, contains: "has no virtual_ipaddress")
        let meant = parse(instance("no_virtual_ipaddress"))
        XCTAssertEqual(meant.diagnostics.all.map(\.description), [])
        XCTAssertTrue(meant.configuration.vrrpInstances[0].allowsNoVirtualAddresses)
        let dump = ConfigDump.render(meant.configuration)
        XCTAssertTrue(dump.contains("no_virtual_ipaddress"), dump)
        XCTAssertEqual(withoutComments(ConfigDump.render(parseClean(dump))), withoutComments(dump))
        let strict = parse("global_defs {\n vrrp_strict\n}\n" + instance("no_virtual_ipaddress"))
        assertDiagnostic(strict, .warning, line: 4, contains: "strict mode (vrrp_strict) does not allow no_virtual_ipaddress; it is ignored")
        assertDiagnostic(strict, .error, line: 4, contains: "strict mode (vrrp_strict) needs at least one virtual_ipaddress")
    }
}
