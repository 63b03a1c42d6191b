import KeepalivedConfig
import XCTest

final class LVSKeywordTests: XCTestCase {
    func testVirtualServerSettings() {
        let server = parseClean("""
        virtual_server 192.0.2.1 443 {
            delay_loop 6
            lb_algo wrr
            lb_kind TUN
            protocol SCTP
            persistence_timeout 50
            persistence_granularity 255.255.255.0
            sorry_server 198.51.100.200 443
            sorry_server_inhibit
            inhibit_on_failure
            quorum 3
            hysteresis 1
            quorum_up /bin/up
            quorum_down "/bin/down now"
            alpha
            omega
            ha_suspend
            virtualhost www.example.org
            sh-port
            ops
            retry 4
        }
        """).virtualServers[0]
        XCTAssertEqual(server.key, .address(IPAddress("192.0.2.1")!, port: 443))
        XCTAssertEqual(server.timing.delayLoop, 6)
        XCTAssertEqual(server.scheduler, .wrr)
        XCTAssertEqual(server.forwardingMethod, .tun)
        XCTAssertEqual(server.protocolName, .sctp)
        XCTAssertEqual(server.persistenceTimeout, 50)
        XCTAssertEqual(server.persistenceGranularity, "255.255.255.0")
        XCTAssertEqual(server.sorryServer?.address, IPAddress("198.51.100.200"))
        XCTAssertTrue(server.sorryServerInhibit)
        XCTAssertEqual(server.inhibitOnFailure, true)
        XCTAssertEqual(server.quorum, 3)
        XCTAssertEqual(server.hysteresis, 1)
        XCTAssertEqual(server.quorumDown?.command, "/bin/down now")
        XCTAssertTrue(server.alpha && server.omega && server.haSuspend && server.onePacketScheduling)
        XCTAssertEqual(server.virtualhost, "www.example.org")
        XCTAssertEqual(server.schedulerFlags, ["sh-port"])
        XCTAssertEqual(server.timing.retry, 4)
    }

    func testKeepalivedTwoNamesForSchedulerAndMethod() {
        let server = parseClean("virtual_server 192.0.2.1 80 {\n protocol TCP\n lvs_sched sed\n lvs_method DR\n}\n").virtualServers[0]
        XCTAssertEqual(server.scheduler, .sed)
        XCTAssertEqual(server.forwardingMethod, .dr)
    }

    func testEverySchedulerName() {
        for scheduler in LVSScheduler.allCases {
            let server = parseClean("virtual_server 192.0.2.1 80 {\n protocol TCP\n lb_algo \(scheduler.rawValue)\n}\n").virtualServers[0]
            XCTAssertEqual(server.scheduler, scheduler)
        }
    }

    func testDefaults() {
        let server = parseClean("virtual_server 192.0.2.1 80 {\n protocol UDP\n real_server 198.51.100.1 {\n TCP_CHECK {\n }\n }\n}\n").virtualServers[0]
        XCTAssertEqual(server.effectiveScheduler, .wlc)
        XCTAssertEqual(server.effectiveForwardingMethod, .nat)
        let real = server.realServers[0]
        XCTAssertEqual(real.effectiveWeight, 1)
        XCTAssertEqual(real.effectivePort(in: server), 80)
        let timing = real.checkers[0].effectiveTiming(realServer: real, virtualServer: server)
        XCTAssertEqual(timing.delayLoop, 60)
        XCTAssertEqual(timing.connectTimeout, 5)
        XCTAssertEqual(timing.retry, 1)
        XCTAssertEqual(timing.delayBeforeRetry, 1)
        XCTAssertEqual(timing.warmup, 60)
    }

    func testFwmarkAndIPv6AndGroupServices() {
        let config = parseClean("""
        virtual_server_group G {
            192.0.2.1-3 80
            192.0.2.250-192.0.3.2 80
            198.51.100.8/30
            2001:db8::1-a 443
            fwmark 9 inet6
        }
        virtual_server fwmark 7 {
            persistence_timeout
        }
        virtual_server 2001:db8::1 80 {
            protocol TCP
        }
        virtual_server group G {
            protocol TCP
        }
        """)
        let entries = config.virtualServerGroups[0].entries.map(\.entry)
        XCTAssertEqual(entries[0], .range(first: IPAddress("192.0.2.1")!, last: IPAddress("192.0.2.3")!, port: 80))
        XCTAssertEqual(entries[1], .range(first: IPAddress("192.0.2.250")!, last: IPAddress("192.0.3.2")!, port: 80))
        XCTAssertEqual(entries[2], .range(first: IPAddress("198.51.100.8")!, last: IPAddress("198.51.100.11")!, port: nil))
        XCTAssertEqual(entries[3], .range(first: IPAddress("2001:db8::1")!, last: IPAddress("2001:db8::a")!, port: 443))
        XCTAssertEqual(entries[4], .fwmark(9, family: .inet6))
        XCTAssertEqual(config.virtualServers[0].key, .fwmark(7))
        XCTAssertEqual(config.virtualServers[0].persistenceTimeout, 360)
        XCTAssertEqual(config.virtualServers[1].key.description, "[2001:db8::1]:80")
        XCTAssertEqual(config.virtualServers[2].key, .group("G"))
    }

