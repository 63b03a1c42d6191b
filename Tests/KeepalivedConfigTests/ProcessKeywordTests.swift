import KeepalivedConfig
import XCTest

/// The process-wide keywords: net_namespace and its kin, umask, start-up and shutdown scripts,
/// notify FIFOs; keepalived's first-one-wins and FIFO-sharing rules; the dump reads back.
final class ProcessKeywordTests: XCTestCase {
    func testEveryKeywordParsesAndDumpsBack() {
        let text = """
        net_namespace blue
        net_namespace_ipvs
        namespace_with_ipsets
        global_defs {
            umask IWGRP|IWOTH
            startup_script "/usr/local/bin/up.sh first" root
            startup_script_timeout 20
            shutdown_script /usr/local/bin/down.sh
            notify_fifo /run/ka.fifo
            notify_fifo_script "/usr/local/bin/read.sh -v"
            vrrp_notify_fifo /run/vrrp.fifo nobody nogroup
            vrrp_notify_fifo_script /usr/local/bin/vrrp.sh
            lvs_notify_fifo /run/lvs.fifo
            fifo_write_vrrp_states_on_reload
            enable_script_security
            script_user nobody
        }

        """
        let process = parseClean(text).globalDefs.process
        XCTAssertEqual(process.netNamespace, "blue")
        XCTAssertEqual(process.netNamespaceIPVS, "")
        XCTAssertEqual(process.namespaceWithIpsets, true)
        XCTAssertEqual(process.umask, 0o022)
        XCTAssertEqual(process.startupScript, ScriptCommand(command: "/usr/local/bin/up.sh first", user: "root"))
        XCTAssertEqual(process.effectiveStartupScriptTimeout, 20)
        XCTAssertEqual(process.shutdownScript?.command, "/usr/local/bin/down.sh")
        XCTAssertEqual(process.effectiveShutdownScriptTimeout, 10)
        XCTAssertEqual(process.fifo(.global).path, "/run/ka.fifo")
        XCTAssertEqual(process.fifo(.global).script?.command, "/usr/local/bin/read.sh -v")
        XCTAssertEqual(process.fifo(.vrrp).user, "nobody")
        XCTAssertEqual(process.fifo(.vrrp).group, "nogroup")
        XCTAssertEqual(process.fifo(.vrrp).script?.command, "/usr/local/bin/vrrp.sh")
        XCTAssertEqual(process.fifo(.lvs).path, "/run/lvs.fifo")
        XCTAssertEqual(process.fifoWriteVRRPStatesOnReload, true)

        let dump = ConfigDump.render(parseClean(text))
        XCTAssertTrue(dump.hasPrefix("net_namespace blue\nnet_namespace_ipvs\nnamespace_with_ipsets\nglobal_defs {"), dump)
        for line in ["umask 022", "startup_script \"/usr/local/bin/up.sh first\" root", "startup_script_timeout 20",
                     "shutdown_script_timeout 10  # default", "vrrp_notify_fifo /run/vrrp.fifo nobody nogroup",
                     "notify_fifo_script \"/usr/local/bin/read.sh -v\"", "fifo_write_vrrp_states_on_reload"] {
            XCTAssertTrue(dump.contains(line), "missing '\(line)' in\n\(dump)")
        }
        let again = parseClean(dump).globalDefs.process
        XCTAssertEqual(ConfigDump.render(parseClean(dump)), dump.replacingOccurrences(of: "  # default", with: ""))
        XCTAssertEqual(again.umask, 0o022)
        XCTAssertEqual(again.fifo(.vrrp).withoutLocations, process.fifo(.vrrp).withoutLocations)
    }

    func testNamespaceInsideGlobalDefsToo() {
        XCTAssertEqual(parseClean("global_defs {\n net_namespace red\n}\n").globalDefs.process.netNamespace, "red")
    }

    func testUmaskForms() {
        let cases: [([String], UInt16)] = [(["0177"], 0o177), (["077"], 0o077), (["18"], 0o022), (["0x12"], 0o022),
                                            (["IRWXG|IRWXO"], 0o077), (["IWGRP", "|", "IWOTH"], 0o022), (["IWGRP|", "IXOTH"], 0o021)]
        for (words, mask) in cases {
            XCTAssertEqual(try UmaskValue.parse(words).get(), mask, "\(words)")
        }
        let failures: [([String], String)] = [(["0778"], "invalid umask value 0778"), (["01000"], "invalid umask value 01000"),
                                               (["022", "x"], "extra parameter(s)"), (["IWGRP|"], "umask missing bit value"),
                                               (["IWGRPIWOTH"], "invalid umask syntax"), (["IWXYZ"], "unknown umask bit IWXYZ")]
        for (words, message) in failures {
            guard case .failure(let error) = UmaskValue.parse(words) else { XCTFail("\(words) accepted"); continue }
            XCTAssertTrue(error.message.contains(message), "\(words): \(error.message)")
        }
        assertDiagnostic(parse("global_defs {\n router_id a\n umask 0999\n}\n"), .error, line: 3, contains: "invalid umask value 0999")
    }

    func testErrorsAndKeepalivedsFirstOneWins() {
        assertDiagnostic(parse("global_defs {\n startup_script_timeout 0\n}\n"), .error, line: 2, contains: "startup_script_timeout 0 is out of range 1-1000")
        assertDiagnostic(parse("net_namespace a/b\n"), .error, line: 1, contains: "not a namespace name")
        let twice = parse("net_namespace one\nnet_namespace two\nglobal_defs {\n notify_fifo /a\n notify_fifo /b\n startup_script /x\n startup_script /y\n}\n")
        assertDiagnostic(twice, .warning, line: 2, contains: "Duplicate net_namespace definition two - ignoring")
        assertDiagnostic(twice, .warning, line: 5, contains: "notify_fifo already specified - ignoring /b")
        assertDiagnostic(twice, .warning, line: 7, contains: "startup script already specified")
        XCTAssertEqual(twice.configuration.globalDefs.process.netNamespace, "one")
        XCTAssertEqual(twice.configuration.globalDefs.process.fifo(.global).path, "/a")
        XCTAssertEqual(twice.configuration.globalDefs.process.startupScript?.command, "/x")
    }

    func testSharedFifoPathsAreWarnedAsKeepalivedLogsThem() {
        let shared = parse("global_defs {\n notify_fifo /f\n vrrp_notify_fifo /f\n lvs_notify_fifo /f\n}\n")
        assertDiagnostic(shared, .warning, line: 3, contains: "notify FIFO /f has been specified for global and vrrp FIFO - ignoring vrrp FIFO")
        assertDiagnostic(shared, .warning, line: 4, contains: "notify FIFO /f has been specified for global and LVS FIFO - ignoring LVS FIFO")
        let scripts = parse("global_defs {\n vrrp_notify_fifo /f\n vrrp_notify_fifo_script /a\n lvs_notify_fifo /f\n lvs_notify_fifo_script /b\n}\n")
        assertDiagnostic(scripts, .warning, line: 5, contains: "LVS notify FIFO and vrrp FIFO are the same both with scripts - ignoring LVS FIFO script")
        assertDiagnostic(parse("global_defs {\n lvs_notify_fifo_script /b\n}\n"), .warning, line: 2, contains: "lvs_notify_fifo_script without lvs_notify_fifo is ignored")
    }
}

extension NotifyFifoSettings {
    var withoutLocations: NotifyFifoSettings {
        var copy = self
        copy.location = nil
        copy.scriptLocation = nil
        return copy
    }
}
