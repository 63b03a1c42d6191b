import DaemonCore
import Foundation
import KeepalivedConfig
import XCTest

/// keepalived's FIFO lines, which FIFO gets which events, and a writer that never blocks.
final class NotifyFifoTests: XCTestCase {
    func testLines() {
        XCTAssertEqual(NotifyFifoLine.instance("VI_1", state: "MASTER", priority: 100), "INSTANCE \"VI_1\" MASTER 100\n")
        XCTAssertEqual(NotifyFifoLine.group("G1", state: "BACKUP"), "GROUP \"G1\" BACKUP 0\n")
        XCTAssertEqual(NotifyFifoLine.virtualServer("[192.0.2.10]:tcp:80", up: true), "VS [192.0.2.10]:tcp:80 UP\n")
        XCTAssertEqual(NotifyFifoLine.realServer("[198.51.100.1]:tcp:80", of: "[192.0.2.10]:tcp:80", up: false),
                       "RS [198.51.100.1]:tcp:80 [192.0.2.10]:tcp:80 DOWN\n")
    }

    private func settings(_ fifos: [(NotifyFifoKind, String, String?)]) -> ProcessSettings {
        var process = ProcessSettings()
        for (kind, path, script) in fifos {
            var fifo = NotifyFifoSettings()
            fifo.path = path
            fifo.script = script.map { ScriptCommand(command: $0) }
            process.notifyFifos[kind] = fifo
        }
        return process
    }

    func testPlan() {
        let separate = NotifyFifoPlan(settings([(.global, "/g", nil), (.vrrp, "/v", nil), (.lvs, "/l", nil)]), vrrp: true, lvs: true)
        XCTAssertEqual(separate.fifos.map(\.path), ["/g", "/v", "/l"])
        XCTAssertEqual(separate.fifos.map(\.sources), [[.vrrp, .lvs], [.vrrp], [.lvs]])
        let vrrpOnly = NotifyFifoPlan(settings([(.global, "/g", nil), (.vrrp, "/v", nil), (.lvs, "/l", nil)]), vrrp: true, lvs: false)
        XCTAssertEqual(vrrpOnly.fifos.map(\.path), ["/g", "/v"])
        XCTAssertEqual(vrrpOnly.fifos[0].sources, [.vrrp])
        let sameAsGlobal = NotifyFifoPlan(settings([(.global, "/g", "/a"), (.vrrp, "/g", "/b")]), vrrp: true, lvs: true)
        XCTAssertEqual(sameAsGlobal.fifos.count, 1)
        XCTAssertEqual(sameAsGlobal.fifos[0].script?.command, "/a", "the vrrp FIFO on the global one's path is ignored")
        let shared = NotifyFifoPlan(settings([(.vrrp, "/s", "/a"), (.lvs, "/s", "/b")]), vrrp: true, lvs: true)
        XCTAssertEqual(shared.fifos.count, 1)
        XCTAssertEqual(shared.fifos[0].sources, [.vrrp, .lvs])
        XCTAssertEqual(shared.fifos[0].script?.command, "/a", "the LVS script is dropped")
        XCTAssertTrue(NotifyFifoPlan(settings([(.global, "/g", nil)]), vrrp: false, lvs: false).fifos.isEmpty)
    }

    /// Without a reader the FIFO fills; writing then drops lines at once instead of waiting.
    func testWritesNeverBlockAndTheFifoIsRemoved() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("fifo-\(getpid())").path
        unlink(path)
        var scriptStarted = false
        guard case .success(let fifo) = NotifyFifo.open(path: path, owner: .current, ownerFailed: {}, beforeOpening: { scriptStarted = true }) else {
            return XCTFail("could not open \(path)")
        }
        XCTAssertTrue(scriptStarted)
        let started = Date()
        for _ in 0..<20_000 { XCTAssertNil(fifo.write(NotifyFifoLine.instance("VI_1", state: "MASTER", priority: 100))) }
        XCTAssertLessThan(Date().timeIntervalSince(started), 2)
        var status = stat()
        XCTAssertEqual(stat(path, &status), 0)
        XCTAssertEqual(status.st_mode & S_IFMT, S_IFIFO)
        fifo.close()
        XCTAssertNotEqual(access(path, F_OK), 0, "a FIFO the daemon made is removed")
    }

    func testAPlantedFileIsRefused() {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("planted-\(getpid())").path
        _ = FileManager.default.createFile(atPath: path, contents: Data())
        defer { unlink(path) }
        guard case .failure(let error) = NotifyFifo.open(path: path, owner: .current, ownerFailed: {}, beforeOpening: {}) else {
            return XCTFail("a regular file was taken for a FIFO")
        }
        XCTAssertEqual(error, .notOurs)
    }
}
