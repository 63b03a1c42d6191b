import Foundation
import KeepalivedConfig
import XCTest

/// Every refusal the config check promises, each at the line an operator must fix.
final class DiagnosticTests: XCTestCase {
    func testDiagnosticFormatIsPathLineSeverityMessage() {
        let result = parse(instance("priority 0"))
        XCTAssertEqual(result.diagnostics.errors.first?.description, "\(mainPath):4: error: priority 0 is out of range 1-255")
    }

    func testOutOfRangeValues() {
        assertDiagnostic(parse(instance("priority 256")), .error, line: 4, contains: "priority 256 is out of range 1-255")
        assertDiagnostic(parse("vrrp_instance VI_1 {\n interface lan0\n virtual_router_id 300\n}\n"), .error, line: 3,
                         contains: "virtual_router_id 300 is out of range 1-255")
        assertDiagnostic(parse("vrrp_instance VI_1 {\n interface lan0\n virtual_router_id 0\n}\n"), .error, line: 3,
                         contains: "virtual_router_id 0 is out of range")
        assertDiagnostic(parse("virtual_server 192.0.2.1 65536 {\n protocol TCP\n}\n"), .error, line: 1,
                         contains: "virtual_server port 65536 is out of range 0-65535")
        assertDiagnostic(parse("virtual_server 192.0.2.1 80 {\n protocol TCP\n real_server 198.51.100.1 0 {\n }\n}\n"), .error, line: 3,
                         contains: "real_server 198.51.100.1 port 0 cannot be used with NAT")
        assertDiagnostic(parse("virtual_server 192.0.2.1 80 {\n protocol TCP\n real_server 198.51.100.1 80 {\n weight 70000\n }\n}\n"), .error,
                         line: 4, contains: "real_server weight 70000 is out of range 0-65535")
        assertDiagnostic(parse("vrrp_script s {\n script /bin/true\n weight 300\n}\n"), .error, line: 3,
                         contains: "vrrp_script weight 300 is out of range -253-253")
        assertDiagnostic(parse(instance("advert_int 0.5")), .error, line: 4, contains: "advert_int 0.5 is not a whole number of seconds")
        assertDiagnostic(parse(instance("priority high")), .error, line: 4, contains: "priority must be a whole number in 1-255, not 'high'")
    }

    func testDirectRoutingPortMismatchIsAWarning() {
        let text = "virtual_server 192.0.2.1 80 {\n protocol TCP\n lb_kind DR\n real_server 198.51.100.1 8080 {\n }\n}\n"
        assertDiagnostic(parse(text), .warning, line: 4, contains: "port 8080 differs from the service's port 80; DR forwards without changing the port, so 80 is used")
        XCTAssertTrue(parse(text.replacingOccurrences(of: "DR", with: "NAT")).diagnostics.all.isEmpty)
    }

    func testMalformedAddresses() {
        assertDiagnostic(parse(instance("virtual_ipaddress {\n 192.0.2.300\n}")), .error, line: 5, contains: "'192.0.2.300' is not a valid")
        assertDiagnostic(parse(instance("virtual_ipaddress {\n 192.0.2.3/33\n}")), .error, line: 5, contains: "prefix length must be 0-32")
        assertDiagnostic(parse(instance("unicast_peer {\n 10.0.0\n}")), .error, line: 5, contains: "'10.0.0' is not a valid")
        assertDiagnostic(parse("virtual_server 192.0.2 80 {\n}\n"), .error, line: 1, contains: "'192.0.2' is not a valid")
        assertDiagnostic(parse("virtual_server 192.0.2.1 80 {\n protocol TCP\n real_server ::g 80 {\n }\n}\n"), .error, line: 3,
                         contains: "'::g' is not a valid")
        assertDiagnostic(parse(instance("virtual_ipaddress {\n 192.0.2.1 dve lan0\n}")), .error, line: 5, contains: "unknown option 'dve'")
    }

