import KeepalivedConfig
import XCTest

/// DNS_CHECK, UDP_CHECK, PING_CHECK and SMTP_CHECK as written, and the verdicts keepalived gives
/// on configs it runs: port 0, an address listed twice, the old sync group syntax, a
/// vrrp_script with nothing to run.
final class OtherCheckerKeywordTests: XCTestCase {
    private func checkers(_ body: String, port: Int = 53) -> [HealthChecker] {
        parseClean("virtual_server 192.0.2.1 \(port) {\n protocol UDP\n real_server 198.51.100.1 \(port) {\n\(body)\n }\n}\n")
            .virtualServers[0].realServers[0].checkers
    }

    func testDNSCheck() {
        let found = checkers("DNS_CHECK {\n type MX\n name example.org\n retry 2\n }\n DNS_CHECK {\n }")
        guard case .dnsCheck(let dns) = found[0].kind, case .dnsCheck(let defaults) = found[1].kind else { return XCTFail("\(found)") }
        XCTAssertEqual(dns.type, .mx)
        XCTAssertEqual(dns.name, "example.org")
        XCTAssertEqual(found[0].timing.retry, 2)
        XCTAssertNil(defaults.type)
        XCTAssertNil(defaults.name)
        let server = parseClean("virtual_server 192.0.2.1 53 {\n protocol UDP\n real_server 198.51.100.1 53 {\n DNS_CHECK {\n }\n }\n}\n").virtualServers[0]
        XCTAssertEqual(found[1].effectiveTiming(realServer: server.realServers[0], virtualServer: server).retry, 3, "DNS_CHECK retries 3 times by default")
        assertDiagnostic(parse("virtual_server 192.0.2.1 53 {\n protocol UDP\n real_server 198.51.100.1 53 {\n DNS_CHECK {\n type PTR\n }\n }\n}\n"),
                         .error, line: 5, contains: "unknown type 'PTR'; expected one of: A NS CNAME SOA MX TXT AAAA")
        assertDiagnostic(parse("virtual_server 192.0.2.1 53 {\n protocol UDP\n real_server 198.51.100.1 53 {\n DNS_CHECK {\n name a..b\n }\n }\n}\n"),
                         .error, line: 5, contains: "DNS name 'a..b' is not a valid domain name")
    }

    func testUDPCheck() {
        let found = checkers("UDP_CHECK {\n payload 0a0B\n require_reply 0aXX\n min_reply_length 2\n max_reply_length 100\n }\n UDP_CHECK {\n }")
        guard case .udpCheck(let udp) = found[0].kind, case .udpCheck(let bare) = found[1].kind else { return XCTFail("\(found)") }
        XCTAssertEqual(udp.payload, [0x0a, 0x0b])
        XCTAssertTrue(udp.requireReply)
        XCTAssertEqual(udp.replyPattern?.description, "0aXX")
        XCTAssertEqual(udp.minReplyLength, 2)
        XCTAssertEqual(udp.maxReplyLength, 100)
        XCTAssertFalse(bare.requireReply)
        XCTAssertNil(bare.payload)
        let wrap = { (body: String) in "virtual_server 192.0.2.1 53 {\n protocol UDP\n real_server 198.51.100.1 53 {\n UDP_CHECK {\n\(body)\n }\n }\n}\n" }
        assertDiagnostic(parse(wrap("payload 0X")), .error, line: 5, contains: "payload '0X' must be an even number of hexadecimal digits")
        assertDiagnostic(parse(wrap("require_reply abc")), .error, line: 5, contains: "require_reply 'abc' must be an even number")
        assertDiagnostic(parse(wrap("require_reply\n min_reply_length 9\n max_reply_length 3")), .error, line: 4,
                         contains: "min_reply_length 9 is larger than max_reply_length 3")
    }

