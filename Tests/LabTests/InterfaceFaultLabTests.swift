import Foundation
import XCTest

/// Faults under a running instance: its interface deleted and made again (a new index, so the old
/// sockets and addresses are gone). keepalived is the peer and must see our adverts again.
final class InterfaceFaultLabTests: LabTestCase {
    private let vip = "192.0.2.200"

    /// Deletes d1's lan0 (its veth pair goes with it) and makes it again as Scripts/lab does.
    private func remakeInterface(addressLast: Bool = false) throws {
        let switchNamespace = lab.namespace("sw")
        try lab.exec("d1", ["ip", "link", "del", "lan0"])
        Thread.sleep(forTimeInterval: 1.5)
        _ = try Lab.run("/usr/sbin/ip", ["-n", switchNamespace, "link", "add", "lan0", "netns", lab.namespace("d1"), "type", "veth", "peer", "name", "p-d1"])
        _ = try Lab.run("/usr/sbin/ip", ["-n", switchNamespace, "link", "set", "p-d1", "master", "br0", "up"])
        if addressLast {
            try lab.exec("d1", ["ip", "link", "set", "lan0", "up"])
            Thread.sleep(forTimeInterval: 2)
        }
        try lab.exec("d1", ["ip", "addr", "add", "\(lab.address("d1"))/24", "dev", "lan0"])
        try lab.exec("d1", ["ip", "link", "set", "lan0", "up"])
    }

    func testAnInterfaceMadeAgainIsUsedAgain() throws {
        lab = try Lab(directors: 2, servers: 1)
        let ours = try lab.start(.ours, on: "d1", config: Lab.vrrpInstance(state: "MASTER", priority: 100))
        lab.wait(upTo: 6, for: "ours to hold the VIP") { lab.holders(of: vip) == ["d1"] }
        let theirs = try lab.start(.keepalived, on: "d2", config: Lab.vrrpInstance(state: "BACKUP", priority: 99))
        waitForLog(theirs, "(VI_1) Entering BACKUP STATE")
        let before = try lab.exec("d1", ["cat", "/sys/class/net/lan0/ifindex"]).output

        try remakeInterface()
        XCTAssertNotEqual(try lab.exec("d1", ["cat", "/sys/class/net/lan0/ifindex"]).output, before, "a new interface, a new index")
        waitForLog(ours, "(VI_1) Entering FAULT STATE")
        waitForLog(ours, "(VI_1) starting: again, on the new lan0")
        // Ours (priority 100) takes the VIP back from keepalived, which has to hear our adverts on
        // the new interface to give it up.
        lab.wait(upTo: 10, for: "ours to hold the VIP again, alone") { lab.holders(of: vip) == ["d1"] }
        let capture = try AdvertCapture(lab: lab, node: "d1")
        for _ in 0..<8 {
            Thread.sleep(forTimeInterval: 0.5)
            XCTAssertEqual(lab.holders(of: vip), ["d1"], "keepalived hears our adverts from the new lan0")
        }
        capture.stop()
        XCTAssertGreaterThanOrEqual(capture.times.count, 3, "adverts leave the new lan0")
        XCTAssertTrue(theirs.log.components(separatedBy: "(VI_1) Entering BACKUP STATE").count >= 3, "keepalived went master and back: \(theirs.log)")
        let afterRestart = ours.log.components(separatedBy: "(VI_1) starting: again, on the new lan0").last ?? ""
        XCTAssertFalse(afterRestart.contains("cannot"), "no error on the new interface: \(ours.log)")

        // Up before it has its address: the instance waits for it, trying every second.
        try remakeInterface(addressLast: true)
        waitForLog(ours, "(VI_1) cannot start on the new lan0 yet")
        waitForLog(ours, "(VI_1) starting: again, on the new lan0", count: 2)
        lab.wait(upTo: 10, for: "ours to hold the VIP again") { lab.holders(of: vip) == ["d1"] }
    }

    /// Both netlink monitors overrun: the daemon is stopped (SIGSTOP) while thousands of address
    /// and link messages fill its sockets, and meanwhile a static address is deleted and a tracked
    /// interface goes down, their messages dropped with the rest. Resumed, it logs keepalived's
    /// overrun line, reads the whole state again, restores the address and enters FAULT.
    func testNetlinkOverrunLosesNoState() throws {
        lab = try Lab(directors: 1)
        // veth pairs: this host's kernel has no dummy interfaces.
        for (name, peer) in [("trk0", "trk0p"), ("flood0", "flood0p")] {
            XCTAssertEqual(try lab.exec("d1", ["ip", "link", "add", name, "type", "veth", "peer", "name", peer]).status, 0)
            try lab.exec("d1", ["ip", "link", "set", peer, "up"])
            try lab.exec("d1", ["ip", "link", "set", name, "up"])
        }
        let ours = try lab.start(.ours, on: "d1", config: """
            static_ipaddress {
                203.0.113.5/32 dev lan0
            }

            """ + Lab.vrrpInstance(state: "MASTER", priority: 100, extra: "track_interface {\n        trk0\n    }"))
        waitForLog(ours, "(VI_1) Entering MASTER STATE")
        kill(ours.pid, SIGSTOP)
        let batch = lab.directory.appendingPathComponent("flood.batch").path
        var lines = (0..<3000).map { "address add 10.99.\($0 / 250).\($0 % 250 + 1)/32 dev flood0" }
        lines += (0..<300).flatMap { _ in ["link set flood0 down", "link set flood0 up"] }
        try (lines.joined(separator: "\n") + "\n").write(toFile: batch, atomically: true, encoding: .utf8)
        XCTAssertEqual(try lab.exec("d1", ["ip", "-batch", batch]).status, 0)
        try lab.exec("d1", ["ip", "addr", "del", "203.0.113.5/32", "dev", "lan0"])
        try lab.exec("d1", ["ip", "link", "set", "trk0", "down"])
        kill(ours.pid, SIGCONT)
        waitForLog(ours, "Netlink: Receive buffer overrun on monitor socket - (No buffer space available)")
        waitForLog(ours, "Restoring deleted static address 203.0.113.5 dev lan0")
        waitForLog(ours, "(VI_1) Entering FAULT STATE")
        XCTAssertTrue(lab.addresses("d1").contains("203.0.113.5"), ours.log)
        XCTAssertTrue(ours.isRunning)
    }
}