    func testUnknownEnumerationWords() {
        assertDiagnostic(parse(instance("state PRIMARY")), .error, line: 4, contains: "unknown state 'PRIMARY'; expected one of: MASTER BACKUP")
        assertDiagnostic(parse(instance("authentication {\n auth_type MD5\n auth_pass x\n}")), .error, line: 5,
                         contains: "unknown auth_type 'MD5'")
        let server = "virtual_server 192.0.2.1 80 {\n"
        assertDiagnostic(parse(server + " lb_kind NATT\n protocol TCP\n}\n"), .error, line: 2, contains: "unknown lb_kind 'NATT'")
        assertDiagnostic(parse(server + " lb_algo roundrobin\n protocol TCP\n}\n"), .error, line: 2, contains: "unknown lb_algo 'roundrobin'")
        assertDiagnostic(parse(server + " protocol ICMP\n}\n"), .error, line: 2, contains: "unknown protocol 'ICMP'; expected one of: TCP UDP SCTP")
    }

    func testDigestMustBe32HexDigits() {
        let text = "virtual_server 192.0.2.1 80 {\n protocol TCP\n real_server 198.51.100.1 80 {\n HTTP_GET {\n url {\n path /\n digest 640205b7b0fc66c1ea91c463fac6334\n }\n }\n }\n}\n"
        assertDiagnostic(parse(text), .error, line: 7, contains: "must be 32 hexadecimal digits")
        let notHex = text.replacingOccurrences(of: "fac6334\n", with: "fac633zz\n")
        assertDiagnostic(parse(notHex), .error, line: 7, contains: "must be 32 hexadecimal digits")
    }

    func testMissingRequiredKeywordsPointAtTheBlock() {
        let result = parse("\nvrrp_instance VI_1 {\n priority 100\n}\n")
        assertDiagnostic(result, .error, line: 2, contains: "has no 'interface'")
        assertDiagnostic(result, .error, line: 2, contains: "has no 'virtual_router_id'")
        assertDiagnostic(parse("vrrp_script s {\n interval 2\n}\n"), .warning, line: 1, contains: "has no 'script' to run; it is dropped")
        assertDiagnostic(parse("virtual_server 192.0.2.1 80 {\n protocol TCP\n real_server 198.51.100.1 80 {\n HTTP_GET {\n }\n }\n}\n"),
                         .error, line: 4, contains: "has no 'url")
        assertDiagnostic(parse("virtual_server 192.0.2.1 80 {\n protocol TCP\n real_server 198.51.100.1 80 {\n MISC_CHECK {\n }\n }\n}\n"),
                         .error, line: 4, contains: "has no 'misc_path'")
    }

    func testSameVRIDOnOneInterfaceIsAnErrorAtTheSecond() {
        let result = parse(instance(name: "VI_1", vrid: 51) + instance(name: "VI_2", vrid: 51))
        assertDiagnostic(result, .error, line: 6, contains: "uses virtual_router_id 51 on lan0, as vrrp_instance VI_1 does")
    }

    func testSameVRIDOnAnotherFamilyIsFine() {
        let v6 = instance("virtual_ipaddress {\n 2001:db8::1\n}", name: "VI_6", vrid: 51)
        XCTAssertFalse(parse(instance(vrid: 51) + v6).diagnostics.hasErrors)
    }

    func testDuplicatesPointAtTheSecondOccurrence() {
        assertDiagnostic(parse(instance(vrid: 1) + instance(vrid: 2)), .error, line: 6, contains: "duplicate vrrp_instance VI_1")
        let server = "virtual_server 192.0.2.1 80 {\n protocol TCP\n}\n"
        assertDiagnostic(parse(server + server), .error, line: 4, contains: "duplicate virtual_server 192.0.2.1:80")
        let reals = "virtual_server 192.0.2.1 80 {\n protocol TCP\n real_server 198.51.100.1 80 {\n }\n real_server 198.51.100.1 80 {\n }\n}\n"
        assertDiagnostic(parse(reals), .error, line: 5, contains: "duplicate real_server 198.51.100.1 80")
    }

