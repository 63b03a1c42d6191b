import Foundation
import XCTest

/// A notify script that never exits: it holds up nothing. Adverts keep their schedule, the
/// following transitions' scripts still run, and SIGTERM still stops the daemon at once.
final class HungScriptLabTests: LabTestCase {
    /// A duration no other process on the machine sleeps, to find the hung scripts afterwards.
    private let hang = "601.25"

    override func tearDown() {
        _ = try? Lab.run("/usr/bin/pkill", ["-f", "sleep \(hang)"])
        super.tearDown()
    }

    func testANotifyScriptThatNeverExitsHoldsUpNothing() throws {
        lab = try Lab(directors: 2)
        let events = lab.directory.appendingPathComponent("events").path
        let scripts = """
        notify_master "/bin/sleep \(hang)"
        notify_backup "/bin/sh -c 'echo backup >> \(events)'"
        """
        let ours = try lab.start(.ours, on: "d1", config: Lab.vrrpInstance(state: "MASTER", priority: 100, extra: scripts))
        lab.wait(upTo: 6, for: "ours to be master") { lab.addresses("d1").contains("192.0.2.200") }
        let capture = try AdvertCapture(lab: lab, node: "d1")
        Thread.sleep(forTimeInterval: 3.5)
        capture.stop()
        let sent = capture.times
        let gaps = zip(sent, sent.dropFirst()).map { $1 - $0 }
        XCTAssertGreaterThanOrEqual(sent.count, 3)
        XCTAssertLessThan(gaps.max() ?? 9, 1.005, "adverts on time while notify_master hangs: \(gaps)")

        // A higher priority takes over: notify_backup runs (again: it ran at start, in BACKUP
        // (init)) though notify_master never ended.
        let theirs = try lab.start(.keepalived, on: "d2", config: Lab.vrrpInstance(state: "MASTER", priority: 150))
        func backups() -> Int { ((try? String(contentsOfFile: events, encoding: .utf8)) ?? "").components(separatedBy: "backup").count - 1 }
        lab.wait(upTo: 8, for: "notify_backup to run on the takeover") { backups() == 2 }
        waitForLog(ours, "(VI_1) Entering BACKUP STATE\n")
        // Back to master (keepalived leaves), a second hung notify_master beside the first.
        theirs.kill(SIGTERM)
        waitForLog(ours, "(VI_1) Entering MASTER STATE", count: 2)
        lab.wait(upTo: 3, for: "both notify_master scripts to be running") {
            (try? Lab.run("/usr/bin/pgrep", ["-fc", "sleep \(hang)"]).output.trimmingCharacters(in: .whitespacesAndNewlines)) == "2"
        }

        ours.kill(SIGTERM)
        let took = lab.wait(upTo: 3, for: "ours to exit, the scripts still running") { !Lab.isAlive(ours.pid) }
        XCTAssertLessThan(took ?? 9, 1, "SIGTERM is not held up by the scripts")
        XCTAssertTrue(ours.log.contains("(VI_1) removing VIPs."), ours.log)
    }
}