    /// A dash with nothing on one side was a crash (an index out of range), found by Scripts/fuzz.
    func testGroupRangesWithAnEmptySideAreErrors() {
        let loaded = parse("""
        virtual_server_group G {
            -
            -192.0.2.1
            192.0.2.1-
            192.0.2.1-3
        }

        """)
        let messages = loaded.diagnostics.errors.map(\.description)
        XCTAssertEqual(messages.count, 3, "\(messages)")
        XCTAssertTrue(messages[0].hasSuffix(":2: error: '-' is not a valid address or address range"), "\(messages)")
        XCTAssertTrue(messages[1].contains(":3: error: '-192.0.2.1' is not a valid address or address range"), "\(messages)")
        XCTAssertTrue(messages[2].contains(":4: error: '192.0.2.1-' is not a valid address range"), "\(messages)")
    }

    func testRealServerAndCheckers() {
        let real = parseClean("""
        virtual_server 192.0.2.1 80 {
            protocol TCP
            delay_loop 10
            real_server 198.51.100.1 8080 {
                weight 5
                inhibit_on_failure
                notify_up /bin/up
                notify_down "/bin/down x"
                uthreshold 100
                lthreshold 10
                lb_kind DR
                connect_timeout 7
                HTTP_GET {
                    url {
                        path /a
                        digest 640205B7B0FC66C1EA91C463FAC6334D
                        status_code 200 301-302
                        virtualhost a.example.org
                    }
                    url {
                        path /b
                    }
                    connect_ip 198.51.100.2
                    connect_port 8081
                    bindto 192.0.2.9
                    bind_port 4000
                    nb_get_retry 3
                    delay_before_retry 2
                    warmup 1
                    http_protocol 1.1
                    virtualhost v.example.org
                }
                SSL_GET {
                    url {
                        path /
                    }
                    enable_sni
                }
                TCP_CHECK {
                    connect_port 22
                }
                MISC_CHECK {
                    misc_path "/bin/check 1"
                    misc_timeout 3
                    misc_dynamic
                    user nobody
                }
            }
        }
        """).virtualServers[0].realServers[0]
        XCTAssertEqual(real.weight, 5)
        XCTAssertEqual(real.inhibitOnFailure, true)
        XCTAssertEqual(real.notifyDown?.command, "/bin/down x")
        XCTAssertEqual(real.upperThreshold, 100)
        XCTAssertEqual(real.lowerThreshold, 10)
        XCTAssertEqual(real.forwardingMethod, .dr)
        XCTAssertEqual(real.checkers.map(\.kind.keyword), ["HTTP_GET", "SSL_GET", "TCP_CHECK", "MISC_CHECK"])
        guard case .httpGet(let http) = real.checkers[0].kind else { return XCTFail("not HTTP_GET") }
        XCTAssertEqual(http.urls[0].digest?.description, "640205b7b0fc66c1ea91c463fac6334d")
        XCTAssertEqual(http.urls[0].statusCodes, [StatusCodeRange(lower: 200, upper: 200), StatusCodeRange(lower: 301, upper: 302)])
        XCTAssertEqual(http.urls[0].virtualhost, "a.example.org")
        XCTAssertEqual(http.urls[1].effectiveStatusCodes, [StatusCodeRange(lower: 200, upper: 299)])
        XCTAssertEqual(http.httpProtocol, .http11)
        XCTAssertEqual(http.virtualhost, "v.example.org")
        let checker = real.checkers[0]
        XCTAssertEqual(checker.connectIP, IPAddress("198.51.100.2"))
        XCTAssertEqual(checker.connectPort, 8081)
        XCTAssertEqual(checker.bindTo, IPAddress("192.0.2.9"))
        XCTAssertEqual(checker.bindPort, 4000)
        XCTAssertEqual(checker.timing.retry, 3)
        guard case .sslGet(let ssl) = real.checkers[1].kind else { return XCTFail("not SSL_GET") }
        XCTAssertTrue(ssl.enableSNI)
        XCTAssertEqual(real.checkers[2].connectPort, 22)
        guard case .miscCheck(let misc) = real.checkers[3].kind else { return XCTFail("not MISC_CHECK") }
        XCTAssertEqual(misc.path, ScriptCommand(command: "/bin/check 1", user: "nobody"))
        XCTAssertEqual(misc.timeout, 3)
        XCTAssertTrue(misc.dynamic)
        let server = parseClean("virtual_server 192.0.2.1 80 {\n protocol TCP\n delay_loop 10\n real_server 198.51.100.1 80 {\n connect_timeout 7\n TCP_CHECK {\n }\n }\n}\n").virtualServers[0]
        let timing = server.realServers[0].checkers[0].effectiveTiming(realServer: server.realServers[0], virtualServer: server)
        XCTAssertEqual(timing.delayLoop, 10)
        XCTAssertEqual(timing.connectTimeout, 7)
        XCTAssertEqual(timing.warmup, 10)
    }

    func testNbGetRetryIsDeprecated() {
        let result = parse("virtual_server 192.0.2.1 80 {\n protocol TCP\n real_server 198.51.100.1 80 {\n TCP_CHECK {\n nb_get_retry 2\n }\n }\n}\n")
        assertDiagnostic(result, .warning, line: 5, contains: "'nb_get_retry' is a deprecated spelling of 'retry'")
    }

    func testSSLBlock() {
        let ssl = parseClean("SSL {\n ca /etc/ca.pem\n certificate /etc/c.pem\n key /etc/k.pem\n password secret\n}\n").ssl
        XCTAssertEqual(ssl?.ca, "/etc/ca.pem")
        XCTAssertEqual(ssl?.certificate, "/etc/c.pem")
        XCTAssertEqual(ssl?.key, "/etc/k.pem")
        XCTAssertEqual(ssl?.password, "secret")
    }
}