    func testPingAndSMTPChecks() {
        let found = checkers("PING_CHECK {\n retry 4\n }\n PING_CHECK {\n }\n SMTP_CHECK {\n helo_name \"foo.bar.com\"\n retry 2\n host {\n connect_ip 172.16.1.11\n }\n host {\n connect_ip 192.168.155.10\n connect_port 2525\n bindto 172.16.1.2\n retry 5\n }\n }\n SMTP_CHECK {\n connect_timeout 3\n host {\n connect_ip 172.16.1.12\n }\n }",
                             port: 25)
        // Hosts become checkers of their own; an SMTP_CHECK with a connection setting of its own keeps it.
        XCTAssertEqual(found.map(\.kind.keyword), ["PING_CHECK", "PING_CHECK", "SMTP_CHECK", "SMTP_CHECK", "SMTP_CHECK", "SMTP_CHECK"])
        guard case .smtpCheck(let smtp) = found[2].kind else { return XCTFail("\(found)") }
        XCTAssertEqual(smtp.heloName, "foo.bar.com")
        XCTAssertEqual(found[2...].map(\.connectIP), [IPAddress("172.16.1.11"), IPAddress("192.168.155.10"), nil, IPAddress("172.16.1.12")])
        XCTAssertEqual(found[3].connectPort, 2525)
        XCTAssertEqual(found[3].bindTo, IPAddress("172.16.1.2"))
        XCTAssertEqual(found[2].timing.retry, 2)
        XCTAssertEqual(found[3].timing.retry, 5, "a host's own setting wins")
        XCTAssertEqual(found[5].timing.connectTimeout, 3)
        let result = parse("virtual_server 192.0.2.1 25 {\n protocol TCP\n real_server 198.51.100.1 25 {\n SMTP_CHECK {\n host {\n connect_ip 192.0.2.9\n }\n }\n }\n}\n")
        assertDiagnostic(result, .warning, line: 5, contains: "The SMTP_CHECK host block is deprecated. Please define additional checkers.")
    }

    func testPortZeroWhereKeepalivedTakesIt() {
        let config = parseClean("""
        virtual_server fwmark 5 {
            lb_kind DR
            sorry_server 198.51.100.9 0
            real_server 198.51.100.1 0 {
                TCP_CHECK {
                    connect_port 80
                }
            }
        }
        virtual_server 192.0.2.1 0 {
            lb_kind DR
            persistence_timeout 60
            protocol TCP
            real_server 198.51.100.2 0 {
            }
        }
        """)
        XCTAssertEqual(config.virtualServers[0].realServers[0].port, 0)
        XCTAssertEqual(config.virtualServers[0].sorryServer?.port, 0)
        XCTAssertEqual(config.virtualServers[1].key, .address(IPAddress("192.0.2.1")!, port: 0))
        let unreachable = parse("virtual_server fwmark 5 {\n lb_kind DR\n real_server 198.51.100.1 0 {\n HTTP_GET {\n url {\n path /\n }\n }\n }\n}\n")
        assertDiagnostic(unreachable, .warning, line: 4, contains: "HTTP_GET for real_server 198.51.100.1 would connect to port 0")
    }

    func testAnAddressListedTwiceIsAWarningAndTheFirstIsKept() {
        let result = parse("vrrp_instance VI_1 {\n interface eth0\n virtual_router_id 51\n virtual_ipaddress {\n 192.0.2.18\n 192.0.2.19\n 192.0.2.18 label eth0:1\n }\n}\n")
        XCTAssertFalse(result.diagnostics.hasErrors, "\(result.diagnostics.all)")
        assertDiagnostic(result, .warning, line: 7, contains: "virtual address 192.0.2.18 is listed twice (first at \(mainPath):5); this one is ignored")
        let addresses = result.configuration.vrrpInstances[0].virtualIPAddresses
        XCTAssertEqual(addresses.map(\.address), [IPAddress("192.0.2.18"), IPAddress("192.0.2.19")])
        XCTAssertNil(addresses[0].label)
    }

    func testTheOldSyncGroupSyntaxListsMembers() {
        let instances = (1...2).map { "vrrp_instance VI_\($0) {\n interface eth0\n virtual_router_id \($0)\n virtual_ipaddress {\n 192.0.2.\($0)\n }\n}\n" }.joined()
        let result = parse("vrrp_sync_group VG1 {\n VI_1\n VI_2\n}\n" + instances)
        XCTAssertFalse(result.diagnostics.hasErrors, "\(result.diagnostics.all)")
        assertDiagnostic(result, .warning, line: 2, contains: "lists its instances without 'group { }' (the old syntax)")
        XCTAssertEqual(result.configuration.syncGroups[0].members, ["VI_1", "VI_2"])
        // A word with values is still an unknown keyword, not a member.
        assertDiagnostic(parse("vrrp_sync_group VG1 {\n group {\n VI_1\n VI_2\n }\n notfy_master /bin/x\n}\n" + instances), .warning, line: 6,
                         contains: "unknown keyword 'notfy_master'")
    }

