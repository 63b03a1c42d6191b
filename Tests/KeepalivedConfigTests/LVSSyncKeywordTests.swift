import KeepalivedConfig
import XCTest

/// `lvs_sync_daemon`, `lvs_sync_daemon_interface`, `lvs_timeouts`, `lvs_flush` and
/// `lvs_flush_on_stop`, as keepalived 2.4.3 reads them (errors where keepalived ignores a value).
final class LVSSyncKeywordTests: XCTestCase {
    func testEveryOption() {
        let config = parseClean("""
        global_defs {
            lvs_sync_daemon lan0 VI_1 id 7 maxlen 1400 port 8849 ttl 2 group 239.1.2.3
        }
        """ + instance())
        let sync = config.globalDefs.lvsSyncDaemon
        XCTAssertEqual(sync?.interface, "lan0")
        XCTAssertEqual(sync?.instance, "VI_1")
        XCTAssertEqual(sync?.syncID, 7)
        XCTAssertEqual(sync?.maxLength, 1400)
        XCTAssertEqual(sync?.port, 8849)
        XCTAssertEqual(sync?.ttl, 2)
        XCTAssertEqual(sync?.group, IPAddress("239.1.2.3"))
    }

    func testSyncIDDefaultsToTheInstancesRouterID() {
        let config = parseClean("global_defs {\n lvs_sync_daemon lan0 inst VI_1\n}\n" + instance(vrid: 42))
        XCTAssertNil(config.globalDefs.lvsSyncDaemon?.syncID)
        XCTAssertEqual(config.effectiveLVSSyncDaemon?.syncID, 42)
        let alone = parseClean("global_defs {\n lvs_sync_daemon lan0\n}\n")
        XCTAssertNil(alone.effectiveLVSSyncDaemon?.instance)
        XCTAssertEqual(alone.effectiveLVSSyncDaemon?.syncID, 0)
    }

    func testOldPositionalSyncIDIsReadWithKeepalivedsHint() {
        let result = parse("global_defs {\n lvs_sync_daemon lan0 VI_1 9\n}\n" + instance())
        XCTAssertEqual(result.diagnostics.errors.map(\.description), [])
        XCTAssertEqual(result.configuration.globalDefs.lvsSyncDaemon?.syncID, 9)
        assertDiagnostic(result, .warning, line: 2, contains: "Please use keyword \"id\" before lvs_sync_daemon SYNCID")
    }

    func testInstanceKeywordMovesToGlobalDefsWithADeprecationWarning() {
        let result = parse(instance("lvs_sync_daemon_interface lan1", vrid: 33))
        XCTAssertEqual(result.diagnostics.errors.map(\.description), [])
        assertDiagnostic(result, .warning, line: 4, contains: "(VI_1) Specifying lvs_sync_daemon_interface against a vrrp is deprecated")
        XCTAssertEqual(result.configuration.effectiveLVSSyncDaemon, {
            var sync = LVSSyncDaemon(interface: "lan1", instance: "VI_1")
            sync.syncID = 33
            return sync
        }())
    }

    func testMistakesAreErrorsAtTheirLine() {
        let cases: [(String, String)] = [
            ("lvs_sync_daemon lan0 VI_1 id 256", "lvs_sync_daemon id 256 is out of range 0-255"),
            ("lvs_sync_daemon lan0 VI_1 port", "lvs_sync_daemon port needs a value"),
            ("lvs_sync_daemon lan0 VI_1 group 192.0.2.1", "lvs_sync_daemon group address 192.0.2.1 is not multicast"),
            ("lvs_sync_daemon lan0 VI_1 speed 3", "Unknown option speed specified for lvs_sync_daemon"),
            ("lvs_sync_daemon averyveryverylongname", "longer than 15 characters"),
            ("lvs_sync_daemon lan0 VI_9", "there is no vrrp_instance VI_9 to follow"),
            ("lvs_timeouts tcp 0", "lvs_timeouts tcp 0 is out of range 1-2678400"),
            ("lvs_timeouts tcp 900 sctp 3", "Unknown option sctp specified for lvs_timeouts"),
            ("lvs_flush_on_stop ALL", "lvs_flush_on_stop takes nothing or VS, not 'ALL'"),
        ]
        for (line, message) in cases {
            let result = parse("global_defs {\n \(line)\n}\n" + instance())
            assertDiagnostic(result, .error, line: 2, contains: message)
        }
    }

    func testTwoSyncDaemonSettingsAreAnError() {
        let result = parse("global_defs {\n lvs_sync_daemon lan0 VI_1\n}\n" + instance("lvs_sync_daemon_interface lan1"))
        assertDiagnostic(result, .error, line: 4, contains: "the sync daemon is already set at")
    }

    func testTimeoutsAndFlushing() {
        let config = parseClean("""
        global_defs {
            lvs_timeouts tcp 7200 udp 60
            lvs_flush
            lvs_flush_onstop VS
        }
        """)
        XCTAssertEqual(config.globalDefs.lvsTimeouts, LVSTimeouts(tcp: 7200, udp: 60))
        XCTAssertEqual(config.globalDefs.lvsFlush, true)
        XCTAssertEqual(config.globalDefs.lvsFlushOnStop, .virtualServers)
        XCTAssertEqual(parseClean("global_defs {\n lvs_flush_on_stop\n}\n").globalDefs.lvsFlushOnStop, .wholeTable)
    }

    /// `-t -d` shows the sync daemon with its effective id, and the dump reads back the same.
    func testDumpShowsTheSettingsAndParsesBack() {
        let config = parseClean("""
        global_defs {
            lvs_sync_daemon lan0 VI_1 port 8849
            lvs_timeouts tcpfin 30
            lvs_flush_on_stop
        }
        """ + instance(vrid: 60))
        let dump = ConfigDump.render(config)
        XCTAssertTrue(dump.contains("lvs_sync_daemon lan0 inst VI_1 id 60 port 8849"), dump)
        XCTAssertTrue(dump.contains("lvs_timeouts tcpfin 30"), dump)
        XCTAssertTrue(dump.contains("lvs_flush_on_stop\n"), dump)
        let again = parseClean(dump)
        XCTAssertEqual(again.effectiveLVSSyncDaemon, config.effectiveLVSSyncDaemon)
        XCTAssertEqual(again.globalDefs.lvsTimeouts, config.globalDefs.lvsTimeouts)
        XCTAssertEqual(again.globalDefs.lvsFlushOnStop, .wholeTable)
    }
}
