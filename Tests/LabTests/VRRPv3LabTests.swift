import Foundation
import XCTest

/// VRRPv3 (RFC 5798) between lab namespaces, with Debian's keepalived as the peer: centisecond
/// adverts, the pseudo-header checksum, and a backup that follows the master's interval.
final class VRRPv3LabTests: LabTestCase {
    private let vip = "192.0.2.200"

    private func config(state: String, priority: Int, interval: String = "0.1", globals: String = "", extra: String = "") -> String {
        """
        global_defs {
            \(globals)
        }
        vrrp_instance VI_1 {
            state \(state)
            interface lan0
            virtual_router_id 51
            priority \(priority)
            version 3
            advert_int \(interval)
            virtual_ipaddress {
                \(vip)
            }
            \(extra)
        }

        """
    }

    /// The time from the old master's last advert to the new master's first, on the wire.
    private func takeover(old: AdvertCapture, new: AdvertCapture, after kill: Double) -> Double? {
        guard let last = old.times.last(where: { $0 < kill + 0.05 }), let first = new.times.first(where: { $0 > last }) else { return nil }
        return first - last
    }

    /// SIGKILLs the master on d1; the time from its last advert to d2's first, on the wire.
    private func killAndTimeTakeover(_ master: Daemon, _ old: AdvertCapture, _ new: AdvertCapture, by who: String) throws -> Double {
        let killed = Date().timeIntervalSince1970
        master.kill(SIGKILL)
        // A killed daemon leaves its address behind: d2 holding it is the takeover.
        lab.wait(upTo: 3, for: "\(who) to take over") { lab.holders(of: vip).contains("d2") }
        Thread.sleep(forTimeInterval: 0.3)
        old.stop()
        new.stop()
        return try XCTUnwrap(takeover(old: old, new: new, after: killed), "\(who) never advertised")
    }

    func testOursMasterAgainstKeepalivedBackupAtATenthOfASecond() throws {
        lab = try Lab(directors: 2)
        let ours = try lab.start(.ours, on: "d1", config: config(state: "MASTER", priority: 100))
        let theirs = try lab.start(.keepalived, on: "d2", config: config(state: "BACKUP", priority: 99))
        lab.wait(upTo: 6, for: "ours to hold the VIP") { lab.holders(of: vip) == ["d1"] }
        let capture1 = try AdvertCapture(lab: lab, node: "d1")
        let capture2 = try AdvertCapture(lab: lab, node: "d2")
        // At 0.1 s keepalived's Master_Down_Interval is 0.36 s: one refused checksum or a late
        // advert would make it master within the second.
        assertOnlyHolder("d1", for: 2, "keepalived accepts our v3 adverts")
        let sent = capture1.times
        XCTAssertGreaterThan(sent.count, 15, "adverts every 0.1 s")
        let gaps = zip(sent, sent.dropFirst()).map { $1 - $0 }
        XCTAssertLessThan(gaps.max() ?? 1, 0.15, "no advert more than 50 ms late: \(gaps)")

        let delay = try killAndTimeTakeover(ours, capture1, capture2, by: "keepalived")
        // keepalived 2.2.7's Master_Down_Interval for priority 99: 3 × 0.1 + 157 × 0.1 / 256 s.
        XCTAssertEqual(delay, 0.3 + 157 * 0.1 / 256, accuracy: 0.03, "keepalived took over after its Master_Down_Interval")
        XCTAssertTrue(theirs.log.contains("(VI_1) Entering MASTER STATE"), theirs.log)
        XCTAssertFalse(theirs.log.contains("checksum"), theirs.log)
        XCTAssertFalse(theirs.log.contains("wrong VRRP version"), theirs.log)
    }