    func testAScriptWithNothingToRunIsDroppedAndItsTrackersGoOn() {
        let result = parse("vrrp_script empty {\n interval 2\n}\nvrrp_script ok {\n script /bin/true\n}\n"
                           + "vrrp_instance VI_1 {\n interface eth0\n virtual_router_id 1\n track_script {\n empty\n ok\n }\n virtual_ipaddress {\n 192.0.2.1\n }\n}\n")
        XCTAssertFalse(result.diagnostics.hasErrors, "\(result.diagnostics.all)")
        XCTAssertEqual(result.configuration.vrrpScripts.map(\.name), ["ok"])
        XCTAssertEqual(result.configuration.vrrpInstances[0].trackScripts.map(\.name), ["ok"])
    }
}

final class TrackFileTests: XCTestCase {
    func testTrackFileBlocksAndTheirTrackers() {
        let config = parseClean("""
        track_file maint {
            file /run/maint
            weight -10 reverse
            init_file 5 overwrite
        }
        vrrp_track_file old {
            file /run/old
        }
        vrrp_instance VI_1 {
            interface eth0
            virtual_router_id 1
            track_file {
                maint weight 3
                old
            }
            virtual_ipaddress {
                192.0.2.1
            }
        }
        virtual_server 192.0.2.1 80 {
            protocol TCP
            real_server 198.51.100.1 80 {
                FILE_CHECK {
                    track_file maint
                    weight 7 reverse
                }
            }
        }
        """)
        XCTAssertEqual(config.trackFiles.map(\.name), ["maint", "old"])
        XCTAssertEqual(config.trackFiles[0].path, "/run/maint")
        XCTAssertEqual(config.trackFiles[0].weight, -10)
        XCTAssertTrue(config.trackFiles[0].weightReverse)
        XCTAssertEqual(config.trackFiles[0].initialValue, 5)
        XCTAssertTrue(config.trackFiles[0].overwrite)
        XCTAssertEqual(config.vrrpInstances[0].trackFiles.map(\.name), ["maint", "old"])
        XCTAssertEqual(config.vrrpInstances[0].trackFiles[0].weight, 3)
        guard case .fileCheck(let file) = config.virtualServers[0].realServers[0].checkers[0].kind else { return XCTFail("no FILE_CHECK") }
        XCTAssertEqual(file.trackFile, "maint")
        XCTAssertEqual(file.weight, 7)
        XCTAssertTrue(file.reverse)
        let dump = ConfigDump.render(config)
        XCTAssertTrue(dump.contains("track_file maint {"), dump)
        XCTAssertTrue(dump.contains("init_file 5 overwrite"), dump)
        XCTAssertTrue(dump.contains("weight 7 reverse"), dump)
        assertDiagnostic(parse("vrrp_track_file x {\n file /a\n}\n"), .warning, line: 1, contains: "\"vrrp_track_file\" is deprecated, please use \"track_file\"")
        assertDiagnostic(parse("track_file x {\n weight 2\n}\n"), .error, line: 1, contains: "track_file x has no 'file' to follow")
        assertDiagnostic(parse("virtual_server 192.0.2.1 80 {\n protocol TCP\n real_server 198.51.100.1 80 {\n FILE_CHECK {\n track_file nope\n }\n }\n}\n"),
                         .error, line: 4, contains: "names track_file nope, which is not defined")
    }

