import KeepalivedConfig
import XCTest

/// Block layouts, includes, parameters and conditional lines: everything before keyword meaning.
final class ConfigSyntaxTests: XCTestCase {
    func testBlockClosedOnAValueLine() {
        let config = parseClean("""
        vrrp_instance VI_1 { interface lan0
            virtual_router_id 51
            authentication { auth_type PASS
                auth_pass 1111 }
        }
        """)
        XCTAssertEqual(config.vrrpInstances.first?.authentication?.password, "1111")
        XCTAssertEqual(config.vrrpInstances.first?.authentication?.type, .pass)
    }

    func testWholeBlockOnOneLineWithSeveralSettings() {
        let config = parseClean(instance("authentication { auth_type PASS auth_pass 1111 }"))
        XCTAssertEqual(config.vrrpInstances.first?.authentication?.type, .pass)
        XCTAssertEqual(config.vrrpInstances.first?.authentication?.password, "1111")
    }

    func testNestedBlocksOnOneLine() {
        let config = parseClean("virtual_server 192.0.2.1 80 { protocol TCP real_server 198.51.100.1 80 { weight 2 } }")
        XCTAssertEqual(config.virtualServers.first?.realServers.first?.weight, 2)
        XCTAssertEqual(config.virtualServers.first?.protocolName, .tcp)
    }

    func testOpeningBraceOnTheNextLine() {
        let config = parseClean("vrrp_instance VI_1\n{\n interface lan0\n virtual_router_id 9\n}\n")
        XCTAssertEqual(config.vrrpInstances.first?.virtualRouterID, 9)
    }

    func testCRLFLineEndsAndUTF8Comments() {
        let config = parseClean("global_defs {\r\n  router_id 主机 # 路由\r\n}\r\n")
        XCTAssertEqual(config.globalDefs.routerID, "主机")
    }

    func testIncludeIsRelativeToTheIncludingFileAndNests() {
        let config = parseClean("include conf.d/*.conf\n", files: [
            "/etc/keepalived/conf.d/a.conf": "include ../more/b.conf\n",
            "/etc/keepalived/conf.d/c.conf": instance(vrid: 3),
            "/etc/keepalived/more/b.conf": "global_defs { router_id from_b }\n",
        ])
        XCTAssertEqual(config.globalDefs.routerID, "from_b")
        XCTAssertEqual(config.vrrpInstances.first?.virtualRouterID, 3)
    }

    func testIncludedFileDiagnosticsNameThatFile() {
        let result = parse("\n\ninclude sub.conf\n", files: ["/etc/keepalived/sub.conf": "global_defs {\n  prority 5\n}\n"])
        assertDiagnostic(result, .warning, line: 2, path: "/etc/keepalived/sub.conf", contains: "unknown keyword 'prority'")
    }

    func testMissingIncludeIsAnErrorAtTheIncludeLine() {
        let result = parse("global_defs {\n}\ninclude missing.conf\n")
        assertDiagnostic(result, .error, line: 3, contains: "/etc/keepalived/missing.conf does not exist")
    }

    func testIncludePatternMatchingNothingIsAWarning() {
        let result = parse("include conf.d/*.conf\n")
        assertDiagnostic(result, .warning, line: 1, contains: "matches no file")
        XCTAssertFalse(result.diagnostics.hasErrors)
    }

    func testIncludeCycleIsAnErrorAtTheIncludeLine() {
        let result = parse("include a.conf\n", files: [
            "/etc/keepalived/a.conf": "\ninclude b.conf\n",
            "/etc/keepalived/b.conf": "include a.conf\n",
        ])
        assertDiagnostic(result, .error, line: 1, path: "/etc/keepalived/b.conf", contains: "include cycle")
    }

    func testParameterDefinitionsAndSubstitution() {
        let config = parseClean("""
        $IF=lan0
        $BASE=192.0.2.${SUB}
        $SUB=7
        vrrp_instance VI_1 {
            interface $IF
            virtual_router_id 5
            virtual_ipaddress {
                ${BASE}
            }
        }
        """)
        XCTAssertEqual(config.vrrpInstances.first?.interface, "lan0")
        XCTAssertEqual(config.vrrpInstances.first?.virtualIPAddresses.first?.address, IPAddress("192.0.2.7"))
    }

    func testMultiLineDefinitionExpandsToSeveralLines() {
        let config = parseClean("""
        $RS= \\
        real_server 198.51.100.${N} 80 { \\
            weight ${N} \\
        }
        virtual_server 192.0.2.1 80 {
            protocol TCP
            $N=1
            $RS
            $N=2
            $RS
        }
        """)
        XCTAssertEqual(config.virtualServers.first?.realServers.map(\.weight), [1, 2])
        XCTAssertEqual(config.virtualServers.first?.realServers.map(\.address.description), ["198.51.100.1", "198.51.100.2"])
    }

    func testUndefinedParameterIsAWarning() {
        let result = parse("global_defs {\n router_id $NOPE\n}\n")
        assertDiagnostic(result, .warning, line: 2, contains: "$NOPE is not defined")
    }

    func testSelfReferentialParameterIsAnError() {
        let result = parse("$A=$A x\nglobal_defs {\n router_id $A\n}\n")
        assertDiagnostic(result, .error, line: 3, contains: "nests deeper")
    }

    func testConditionalLinesFollowTheConfigID() {
        let text = "global_defs {\n@lb1 router_id first\n@lb2 router_id second\n@^lb1 smtp_helo_name other\n}\n"
        XCTAssertEqual(parse(text, configID: "lb1").configuration.globalDefs.routerID, "first")
        XCTAssertNil(parse(text, configID: "lb1").configuration.globalDefs.smtpHeloName)
        XCTAssertEqual(parse(text, configID: "lb2").configuration.globalDefs.routerID, "second")
        XCTAssertEqual(parse(text, configID: "lb2").configuration.globalDefs.smtpHeloName, "other")
    }

    func testUnclosedBlockIsReportedAtItsOpeningLine() {
        let result = parse("global_defs {\n router_id x\n}\nvrrp_instance VI_1 {\n interface lan0\n virtual_router_id 1\n")
        assertDiagnostic(result, .error, line: 4, contains: "never closed")
    }

    func testStrayClosingBraceIsAnError() {
        let result = parse("global_defs {\n}\n}\n")
        assertDiagnostic(result, .error, line: 3, contains: "'}' without a matching '{'")
    }

    func testValueKeywordWithABlockIsAnError() {
        let result = parse(instance("priority 100 {\n weight 3\n}"))
        assertDiagnostic(result, .error, line: 4, contains: "'priority' does not take a block")
    }

    func testBlockKeywordWithoutABlockIsAnError() {
        let result = parse(instance("virtual_ipaddress 192.0.2.1"))
        assertDiagnostic(result, .error, line: 4, contains: "'virtual_ipaddress' needs a block")
    }

    func testTooManyValuesIsAnError() {
        let result = parse(instance("priority 100 200"))
        assertDiagnostic(result, .error, line: 4, contains: "'priority' takes one value, but 2 were given")
    }
}