    func testKeepalivedMasterAgainstOurBackupAtATenthOfASecond() throws {
        lab = try Lab(directors: 2)
        let theirs = try lab.start(.keepalived, on: "d1", config: config(state: "MASTER", priority: 100))
        lab.wait(upTo: 6, for: "keepalived to hold the VIP") { lab.holders(of: vip) == ["d1"] }
        let ours = try lab.start(.ours, on: "d2", config: config(state: "BACKUP", priority: 99))
        let capture1 = try AdvertCapture(lab: lab, node: "d1")
        let capture2 = try AdvertCapture(lab: lab, node: "d2")
        assertOnlyHolder("d1", for: 2, "we accept keepalived's v3 adverts")
        let delay = try killAndTimeTakeover(theirs, capture1, capture2, by: "ours")
        XCTAssertEqual(delay, 0.3 + 157 * 0.1 / 256, accuracy: 0.01, "RFC 5798's Master_Down_Interval, on the wire")
        XCTAssertTrue(ours.log.contains("(VI_1) Receive advertisement timeout"), ours.log)
        XCTAssertTrue(ours.log.contains("(VI_1) Entering MASTER STATE"), ours.log)
        XCTAssertFalse(ours.log.contains("rejected"), ours.log)
    }

    /// RFC 5798 6.4.2: a backup uses the master's interval. keepalived advertises every 0.5 s; ours,
    /// configured at 0.1 s, would take over within 0.36 s of each advert if it did not follow.
    func testOurBackupFollowsASlowerMastersInterval() throws {
        lab = try Lab(directors: 2)
        _ = try lab.start(.keepalived, on: "d1", config: config(state: "MASTER", priority: 100, interval: "0.5"))
        lab.wait(upTo: 6, for: "keepalived to hold the VIP") { lab.holders(of: vip) == ["d1"] }
        // A backup starts with its own interval (RFC 5798 6.4.1), so ours, started more than 0.36 s
        // before keepalived's next advert, takes over before hearing it, as keepalived's would:
        // ours starts 0.22-0.30 s after one of keepalived's adverts, and hears the next well within.
        let theirAdverts = try AdvertCapture(lab: lab, node: "d1")
        _ = lab.wait(upTo: 5, for: "a quarter of a second after one of keepalived's adverts") {
            guard let last = theirAdverts.times.last else { return false }
            let since = Date().timeIntervalSince1970 - last
            return since >= 0.22 && since <= 0.30
        }
        let ours = try lab.start(.ours, on: "d2", config: config(state: "BACKUP", priority: 99))
        assertOnlyHolder("d1", for: 3, "our backup waits 3 × the master's 0.5 s")
        XCTAssertTrue(ours.log.contains("(VI_1) advertisement interval mismatch ours = 10 centi-sec rcv'd=50 centi-sec"), ours.log)
        XCTAssertFalse(ours.log.contains("Entering MASTER STATE"), ours.log)
    }

    /// v3_checksum_as_v2 on both sides interoperates. keepalived 2.2.7 (Debian's) predates the
    /// keyword and always covers the pseudo-header: against it, ours with the setting refuses every
    /// advert (and says so) and both become master, so the setting really changes the wire.
    func testChecksumAsV2() throws {
        lab = try Lab(directors: 2)
        let first = try lab.start(.ours, on: "d1", config: config(state: "MASTER", priority: 100, globals: "v3_checksum_as_v2"))
        lab.wait(upTo: 6, for: "d1 to hold the VIP") { lab.holders(of: vip) == ["d1"] }
        let second = try lab.start(.ours, on: "d2", config: config(state: "BACKUP", priority: 99, extra: "v3_checksum_as_v2"))
        assertOnlyHolder("d1", for: 1.5, "both compute the checksum without the pseudo-header")
        XCTAssertFalse(second.log.contains("rejected"), second.log)
        second.kill(SIGTERM)
        first.kill(SIGTERM)
        XCTAssertTrue(first.waitForExit(timeout: 2) && second.waitForExit(timeout: 2))

        _ = try lab.start(.keepalived, on: "d1", config: config(state: "MASTER", priority: 100))
        lab.wait(upTo: 6, for: "keepalived to hold the VIP") { lab.holders(of: vip) == ["d1"] }
        let mismatched = try lab.start(.ours, on: "d2", config: config(state: "BACKUP", priority: 99, extra: "v3_checksum_as_v2"))
        lab.wait(upTo: 3, for: "ours to refuse keepalived's checksums and become master") { lab.holders(of: vip) == ["d1", "d2"] }
        XCTAssertTrue(mismatched.log.contains("rejected: checksum computed another way"), mismatched.log)
    }

    // MARK: IPv6

    private let vip6 = "2001:db8:5::200"

