import Foundation
#if canImport(Glibc)
import Glibc
#endif
import XCTest

/// The wall clock stepped back an hour, then forward again, under a running daemon: timers run on
/// the monotonic clock, so adverts, the master-down timer and the checks carry on as if nothing
/// happened. Stepping the clock is for a machine of the test's own: the class runs inside the VM
/// (Scripts/test's VM tier sets SWIFTKEEPALIVED_TEST_STEP_CLOCK=1) and skips elsewhere.
final class ClockStepLabTests: LabTestCase {
    private static let script = Lab.repository.appendingPathComponent("Tests/LabTests/check_servers.py").path

    /// Steps CLOCK_REALTIME by `seconds` (this test's VM only).
    private func stepClock(by seconds: Int) {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        now.tv_sec += seconds
        XCTAssertEqual(clock_settime(CLOCK_REALTIME, &now), 0, "clock_settime: errno \(errno)")
    }

    private func twoInstances(ourPriorities: (Int, Int)) -> String {
        [(name: "VI_1", vrid: 51, vip: "192.0.2.200", priority: ourPriorities.0),
         (name: "VI_2", vrid: 52, vip: "192.0.2.201", priority: ourPriorities.1)].map { instance in
            Lab.vrrpInstance(state: "BACKUP", priority: instance.priority, vrid: instance.vrid, addresses: [instance.vip])
                .replacingOccurrences(of: "vrrp_instance VI_1", with: "vrrp_instance \(instance.name)")
        }.joined()
    }

    func testWallClockSteppedBackAnHourAndForward() throws {
        try XCTSkipUnless(ProcessInfo.processInfo.environment["SWIFTKEEPALIVED_TEST_STEP_CLOCK"] == "1",
                          "steps the wall clock of the machine: runs inside the VM (Scripts/test's VM tier)")
        lab = try Lab(directors: 2, servers: 1)
        let server = lab.address("s1")
        _ = try lab.spawn("s1", ["python3", Self.script, "--control", "127.0.0.1:9000", "\(server):8080=tcp"], log: "servers.log")
        func ask(_ command: String) -> String {
            let result = try? lab.exec("s1", ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/9000; echo '\(command)' >&3; read -r line <&3; echo \"$line\""])
            return result?.output.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        }
        func control(_ command: String) { XCTAssertEqual(ask(command), "ok", command) }
        func checks() -> Int {
            Int(ask("stats \(server):8080").split(separator: " ").first { $0.hasPrefix("connections=") }?.dropFirst(12) ?? "") ?? 0
        }
        // Ours is master of VI_1 and backup of VI_2, keepalived the other way round.
        let ours = try lab.start(.ours, on: "d1", config: twoInstances(ourPriorities: (150, 100)) + """
            virtual_server 192.0.2.200 8080 {
                delay_loop 1
                lb_algo rr
                lb_kind NAT
                protocol TCP
                real_server \(server) 8080 {
                    weight 1
                    TCP_CHECK {
                        connect_timeout 1
                    }
                }
            }

            """, part: .both)
        let theirs = try lab.start(.keepalived, on: "d2", config: twoInstances(ourPriorities: (100, 150)))
        waitForLog(ours, "(VI_1) Entering MASTER STATE", timeout: 30)
        waitForLog(theirs, "(VI_2) Entering MASTER STATE", timeout: 30)
        lab.wait(upTo: 30, for: "two checks") { checks() >= 2 }
        lab.wait(upTo: 30, for: "each VIP on its master") {
            lab.holders(of: "192.0.2.200") == ["d1"] && lab.holders(of: "192.0.2.201") == ["d2"]
        }
        let transitions = { (log: String) in log.components(separatedBy: "Entering").count - 1 }
        let (oursBefore, theirsBefore) = (transitions(ours.log), transitions(theirs.log))

        let checksBefore = checks()
        stepClock(by: -3600)
        var stepped = -3600
        defer { if stepped != 0 { stepClock(by: -stepped) } }
        // Adverts on time both ways: a late one would make the other side take over within 3.6 s.
        assertOnlyHolder("d1", of: "192.0.2.200", for: 6, "our adverts stop after the clock went back")
        XCTAssertEqual(lab.holders(of: "192.0.2.201"), ["d2"], "our master-down timer fired after the clock went back")
        XCTAssertGreaterThanOrEqual(checks() - checksBefore, 3, "the checks (delay_loop 1) stopped after the clock went back")
        control("close \(server):8080")
        waitForLog(ours, "TCP connection to [\(server)]:tcp:8080 failed", timeout: 15)
        waitForLog(ours, "Removing service [\(server)]:tcp:8080 from VS [192.0.2.200]:tcp:8080", timeout: 15)

        stepClock(by: 3600)
        stepped = 0
        assertOnlyHolder("d1", of: "192.0.2.200", for: 4, "our adverts after the clock went forward")
        XCTAssertEqual(lab.holders(of: "192.0.2.201"), ["d2"], "our master-down timer fired after the clock went forward")
        control("open \(server):8080")
        waitForLog(ours, "Adding service [\(server)]:tcp:8080 to VS [192.0.2.200]:tcp:8080", timeout: 15)
        XCTAssertEqual(transitions(ours.log), oursBefore, "ours changed state:\n\(ours.log)")
        XCTAssertEqual(transitions(theirs.log), theirsBefore, "keepalived changed state:\n\(theirs.log)")
        XCTAssertTrue(ours.isRunning && theirs.isRunning)
    }
}
