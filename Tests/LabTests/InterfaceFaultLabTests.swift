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
}
