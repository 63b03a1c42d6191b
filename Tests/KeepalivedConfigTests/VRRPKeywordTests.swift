import KeepalivedConfig
import XCTest

final class VRRPKeywordTests: XCTestCase {
    func testGlobalDefinitions() {
        let defs = parseClean("""
        global_defs {
            router_id LVS_DEVEL
            lvs_id OLD_NAME
            notification_email {
                a@example.org
                b@example.org c@example.org
            }
            notification_email_from lb@example.org
            smtp_server 192.0.2.25 2525
            smtp_connect_timeout 10
            vrrp_skip_check_adv_addr
            vrrp_strict off
            vrrp_garp_interval 0
            vrrp_gna_interval 0.001
            vrrp_garp_master_delay 2
            vrrp_garp_master_repeat 3
            vrrp_garp_master_refresh 60
            vrrp_garp_master_refresh_repeat 2
            vrrp_version 3
            vrrp_mcast_group4 224.0.0.19
            enable_script_security
            script_user keepalived_script nogroup
        }
        """).globalDefs
        XCTAssertEqual(defs.routerID, "OLD_NAME")
        XCTAssertEqual(defs.notificationEmail, ["a@example.org", "b@example.org", "c@example.org"])
        XCTAssertEqual(defs.notificationEmailFrom, "lb@example.org")
        XCTAssertEqual(defs.smtpServer, SMTPServer(host: "192.0.2.25", port: 2525))
        XCTAssertEqual(defs.smtpConnectTimeout, 10)
        XCTAssertEqual(defs.vrrpSkipCheckAdvAddr, true)
        XCTAssertEqual(defs.vrrpStrict, false)
        XCTAssertEqual(defs.vrrpGarpInterval, 0)
        XCTAssertEqual(defs.vrrpGnaInterval, 0.001)
        XCTAssertEqual(defs.vrrpGarpMasterDelay, 2)
        XCTAssertEqual(defs.vrrpGarpMasterRepeat, 3)
        XCTAssertEqual(defs.vrrpGarpMasterRefresh, 60)
        XCTAssertEqual(defs.vrrpGarpMasterRefreshRepeat, 2)
        XCTAssertEqual(defs.vrrpVersion, 3)
        XCTAssertEqual(defs.vrrpMcastGroup4, IPAddress("224.0.0.19"))
        XCTAssertEqual(defs.enableScriptSecurity, true)
        XCTAssertEqual(defs.scriptUser?.user, "keepalived_script")
        XCTAssertEqual(defs.scriptUser?.group, "nogroup")
    }

    func testDeprecatedLvsIDWarns() {
        let result = parse("global_defs {\n lvs_id X\n}\n")
        assertDiagnostic(result, .warning, line: 2, contains: "'lvs_id' is a deprecated spelling of 'router_id'")
    }

    func testScriptAndSyncGroup() {
        let config = parseClean("""
        vrrp_script chk {
            script "/usr/bin/killall -0 haproxy"
            interval 2
            timeout 3
            weight -20 reverse
            rise 2
            fall 3
            user nobody
            init_fail
        }
        vrrp_sync_group G {
            group {
                VI_1 VI_2
            }
            notify_master /bin/master
            notify "/bin/any x"
        }
        \(instance("track_script {\n chk\n chk weight 5 reverse\n}"))
        \(instance(name: "VI_2", vrid: 52))
        """)
        let script = config.vrrpScripts[0]
        XCTAssertEqual(script.script, ScriptCommand(command: "/usr/bin/killall -0 haproxy", user: "nobody"))
        XCTAssertEqual(script.interval, 2)
        XCTAssertEqual(script.timeout, 3)
        XCTAssertEqual(script.weight, -20)
        XCTAssertTrue(script.weightReverse)
        XCTAssertEqual(script.rise, 2)
        XCTAssertEqual(script.fall, 3)
        XCTAssertTrue(script.initFail)
        XCTAssertEqual(config.syncGroups[0].members, ["VI_1", "VI_2"])
        XCTAssertEqual(config.syncGroups[0].notify.master?.command, "/bin/master")
        XCTAssertEqual(config.syncGroups[0].notify.any?.command, "/bin/any x")
        XCTAssertEqual(config.vrrpInstances[0].trackScripts.map(\.weight), [nil, 5])
        XCTAssertEqual(config.vrrpInstances[0].trackScripts.map(\.reverse), [false, true])
    }

