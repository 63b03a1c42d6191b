import Foundation
#if canImport(Glibc)
import Glibc
#endif
import XCTest

/// The reload storm, IPVS side: 50 SIGHUPs that add and remove a real server of one virtual
/// server never touch the other one. The untouched service carries marks set behind the
/// daemon's back (scheduler and a weight edited with ipvsadm); any write to it would undo them.
extension IPVSKernelTests {
    private func stormConfig(withSecondServer: Bool) -> String {
        """
        virtual_server 192.0.2.10 80 {
            lb_algo rr
            lb_kind NAT
            protocol TCP
            real_server 198.51.100.1 80 {
                weight 1
            }
            real_server 198.51.100.2 80 {
                weight 1
            }
        }
        virtual_server 192.0.2.20 80 {
            lb_algo rr
            lb_kind NAT
            protocol TCP
            real_server 198.51.100.1 80 {
                weight 1
            }
        \(withSecondServer ? "    real_server 198.51.100.2 80 {\n        weight 1\n    }" : "")
        }

        """
    }

    func testReloadStormLeavesUnchangedServicesAlone() throws {
        let (binary, directory) = try daemonAndScratchFolder("ipvs-storm")
        let configPath = directory.appendingPathComponent("keepalived.conf").path
        let logPath = directory.appendingPathComponent("daemon.log").path
        try stormConfig(withSecondServer: true).write(toFile: configPath, atomically: true, encoding: .utf8)
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        let daemon = Process()
        daemon.executableURL = binary
        daemon.arguments = ["-C", "-n", "-l", "-D", "-f", configPath, "-p", directory.appendingPathComponent("pid").path]
        daemon.standardOutput = FileHandle(forWritingAtPath: logPath)
        daemon.standardError = daemon.standardOutput
        try daemon.run()
        func log() -> String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }
        waitFor("both services programmed", timeout: 10, log: log) { run("/usr/sbin/ipvsadm", ["-Ln", "-t", "192.0.2.20:80"]).contains("198.51.100.2:80") }
        run("/usr/sbin/ipvsadm", ["-E", "-t", "192.0.2.10:80", "-s", "wlc"])
        run("/usr/sbin/ipvsadm", ["-e", "-t", "192.0.2.10:80", "-r", "198.51.100.2:80", "-m", "-w", "9"])
        let marked = run("/usr/sbin/ipvsadm", ["-Ln", "-t", "192.0.2.10:80"])
        XCTAssertTrue(marked.contains("wlc") && marked.contains(" 9 "), marked)

        let startLog = log()
        for round in 1...50 {
            try stormConfig(withSecondServer: round % 2 == 0).write(toFile: configPath, atomically: true, encoding: .utf8)
            kill(daemon.processIdentifier, SIGHUP)
            Thread.sleep(forTimeInterval: 0.2)
        }
        // A SIGHUP that comes while a reload's file is parsed asks for one more reload after it
        // (signals do not queue), so a slow VM runs fewer than 50: every reload asked for must
        // have finished, and the storm must have been one (at least 10).
        func count(_ line: String) -> Int { log().components(separatedBy: line).count - 1 }
        waitFor("every reload asked for finished (at least 10)", timeout: 20, log: log) {
            let started = count("Reloading")
            return started >= 10 && started <= 50 && count("IPVS table reloaded") == started
        }
        waitFor("the last reload's real server", timeout: 10, log: log) { run("/usr/sbin/ipvsadm", ["-Ln", "-t", "192.0.2.20:80"]).contains("198.51.100.2:80") }
        XCTAssertEqual(run("/usr/sbin/ipvsadm", ["-Ln", "-t", "192.0.2.10:80"]), marked, "the unchanged service was written to")
        let text = String(log().dropFirst(startLog.count))
        XCTAssertFalse(text.contains("Reload refused"), text)
        XCTAssertGreaterThanOrEqual(text.components(separatedBy: "Removing service [198.51.100.2]:tcp:80 from VS [192.0.2.20]:tcp:80").count - 1, 5, text)
        XCTAssertFalse(text.contains("VS [192.0.2.10]:tcp:80"), "a line about the unchanged service:\n\(text)")

        kill(daemon.processIdentifier, SIGTERM)
        daemon.waitUntilExit()
        XCTAssertEqual(daemon.terminationStatus, 0)
        XCTAssertFalse(run("/usr/sbin/ipvsadm", ["-Ln"]).contains("192.0.2."), "SIGTERM removes our services")
    }
}
