import KeepalivedConfig
import XCTest

/// The keywords of VRRPv3, virtual MACs and split-brain handling, as keepalived reads them.
final class VRRPv3KeywordTests: XCTestCase {
    func testVersion3ChecksumDownTimerAndSplitBrainOptions() {
        let config = parseClean("""
        global_defs {
            v3_checksum_as_v2
            vrrp_down_timer_adverts 5
            vrrp_lower_prio_no_advert
            vrrp_higher_prio_send_advert true
            vmac_prefix vip
        }
        \(instance("version 3\n    advert_int 0.05\n    v3_checksum_as_v2 false\n    down_timer_adverts 4\n    lower_prio_no_advert off\n    higher_prio_send_advert\n    use_vmac"))
        \(instance("use_vmac lb-vmac\n    vmac_xmit_base", name: "VI_2", vrid: 52))
        \(instance("virtual_ipaddress {\n        2001:db8::1/64\n    }", name: "VI_6", vrid: 53))
        """)
        let defs = config.globalDefs
        XCTAssertEqual(defs.vrrpChecksumAsV2, true)
        XCTAssertEqual(defs.vrrpDownTimerAdverts, 5)
        XCTAssertEqual(defs.vrrpLowerPrioNoAdvert, true)
        XCTAssertEqual(defs.vrrpHigherPrioSendAdvert, true)
        let first = config.vrrpInstances[0]
        XCTAssertEqual(first.effectiveVersion(defs), 3)
        XCTAssertEqual(first.advertInterval, 0.05)
        XCTAssertEqual(first.checksumAsV2, false)
        XCTAssertEqual(first.downTimerAdverts, 4)
        XCTAssertEqual(first.lowerPrioNoAdvert, false)
        XCTAssertEqual(first.higherPrioSendAdvert, true)
        XCTAssertEqual(first.virtualMACInterface(defs), "vip.51", "vmac_prefix + . + VRID")
        let second = config.vrrpInstances[1]
        XCTAssertEqual(second.virtualMACInterface(defs), "lb-vmac")
        XCTAssertTrue(second.vmacTransmitsOnBase)
        XCTAssertEqual(second.effectiveVersion(defs), 2)
        XCTAssertEqual(config.vrrpInstances[2].effectiveVersion(defs), 3, "IPv6 instances are always version 3")
        XCTAssertNil(config.vrrpInstances[2].virtualMACInterface(defs))
    }

    func testVersion3LimitsAreDiagnosedAtTheirLines() {
        let result = parse("""
        \(instance("version 3\n    advert_int 41"))
        \(instance("version 3\n    advert_int 0.105", name: "VI_2", vrid: 52))
        \(instance("advert_int 0.5", name: "VI_3", vrid: 53))
        \(instance("version 3\n    authentication {\n        auth_type PASS\n        auth_pass 1111\n    }", name: "VI_4", vrid: 54))
        \(instance("down_timer_adverts 0\n    use_vmac this-name-is-far-too-long", name: "VI_5", vrid: 55))
        """)
        assertDiagnostic(result, .error, line: 5, contains: "longer than the 40.95 s VRRPv3 adverts can carry")
        assertDiagnostic(result, .warning, line: 12, contains: "is sent as 0.11: VRRPv3 carries centiseconds")
        assertDiagnostic(result, .error, line: 18, contains: "not a whole number of seconds")
        // keepalived ignores authentication under version 3: a warning, not an error.
        assertDiagnostic(result, .warning, line: 25, contains: "VRRP version 3 has no authentication; the block is ignored")
        assertDiagnostic(result, .error, line: 34, contains: "down_timer_adverts")
        assertDiagnostic(result, .error, line: 35, contains: "not a valid interface name")
    }

    func testUseIPVLANTakesANameAnAddressAndAModeInAnyOrder() {
        let config = parseClean("""
        \(instance("use_ipvlan ipv.51 192.0.2.71/24 private"))
        \(instance("use_ipvlan vepa 192.0.2.72", name: "VI_2", vrid: 52))
        """)
        let defs = config.globalDefs
        let first = config.vrrpInstances[0]
        XCTAssertEqual(first.virtualMACInterface(defs), "ipv.51")
        XCTAssertEqual(first.ipvlan?.address?.address, IPAddress("192.0.2.71"))
        XCTAssertEqual(first.ipvlan?.address?.prefixLength, 24)
        XCTAssertEqual(first.ipvlan?.mode, .private)
        let second = config.vrrpInstances[1]
        XCTAssertEqual(second.virtualMACInterface(defs), "vrrp.52", "named as use_vmac's macvlan")
        XCTAssertEqual(second.ipvlan?.mode, .vepa)

        let result = parse("""
        \(instance("use_ipvlan ipv.51 bridge private"))
        \(instance("use_vmac\n    use_ipvlan 2001:db8::1", name: "VI_2", vrid: 52))
        """)
        assertDiagnostic(result, .error, line: 4, contains: "more than one of bridge, private and vepa")
        assertDiagnostic(result, .error, line: 7, contains: "use_vmac and use_ipvlan both")
        assertDiagnostic(result, .error, line: 11, contains: "use_ipvlan address 2001:db8::1 is not of the instance's family")
    }
}