    func testEffectsFollowKeepalivedsRules() {
        let ipvsFault: Int64 = -65536
        XCTAssertEqual(TrackedFileEffect.of(value: 0, weight: 0, reverse: false, faultAt: ipvsFault), .offset(0))
        XCTAssertEqual(TrackedFileEffect.of(value: 3, weight: 0, reverse: false, faultAt: ipvsFault), .fault)
        XCTAssertEqual(TrackedFileEffect.of(value: 0, weight: 0, reverse: true, faultAt: ipvsFault), .fault)
        XCTAssertEqual(TrackedFileEffect.of(value: 3, weight: 0, reverse: true, faultAt: ipvsFault), .offset(0))
        XCTAssertEqual(TrackedFileEffect.of(value: 2, weight: -5, reverse: false, faultAt: -254), .offset(-10))
        XCTAssertEqual(TrackedFileEffect.of(value: 2, weight: 5, reverse: true, faultAt: -254), .offset(-10))
        XCTAssertEqual(TrackedFileEffect.of(value: -100, weight: 3, reverse: false, faultAt: -254), .fault)
        XCTAssertEqual(TrackedFileEffect.of(value: -100, weight: 3, reverse: false, faultAt: ipvsFault), .offset(-300))
        XCTAssertEqual(TrackedFileEffect.of(value: Int64(Int32.max), weight: 65535, reverse: false, faultAt: ipvsFault), .offset(Int(Int32.max)))
    }

    func testFileTextIsReadAsStrtolReadsIt() {
        XCTAssertEqual(TrackedFileEffect.value(ofFileText: "12\n"), 12)
        XCTAssertEqual(TrackedFileEffect.value(ofFileText: "  -7 apples"), -7)
        XCTAssertEqual(TrackedFileEffect.value(ofFileText: "0x1f"), 31)
        XCTAssertEqual(TrackedFileEffect.value(ofFileText: "010"), 8)
        XCTAssertEqual(TrackedFileEffect.value(ofFileText: "maintenance"), 0)
        XCTAssertNil(TrackedFileEffect.value(ofFileText: "99999999999"))
    }
}

final class URLRegexKeywordTests: XCTestCase {
    private func url(_ body: String) -> LoadedConfiguration {
        parse("virtual_server 192.0.2.1 443 {\n protocol TCP\n real_server 198.51.100.1 443 {\n SSL_GET {\n tls_compliant\n url {\n path /\n\(body)\n }\n }\n }\n}\n")
    }

    func testRegexSettings() throws {
        let result = url("regex \"^status: (up|ok)\"\n regex_no_match\n regex_options caseless multiline\n regex_min_offset 2\n regex_max_offset 90\n regex_stack 32768 65536\n tls_compliant off")
        XCTAssertFalse(result.diagnostics.hasErrors, "\(result.diagnostics.all)")
        guard case .sslGet(let http) = result.configuration.virtualServers[0].realServers[0].checkers[0].kind else { return XCTFail() }
        XCTAssertEqual(http.tlsCompliant, true)
        let regex = try XCTUnwrap(http.urls[0].regex)
        XCTAssertEqual(regex.pattern, "^status: (up|ok)")
        XCTAssertTrue(regex.noMatch)
        XCTAssertEqual(regex.options, ["caseless", "multiline"])
        XCTAssertEqual(regex.minOffset, 2)
        XCTAssertEqual(regex.maxOffset, 90)
        XCTAssertEqual(regex.stack?.start, 32768)
        XCTAssertEqual(http.urls[0].tlsCompliant, false)
        let again = parse(ConfigDump.render(result.configuration))
        XCTAssertFalse(again.diagnostics.hasErrors, "\(again.diagnostics.all)")
        guard case .sslGet(let reread) = again.configuration.virtualServers[0].realServers[0].checkers[0].kind else { return XCTFail() }
        XCTAssertEqual(reread.urls[0].regex, regex, "the dump parses back to the same regex")
        XCTAssertEqual(reread.urls[0].tlsCompliant, false)
    }

    func testRegexMistakes() {
        assertDiagnostic(url("regex \"(unclosed\""), .error, line: 6, contains: "regex '(unclosed' does not compile: missing closing parenthesis at offset 9")
        assertDiagnostic(url("regex x\n regex_options sloppy"), .error, line: 9, contains: "unknown regex_options 'sloppy'")
        assertDiagnostic(url("regex_no_match"), .warning, line: 6, contains: "regex parameters specified without regex")
        assertDiagnostic(url("regex x\n regex_min_offset 9\n regex_max_offset 3"), .error, line: 6, contains: "regex_min_offset 9 is beyond regex_max_offset 3")
    }
}