    func testReferencesMustResolve() {
        assertDiagnostic(parse(instance("track_script {\n chk_missing\n}")), .error, line: 5, contains: "track_script chk_missing names no vrrp_script")
        assertDiagnostic(parse("vrrp_sync_group G {\n group {\n VI_1\n VI_9\n }\n}\n" + instance()), .error, line: 1,
                         contains: "names vrrp_instance VI_9, which is not defined")
        assertDiagnostic(parse("virtual_server group NOPE {\n protocol TCP\n}\n"), .error, line: 1, contains: "names a virtual_server_group that is not defined")
    }

    func testFamiliesMustAgree() {
        assertDiagnostic(parse(instance("virtual_ipaddress {\n 192.0.2.1\n 2001:db8::1\n}")), .error, line: 6, contains: "mixes IPv4 and IPv6")
        assertDiagnostic(parse("virtual_server 192.0.2.1 80 {\n protocol TCP\n real_server 2001:db8::1 80 {\n }\n}\n"), .error, line: 3,
                         contains: "not of the service's address family")
    }

    func testWarningsForLegalButSuspiciousThings() {
        let unknown = parse(instance("prority 100"))
        assertDiagnostic(unknown, .warning, line: 4, contains: "unknown keyword 'prority' in vrrp_instance (did you mean 'priority'?)")
        XCTAssertFalse(unknown.diagnostics.hasErrors)
        let noProtocol = parse("virtual_server 192.0.2.1 80 {\n}\n")
        assertDiagnostic(noProtocol, .warning, line: 1, contains: "has no 'protocol'; TCP is used")
        XCTAssertEqual(noProtocol.configuration.virtualServers[0].effectiveProtocol, .tcp)
        assertDiagnostic(parse(instance()), .warning, line: 1, contains: "has no virtual_ipaddress")
        let twice = parse(instance("priority 100\npriority 101"))
        assertDiagnostic(twice, .warning, line: 5, contains: "'priority' is set again")
        XCTAssertEqual(twice.configuration.vrrpInstances[0].priority, 101)
    }

    func testMissingInterfaceOnThisHostIsAWarning() {
        let options = ConfigLoadOptions(fileSystem: InMemoryFileSystem(files: [mainPath: instance()]), configID: "x",
                                        interfaceExists: { $0 == "lo" })
        let result = ConfigLoader.load(path: mainPath, options: options)
        assertDiagnostic(result, .warning, line: 1, contains: "interface lan0 does not exist on this host")
        XCTAssertFalse(result.diagnostics.hasErrors)
        let dynamic = InMemoryFileSystem(files: [mainPath: "global_defs {\n dynamic_interfaces\n}\n" + instance("virtual_ipaddress {\n 192.0.2.1\n}")])
        let quiet = ConfigLoader.load(path: mainPath, options: ConfigLoadOptions(fileSystem: dynamic, configID: "x", interfaceExists: { _ in false }))
        XCTAssertEqual(quiet.diagnostics.all, [])
    }

    func testUnreadableMainFileIsAnError() {
        let result = ConfigLoader.load(path: "/nonexistent/keepalived.conf",
                                       options: ConfigLoadOptions(fileSystem: InMemoryFileSystem(files: [:]), configID: "x", interfaceExists: nil))
        XCTAssertEqual(result.diagnostics.errors.map(\.message), ["cannot read configuration file /nonexistent/keepalived.conf"])
    }

    func testErrorsDoNotStopTheParse() {
        let result = parse(instance("priority 0\nadvert_int x\nstate NOPE"))
        XCTAssertEqual(result.diagnostics.errors.map(\.location.line), [4, 5, 6])
    }
}
