import Foundation
import XCTest

/// use_ipvlan with keepalived as the peer. This machine's kernel has no ipvlan: the class runs
/// inside the VM with Debian's kernel (Scripts/test's VM tier), and skips on such a host.
final class IPVLANLabTests: LabTestCase {
    private let vip = "192.0.2.200"

    /// use_ipvlan: the adverts leave from an ipvlan (L2 mode, private) with an address of its own;
    /// the VIP goes on the base interface, as keepalived 2.2.7 puts it (seen in this lab), which is
    /// the peer with an ipvlan of its own; ours removes the ipvlan at SIGTERM and, after a SIGKILL,
    /// at the next start.
    /// Under software emulation every start and wait takes many times longer: the time-outs are wide.
    func testIPVLANWithKeepalived() throws {
        lab = try Lab(directors: 2, servers: 1)
        let probe = try lab.exec("d1", ["ip", "link", "add", "link", "lan0", "name", "probe0", "type", "ipvlan", "mode", "l2"])
        guard probe.status == 0 else { throw XCTSkip("this kernel has no ipvlan (\(probe.output.trimmingCharacters(in: .whitespacesAndNewlines))): the class runs in the VM") }
        _ = try lab.exec("d1", ["ip", "link", "del", "probe0"])
        func config(state: String, priority: Int, address: String) -> String {
            Lab.vrrpInstance(state: state, priority: priority, extra: "use_ipvlan ipv.51 \(address)/24 private")
        }
        func holders() -> [String] {
            ["d1", "d2"].filter { lab.addresses($0).contains(vip) }
        }
        func hasIPVLAN(_ node: String) -> Bool { ((try? lab.exec(node, ["ip", "-o", "link", "show", "ipv.51"]))?.status ?? 1) == 0 }
        let ours = try lab.start(.ours, on: "d1", config: config(state: "MASTER", priority: 100, address: "192.0.2.71"))
        lab.wait(upTo: 30, for: "d1 to hold the VIP") { holders() == ["d1"] }
        let link = try lab.exec("d1", ["ip", "-d", "-o", "link", "show", "ipv.51"]).output
        XCTAssertTrue(link.contains("ipvlan") && link.contains("mode l2") && link.contains("private"), link)
        let baseMAC = try lab.exec("d1", ["cat", "/sys/class/net/lan0/address"]).output.trimmingCharacters(in: .whitespacesAndNewlines)
        XCTAssertTrue(link.contains("link/ether \(baseMAC)"), "an ipvlan has its base's MAC: \(link)")
        XCTAssertTrue(try lab.exec("d1", ["ip", "-4", "-o", "addr", "show", "dev", "ipv.51"]).output.contains(" 192.0.2.71/24 "))
        XCTAssertTrue(ours.log.contains("(VI_1) created ipvlan interface ipv.51 on lan0"), ours.log)
        XCTAssertTrue(ours.log.contains("Sending gratuitous ARP on lan0 for \(vip)"), ours.log)
        let adverts = try lab.exec("sw", ["timeout", "10", "tcpdump", "-i", "br0", "-n", "-c", "2", "ip proto 112"]).output
        XCTAssertEqual(adverts.components(separatedBy: "192.0.2.71 > 224.0.0.18: VRRPv2").count - 1, 2, "adverts leave from the ipvlan's address: \(adverts)")
        let theirs = try lab.start(.keepalived, on: "d2", config: config(state: "BACKUP", priority: 99, address: "192.0.2.72"))
        waitForLog(theirs, "(VI_1) Entering BACKUP STATE", timeout: 30)
        for _ in 0..<6 {
            Thread.sleep(forTimeInterval: 0.5)
            XCTAssertEqual(holders(), ["d1"], "keepalived accepts our adverts from the ipvlan")
        }
        XCTAssertEqual(try lab.exec("s1", ["ping", "-c", "1", "-W", "1", vip]).status, 0, "the VIP answers through the ipvlan")

        ours.kill(SIGTERM)
        XCTAssertTrue(ours.waitForExit(timeout: 10))
        XCTAssertFalse(hasIPVLAN("d1"), "SIGTERM removes ipv.51")
        lab.wait(upTo: 20, for: "keepalived to take the VIP over") { holders() == ["d2"] }
        let backup = try lab.start(.ours, on: "d1", config: config(state: "BACKUP", priority: 99, address: "192.0.2.71"))
        waitForLog(backup, "(VI_1) Entering BACKUP STATE", timeout: 30)
        Thread.sleep(forTimeInterval: 2)
        XCTAssertEqual(holders(), ["d2"], "we accept keepalived's adverts from its ipvlan")
        backup.kill(SIGKILL)
        XCTAssertTrue(backup.waitForExit(timeout: 10))
        XCTAssertTrue(hasIPVLAN("d1"), "a killed daemon leaves its ipvlan")
        let again = try lab.start(.ours, on: "d1", config: config(state: "BACKUP", priority: 99, address: "192.0.2.71"))
        waitForLog(again, "(VI_1) removing ipv.51 left by a previous run", timeout: 30)
        theirs.kill(SIGKILL)
        lab.wait(upTo: 20, for: "ours to take the VIP over") { holders().contains("d1") }
        XCTAssertEqual(try lab.exec("s1", ["ping", "-c", "1", "-W", "1", vip]).status, 0)
        again.kill(SIGTERM)
        XCTAssertTrue(again.waitForExit(timeout: 10))
        XCTAssertFalse(hasIPVLAN("d1"), "SIGTERM after a restart removes ipv.51")
    }
}