    private func config6(state: String, priority: Int) -> String {
        """
        vrrp_instance VI_6 {
            state \(state)
            interface lan0
            virtual_router_id 61
            priority \(priority)
            advert_int 0.1
            virtual_ipaddress {
                \(vip6)/64
            }
        }

        """
    }

    private func holders6() -> [String] {
        ["d1", "d2"].filter { node in
            ((try? lab.exec(node, ["ip", "-6", "-o", "addr", "show", "dev", "lan0"]).output) ?? "").contains(" \(vip6)/64 ")
        }
    }

    /// tcpdump on the lab's switch of the Neighbor Advertisements for the IPv6 VIP: (time, source MAC).
    private func startNACapture() throws -> (Process, String) {
        let path = lab.directory.appendingPathComponent("na.txt").path
        _ = FileManager.default.createFile(atPath: path, contents: nil)
        let tcpdump = Process()
        tcpdump.executableURL = URL(fileURLWithPath: "/usr/sbin/ip")
        tcpdump.arguments = ["netns", "exec", lab.namespace("sw"), "tcpdump", "-i", "br0", "-n", "-e", "-l", "--immediate-mode", "-tt",
                             "icmp6 and ip6[40] == 136"]
        tcpdump.standardOutput = FileHandle(forWritingAtPath: path)
        tcpdump.standardError = FileHandle.nullDevice
        try tcpdump.run()
        Thread.sleep(forTimeInterval: 1)
        return (tcpdump, path)
    }

    private func neighborAdverts(_ path: String, from node: String) throws -> [String] {
        let mac = try lab.exec(node, ["cat", "/sys/class/net/lan0/address"]).output.trimmingCharacters(in: .whitespacesAndNewlines)
        return ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
            .filter { $0.lowercased().contains("\(mac) > 33:33:00:00:00:01") && $0.contains("tgt is \(vip6)") }
    }

    /// IPv6 instances speak VRRPv3 from the link-local address to ff02::12; the new master's
    /// Neighbor Advertisements for the VIP are on the wire from its MAC.
    func testIPv6WithKeepalivedInBothRoles() throws {
        lab = try Lab(directors: 2)
        let (tcpdump, capture) = try startNACapture()
        defer { tcpdump.terminate() }
        let ours = try lab.start(.ours, on: "d1", config: config6(state: "MASTER", priority: 100))
        let theirs = try lab.start(.keepalived, on: "d2", config: config6(state: "BACKUP", priority: 99))
        lab.wait(upTo: 6, for: "ours to hold the IPv6 VIP") { holders6() == ["d1"] }
        for _ in 0..<8 {
            Thread.sleep(forTimeInterval: 0.25)
            XCTAssertEqual(holders6(), ["d1"], "keepalived accepts our IPv6 adverts")
        }
        XCTAssertEqual(try neighborAdverts(capture, from: "d1").count, 5, "garp_master_repeat Neighbor Advertisements from our MAC")
        XCTAssertTrue(ours.log.contains("Sending unsolicited Neighbour Advert on lan0 for \(vip6)"), ours.log)

        ours.kill(SIGTERM)
        XCTAssertTrue(ours.waitForExit(timeout: 2))
        lab.wait(upTo: 3, for: "keepalived to take the IPv6 VIP over") { holders6() == ["d2"] }
        XCTAssertTrue(theirs.log.contains("(VI_6) Entering MASTER STATE"), theirs.log)

        // And the other way round: keepalived master, ours backup, keepalived killed.
        let backup = try lab.start(.ours, on: "d1", config: config6(state: "BACKUP", priority: 99))
        for _ in 0..<8 {
            Thread.sleep(forTimeInterval: 0.25)
            XCTAssertEqual(holders6(), ["d2"], "we accept keepalived's IPv6 adverts")
        }
        theirs.kill(SIGKILL)
        lab.wait(upTo: 3, for: "ours to take the IPv6 VIP over") { holders6().contains("d1") }
        Thread.sleep(forTimeInterval: 0.5)
        tcpdump.terminate()
        tcpdump.waitUntilExit()
        XCTAssertEqual(try neighborAdverts(capture, from: "d1").count, 10, "a second burst of 5 from our MAC after the takeover")
        XCTAssertTrue(backup.log.contains("(VI_6) Entering MASTER STATE"), backup.log)
        XCTAssertFalse(backup.log.contains("rejected"), backup.log)
    }
}
