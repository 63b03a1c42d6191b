import Foundation
import XCTest

/// A split brain and its healing: VRRP between the directors is blocked (both become master) and
/// let through again. The loser must step down within one advert interval, and the winner must
/// announce the VIP again so that a neighbour whose cache learned the loser's MAC comes back.
final class SplitBrainLabTests: LabTestCase {
    private let vip = "192.0.2.200"

    private func mac(_ node: String) throws -> String {
        try lab.exec(node, ["cat", "/sys/class/net/lan0/address"]).output.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
    }

    /// The MAC s1's neighbour cache has for the VIP, or "" without an entry.
    private func neighbourMAC() -> String {
        let line = (try? lab.exec("s1", ["ip", "neigh", "show", vip, "dev", "lan0"]).output) ?? ""
        let words = line.split(separator: " ").map(String.init)
        guard let index = words.firstIndex(of: "lladdr"), index + 1 < words.count else { return "" }
        return words[index + 1].lowercased()
    }

    /// Drops VRRP (IP protocol 112) both ways on d1 with nftables, or lets it through again; ARP
    /// and the rest still pass, so both masters answer for the VIP.
    private func blockVRRP(_ blocked: Bool) throws {
        let commands = blocked
            ? ["add table inet splitbrain",
               "add chain inet splitbrain in { type filter hook input priority 0; }",
               "add chain inet splitbrain out { type filter hook output priority 0; }",
               "add rule inet splitbrain in ip protocol 112 drop",
               "add rule inet splitbrain out ip protocol 112 drop"]
            : ["delete table inet splitbrain"]
        for command in commands {
            let result = try lab.exec("d1", ["nft"] + command.split(separator: " ").map(String.init))
            XCTAssertEqual(result.status, 0, "nft \(command): \(result.output)")
        }
    }

    private func splitAndHeal(backup: Daemon.Kind) throws {
        lab = try Lab(directors: 2, servers: 1)
        let pinger = try lab.spawn("s1", ["sh", "-c", "echo READY; exec ping -q -i 0.2 \(vip)"], log: "ping.log")
        _ = pinger
        let winner = try lab.start(.ours, on: "d1", config: Lab.vrrpInstance(state: "MASTER", priority: 100))
        lab.wait(upTo: 6, for: "d1 to hold the VIP") { lab.holders(of: vip) == ["d1"] }
        _ = try lab.start(backup, on: "d2", config: Lab.vrrpInstance(state: "BACKUP", priority: 99))
        Thread.sleep(forTimeInterval: 2)
        XCTAssertEqual(lab.holders(of: vip), ["d1"])
        let (macs1, macs2) = (try mac("d1"), try mac("d2"))
        lab.wait(upTo: 3, for: "s1 to know the VIP at d1's MAC") { neighbourMAC() == macs1 }

        try blockVRRP(true)
        lab.wait(upTo: 8, for: "both directors to be master (split brain)") { lab.holders(of: vip) == ["d1", "d2"] }
        lab.wait(upTo: 3, for: "s1 to follow d2's gratuitous ARPs") { neighbourMAC() == macs2 }
        // Past the neighbour cache's locktime (1 s), so that the next update is not refused for it.
        Thread.sleep(forTimeInterval: 1.5)

        try blockVRRP(false)
        let stepDown = lab.wait(upTo: 3, for: "one master after the heal") { lab.holders(of: vip) == ["d1"] }
        XCTAssertLessThan(stepDown ?? 99, 1.2, "the loser steps down within one advert interval (1 s) of the heal")
        let followed = lab.wait(upTo: 3, for: "s1's neighbour entry for the VIP to point at the winner") { neighbourMAC() == macs1 }
        XCTAssertLessThan(followed ?? 99, 1.0, "neighbours follow the winner within a second")
        XCTAssertTrue(winner.log.contains("(VI_1) Received advert from 192.0.2.12 with lower priority 99, ours 100, forcing new election"), winner.log)
    }

    func testSplitBrainBetweenTwoOfOurs() throws {
        try splitAndHeal(backup: .ours)
    }

    func testSplitBrainWithKeepalivedAsTheLoser() throws {
        try splitAndHeal(backup: .keepalived)
    }
}