final class TrackProcessTests: XCTestCase {
    func testParsingAndTrackers() throws {
        let config = parseClean("""
        vrrp_track_process nginx {
            process /usr/sbin/nginx -g "daemon off;"
            param_match initial
            weight 20 reverse
            quorum 2
            quorum_max 4
            fork_delay 0.5
            terminate_delay 2
        }
        vrrp_script fast {
            script /bin/true
            interval 0.25
            timeout 0.5
        }
        vrrp_instance VI_1 {
            interface eth0
            virtual_router_id 1
            track_process {
                nginx weight -30
            }
            virtual_ipaddress {
                192.0.2.1
            }
        }
        """)
        let tracked = try XCTUnwrap(config.trackProcesses.first)
        XCTAssertEqual(tracked.process, "/usr/sbin/nginx")
        XCTAssertEqual(tracked.parameters, ["-g", "daemon off;"])
        XCTAssertEqual(tracked.paramMatch, .initial)
        XCTAssertEqual(tracked.weight, 20)
        XCTAssertTrue(tracked.weightReverse)
        XCTAssertEqual(tracked.quorum, 2)
        XCTAssertEqual(tracked.quorumMax, 4)
        XCTAssertEqual(tracked.forkDelay, 0.5)
        XCTAssertEqual(tracked.terminateDelay, 2)
        XCTAssertEqual(config.vrrpInstances[0].trackProcesses.first?.weight, -30)
        XCTAssertEqual(config.vrrpScripts[0].interval, 0.25, "vrrp_script intervals take fractions of a second")
        XCTAssertEqual(config.vrrpScripts[0].timeout, 0.5)
        assertDiagnostic(parse("vrrp_track_process x {\n weight 2\n}\n"), .error, line: 1, contains: "track process 'x' process name not specified")
        assertDiagnostic(parse("vrrp_track_process x {\n process a\n quorum 3\n quorum_max 2\n}\n"), .error, line: 1, contains: "quorum 3 is greater than quorum_max 2")
    }

    func testMatchingAndQuorum() {
        var byName = TrackProcess(name: "n", location: SourceLocation(file: "", line: 0))
        byName.process = "nginx"
        XCTAssertTrue(byName.matches(comm: "nginx", arguments: []))
        XCTAssertFalse(byName.matches(comm: "nginx-debug", arguments: []))
        byName.process = "a-very-long-process-name"
        XCTAssertTrue(byName.matches(comm: "a-very-long-pro", arguments: []), "the kernel keeps 15 bytes of a name")

        var full = TrackProcess(name: "f", location: SourceLocation(file: "", line: 0))
        full.process = "/usr/sbin/nginx"
        full.fullCommand = true
        XCTAssertTrue(full.matches(comm: "x", arguments: ["/usr/sbin/nginx", "-g", "daemon off;"]))
        full.parameters = ["-g"]
        XCTAssertFalse(full.matches(comm: "x", arguments: ["/usr/sbin/nginx", "-g", "daemon off;"]), "parameters match exactly by default")
        full.paramMatch = .initial
        XCTAssertTrue(full.matches(comm: "x", arguments: ["/usr/sbin/nginx", "-g", "daemon off;"]))
        full.parameters = ["daemon off;"]
        XCTAssertFalse(full.matches(comm: "x", arguments: ["/usr/sbin/nginx", "-g", "daemon off;"]))
        full.paramMatch = .partial
        XCTAssertTrue(full.matches(comm: "x", arguments: ["/usr/sbin/nginx", "-g", "daemon off;"]))
        XCTAssertFalse(full.matches(comm: "x", arguments: ["/usr/bin/nginx", "-g", "daemon off;"]))

        var quorum = TrackProcess(name: "q", location: SourceLocation(file: "", line: 0))
        XCTAssertFalse(quorum.isUp(count: 0))
        XCTAssertTrue(quorum.isUp(count: 1))
        quorum.quorum = 2
        quorum.quorumMax = 3
        XCTAssertFalse(quorum.isUp(count: 1))
        XCTAssertTrue(quorum.isUp(count: 3))
        XCTAssertFalse(quorum.isUp(count: 4))
    }
}