    func testInstanceSettings() {
        let instance = parseClean("""
        vrrp_instance VI_1 {
            state MASTER
            interface lan0
            virtual_router_id 51
            priority 150
            advert_int 2
            nopreempt
            preempt_delay 4.5
            unicast_src_ip 192.0.2.2
            unicast_peer {
                192.0.2.3
                192.0.2.4 min_ttl 250 max_ttl 255
            }
            track_interface {
                lan1
                wan0 weight -30
            }
            dont_track_primary
            notify_master "/bin/notify master" root wheel
            notify_backup /bin/b
            notify_fault /bin/f
            notify_stop /bin/s
            smtp_alert
            garp_master_delay 1
            garp_master_repeat 2
            garp_master_refresh 30
            garp_master_refresh_repeat 3
            garp_interval 0.01
            gna_interval 0.02
        }
        """).vrrpInstances[0]
        XCTAssertEqual(instance.state, .master)
        XCTAssertEqual(instance.priority, 150)
        XCTAssertEqual(instance.advertInterval, 2)
        XCTAssertTrue(instance.noPreempt)
        XCTAssertEqual(instance.preemptDelay, 4.5)
        XCTAssertEqual(instance.unicastSourceIP, IPAddress("192.0.2.2"))
        XCTAssertEqual(instance.unicastPeers.map(\.address.description), ["192.0.2.3", "192.0.2.4"])
        XCTAssertEqual(instance.unicastPeers[1].minTTL, 250)
        XCTAssertEqual(instance.trackInterfaces.map(\.name), ["lan1", "wan0"])
        XCTAssertEqual(instance.trackInterfaces[1].weight, -30)
        XCTAssertTrue(instance.dontTrackPrimary)
        XCTAssertEqual(instance.notify.master, ScriptCommand(command: "/bin/notify master", user: "root", group: "wheel"))
        XCTAssertEqual(instance.notify.stop?.command, "/bin/s")
        XCTAssertEqual(instance.smtpAlert, true)
        XCTAssertEqual(instance.garpMasterDelay, 1)
        XCTAssertEqual(instance.garpMasterRepeat, 2)
        XCTAssertEqual(instance.garpMasterRefresh, 30)
        XCTAssertEqual(instance.garpMasterRefreshRepeat, 3)
        XCTAssertEqual(instance.garpInterval, 0.01)
        XCTAssertEqual(instance.gnaInterval, 0.02)
    }

    func testDefaultsOfAnInstance() {
        let instance = parseClean(instance()).vrrpInstances[0]
        XCTAssertNil(instance.state)
        XCTAssertEqual(instance.effectivePriority, 100)
        XCTAssertEqual(instance.effectiveAdvertInterval, 1)
        XCTAssertFalse(instance.noPreempt)
    }

    func testVirtualAddressOptions() {
        let addresses = parseClean(instance("""
        virtual_ipaddress {
            192.0.2.16
            192.0.2.17/24 brd 192.0.2.255 dev lan1 label lan1:vip scope link
            192.0.2.18/32 no_track
        }
        virtual_ipaddress_excluded {
            2001:db8::1/64 dev lan0
        }
        """)).vrrpInstances[0]
        XCTAssertEqual(addresses.virtualIPAddresses[0].effectivePrefixLength, 32)
        XCTAssertNil(addresses.virtualIPAddresses[0].prefixLength)
        let second = addresses.virtualIPAddresses[1]
        XCTAssertEqual(second.prefixLength, 24)
        XCTAssertEqual(second.broadcast, IPAddress("192.0.2.255"))
        XCTAssertEqual(second.device, "lan1")
        XCTAssertEqual(second.label, "lan1:vip")
        XCTAssertEqual(second.scope, .link)
        XCTAssertTrue(addresses.virtualIPAddresses[2].noTrack)
        XCTAssertEqual(addresses.excludedIPAddresses[0].address.family, .inet6)
    }

    func testVirtualRoutes() {
        let result = parse(instance("""
        virtual_routes {
            src 192.0.2.10 to 198.51.100.0/24 via 192.0.2.1 dev lan0 scope link table 100 metric 5
            203.0.113.0/24 gw 192.0.2.1 no_track
            blackhole 203.0.113.128/25
        }
        """))
        XCTAssertEqual(result.diagnostics.errors.map(\.description), [])
        assertDiagnostic(result, .warning, line: 6, contains: "\"gw\" for routes is deprecated. Please use \"via\"")
        let routes = result.configuration.vrrpInstances[0].virtualRoutes
        XCTAssertEqual(routes[0].source, IPAddress("192.0.2.10"))
        XCTAssertEqual(routes[0].destination.description, "198.51.100.0/24")
        XCTAssertEqual(routes[0].via, IPAddress("192.0.2.1"))
        XCTAssertEqual(routes[0].device, "lan0")
        XCTAssertEqual(routes[0].scope, .link)
        XCTAssertEqual(routes[0].table, 100)
        XCTAssertEqual(routes[0].metric, 5)
        XCTAssertTrue(routes[1].noTrack)
        XCTAssertEqual(routes[2].type, .blackhole)
    }

    func testLongPasswordIsCutToEightBytesWithAWarning() {
        let result = parse(instance("authentication {\n auth_type PASS\n auth_pass 0123456789\n}"))
        XCTAssertEqual(result.configuration.vrrpInstances[0].authentication?.password, "01234567")
        assertDiagnostic(result, .warning, line: 6, contains: "longer than 8 bytes")
    }

    func testStrictModeIgnoresAuthenticationWithAWarning() {
        let result = parse("global_defs {\n vrrp_strict\n}\n" + instance("virtual_ipaddress {\n 192.0.2.1\n}\nauthentication {\n auth_type PASS\n auth_pass x\n}"))
        assertDiagnostic(result, .warning, line: 10, contains: "strict mode (vrrp_strict) allows no authentication")
        XCTAssertFalse(result.diagnostics.hasErrors)
    }

    func testZeroGarpIntervalIsValid() {
        let result = parse("global_defs {\n vrrp_garp_interval 0\n vrrp_gna_interval 0\n}\n")
        XCTAssertEqual(result.diagnostics.all, [])
    }
}
