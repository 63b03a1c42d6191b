import Foundation
import XCTest

/// use_vmac: the VIP lives on a macvlan "vrrp.51" with the virtual router's MAC 00:00:5e:00:01:33,
/// so neighbours keep one MAC for the VIP whichever director holds it. keepalived is the peer.
final class VirtualMACLabTests: LabTestCase {
    private let vip = "192.0.2.200"
    private let vmac = "00:00:5e:00:01:33"

    private func config(state: String, priority: Int) -> String {
        Lab.vrrpInstance(state: state, priority: priority, extra: "use_vmac")
    }

    /// The nodes whose vrrp.51 holds the VIP.
    private func holders() -> [String] {
        ["d1", "d2"].filter { ((try? lab.exec($0, ["ip", "-4", "-o", "addr", "show", "dev", "vrrp.51"]).output) ?? "").contains(" \(vip)/") }
    }

    private func hasLink(_ node: String) -> Bool {
        ((try? lab.exec(node, ["ip", "-o", "link", "show", "vrrp.51"]))?.status ?? 1) == 0
    }

    private var arpLog = ""

    /// tcpdump of the ARP on the lab's switch, to `arpLog`.
    private func captureARP() throws -> Process {
        arpLog = lab.directory.appendingPathComponent("arp.txt").path
        _ = FileManager.default.createFile(atPath: arpLog, contents: nil)
        let tcpdump = Process()
        tcpdump.executableURL = URL(fileURLWithPath: "/usr/sbin/ip")
        tcpdump.arguments = ["netns", "exec", lab.namespace("sw"), "tcpdump", "-i", "br0", "-n", "-e", "-l", "--immediate-mode", "arp"]
        tcpdump.standardOutput = FileHandle(forWritingAtPath: arpLog)
        tcpdump.standardError = FileHandle.nullDevice
        try tcpdump.run()
        Thread.sleep(forTimeInterval: 1)
        return tcpdump
    }

    private func arpLines() -> [String] {
        ((try? String(contentsOfFile: arpLog, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
    }

    /// The source MACs of the gratuitous ARPs for the VIP seen so far, in order.
    private func gratuitousARPSources() -> [String] {
        arpLines().filter { $0.contains("Request who-has \(vip)") && $0.contains("tell \(vip),") }.map { String($0.split(separator: " ")[1]) }
    }

    /// s1 asks for the VIP afresh; the MAC the holder answers with. (Later traffic may teach s1 the
    /// base interface's MAC: the holder's own ARP requests leave from it with the VIP as source, a
    /// kernel behaviour keepalived's VMACs share; the answer to "who has the VIP" is what counts.)
    private func answerForVIP() -> String {
        _ = try? lab.exec("s1", ["ip", "neigh", "flush", "to", vip])
        let before = arpLines().count
        _ = try? lab.exec("s1", ["ping", "-c", "1", "-W", "1", vip])
        Thread.sleep(forTimeInterval: 0.3)
        let replies = arpLines().dropFirst(before).filter { $0.contains("Reply \(vip) is-at ") }
        // "… Reply 192.0.2.200 is-at 00:00:5e:00:01:33, length 28"
        return replies.first.flatMap { $0.components(separatedBy: "is-at ").last?.split(separator: ",").first.map(String.init) } ?? ""
    }

    func testOursAndKeepalivedShareTheVirtualMACAndOursCleansUp() throws {
        lab = try Lab(directors: 2, servers: 1)
        let tcpdump = try captureARP()
        defer { tcpdump.terminate() }
        let ours = try lab.start(.ours, on: "d1", config: config(state: "MASTER", priority: 100))
        lab.wait(upTo: 6, for: "d1's vrrp.51 to hold the VIP") { holders() == ["d1"] }
        let link = try lab.exec("d1", ["ip", "-d", "-o", "link", "show", "vrrp.51"]).output
        XCTAssertTrue(link.contains("link/ether \(vmac)"), link)
        XCTAssertTrue(link.contains("macvlan mode private"), link)
        XCTAssertTrue(ours.log.contains("(VI_1) created VMAC interface vrrp.51 on lan0"), ours.log)
        let theirs = try lab.start(.keepalived, on: "d2", config: config(state: "BACKUP", priority: 99))
        XCTAssertEqual(Set(gratuitousARPSources()), [vmac], "our gratuitous ARPs come from the virtual MAC")
        XCTAssertEqual(answerForVIP(), vmac, "the VIP answers from the virtual MAC")
        for _ in 0..<6 {
            Thread.sleep(forTimeInterval: 0.5)
            XCTAssertEqual(holders(), ["d1"], "keepalived accepts adverts sent from our VMAC")
        }

        // SIGTERM: keepalived takes over and the neighbour keeps the same MAC; our macvlan is gone.
        ours.kill(SIGTERM)
        XCTAssertTrue(ours.waitForExit(timeout: 2))
        XCTAssertFalse(hasLink("d1"), "SIGTERM removes vrrp.51")
        XCTAssertEqual(try lab.exec("d1", ["sysctl", "-n", "net.ipv4.conf.lan0.arp_ignore"]).output.trimmingCharacters(in: .whitespacesAndNewlines), "0",
                       "lan0's arp_ignore put back at a clean stop")
        let sentBefore = gratuitousARPSources().count
        lab.wait(upTo: 3, for: "keepalived to take the VIP over") { holders() == ["d2"] }
        lab.wait(upTo: 2, for: "keepalived's gratuitous ARPs") { gratuitousARPSources().count > sentBefore }
        XCTAssertEqual(Set(gratuitousARPSources().dropFirst(sentBefore)), [vmac], "keepalived announces the same MAC")
        XCTAssertEqual(answerForVIP(), vmac, "one MAC for the VIP, whoever holds it")

        // Ours as the backup; keepalived killed: ours takes over on its macvlan.
        let backup = try lab.start(.ours, on: "d1", config: config(state: "BACKUP", priority: 99))
        Thread.sleep(forTimeInterval: 2)
        XCTAssertEqual(holders(), ["d2"], "we accept keepalived's adverts from its VMAC")
        theirs.kill(SIGKILL)
        let sentByKeepalived = gratuitousARPSources().count
        lab.wait(upTo: 6, for: "ours to take the VIP over") { holders().contains("d1") }
        lab.wait(upTo: 2, for: "our gratuitous ARPs") { gratuitousARPSources().count > sentByKeepalived }
        XCTAssertEqual(Set(gratuitousARPSources().dropFirst(sentByKeepalived)), [vmac])

        // SIGKILL leaves the macvlan; the next start removes it and makes it anew; SIGTERM removes it.
        backup.kill(SIGKILL)
        XCTAssertTrue(backup.waitForExit(timeout: 2))
        XCTAssertTrue(hasLink("d1"), "a killed daemon leaves its macvlan")
        let again = try lab.start(.ours, on: "d1", config: config(state: "BACKUP", priority: 99))
        waitForLog(again, "(VI_1) removing vrrp.51 left by a previous run")
        waitForLog(again, "(VI_1) Entering BACKUP STATE")
        again.kill(SIGTERM)
        XCTAssertTrue(again.waitForExit(timeout: 2))
        XCTAssertFalse(hasLink("d1"), "SIGTERM after a restart removes vrrp.51")
    }

    /// IPv6: the macvlan has 00:00:5e:00:02:VRID, no link-local address of its own making (both
    /// routers would share it) but the base's, from which the VRRPv3 adverts leave; a neighbour's
    /// entry for the VIP holds the virtual MAC whoever is master, keepalived or ours.
    func testIPv6OnTheVirtualMACWithKeepalived() throws {
        lab = try Lab(directors: 2, servers: 1)
        let vip6 = "2001:db8:5::200"
        let vmac6 = "00:00:5e:00:02:3d"
        func config6(state: String, priority: Int) -> String {
            """
            vrrp_instance VI_6 {
                state \(state)
                interface lan0
                virtual_router_id 61
                priority \(priority)
                advert_int 0.5
                use_vmac vrrp6.61
                virtual_ipaddress {
                    \(vip6)/64
                }
            }

            """
        }
        func holders6() -> [String] {
            ["d1", "d2"].filter { ((try? lab.exec($0, ["ip", "-6", "-o", "addr", "show", "dev", "vrrp6.61"]).output) ?? "").contains(" \(vip6)/64 ") }
        }
        /// s1 asks for the VIP afresh: the MAC its neighbour entry then holds.
        func neighbourMAC() -> String {
            _ = try? lab.exec("s1", ["ip", "-6", "neigh", "flush", "dev", "lan0"])
            _ = try? lab.exec("s1", ["ping", "-6", "-c", "1", "-W", "1", vip6])
            let entry = (try? lab.exec("s1", ["ip", "-6", "neigh", "show", vip6]).output) ?? ""
            return entry.components(separatedBy: "lladdr ").dropFirst().first?.split(separator: " ").first.map(String.init) ?? entry
        }
        for node in ["d1", "d2", "s1"] {
            _ = try lab.exec(node, ["sysctl", "-qw", "net.ipv6.conf.lan0.disable_ipv6=0"])
        }
        _ = try lab.exec("s1", ["ip", "addr", "add", "2001:db8:5::10/64", "dev", "lan0", "nodad"])
        let ours = try lab.start(.ours, on: "d1", config: config6(state: "MASTER", priority: 100))
        lab.wait(upTo: 6, for: "d1's vrrp6.61 to hold the IPv6 VIP") { holders6() == ["d1"] }
        let link = try lab.exec("d1", ["ip", "-d", "-o", "link", "show", "vrrp6.61"]).output
        XCTAssertTrue(link.contains("link/ether \(vmac6)") && link.contains("macvlan mode private") && link.contains("addrgenmode none"), link)
        let baseLinkLocal = try lab.exec("d1", ["ip", "-6", "-o", "addr", "show", "dev", "lan0", "scope", "link"]).output
            .components(separatedBy: "inet6 ").dropFirst().first?.split(separator: "/").first.map(String.init) ?? "?"
        let vmacAddresses = try lab.exec("d1", ["ip", "-6", "-o", "addr", "show", "dev", "vrrp6.61", "scope", "link"]).output
        XCTAssertTrue(vmacAddresses.contains("inet6 \(baseLinkLocal)/64"), "the base's link-local, none from the VMAC: \(vmacAddresses)")
        XCTAssertEqual(vmacAddresses.components(separatedBy: "inet6 ").count - 1, 1, vmacAddresses)
        let theirs = try lab.start(.keepalived, on: "d2", config: config6(state: "BACKUP", priority: 99))
        waitForLog(theirs, "(VI_6) Entering BACKUP STATE")
        for _ in 0..<8 {
            Thread.sleep(forTimeInterval: 0.25)
            XCTAssertEqual(holders6(), ["d1"], "keepalived accepts our adverts from the VMAC")
        }
        XCTAssertEqual(neighbourMAC(), vmac6, "the IPv6 VIP answers from the virtual MAC")

        ours.kill(SIGTERM)
        XCTAssertTrue(ours.waitForExit(timeout: 2))
        XCTAssertFalse(((try? lab.exec("d1", ["ip", "-o", "link", "show", "vrrp6.61"]))?.status ?? 1) == 0, "SIGTERM removes vrrp6.61")
        lab.wait(upTo: 3, for: "keepalived to take the IPv6 VIP over") { holders6() == ["d2"] }
        XCTAssertEqual(neighbourMAC(), vmac6, "one MAC for the IPv6 VIP, whoever holds it")

        // Ours as the backup, keepalived killed: ours takes over on its macvlan.
        let backup = try lab.start(.ours, on: "d1", config: config6(state: "BACKUP", priority: 99))
        waitForLog(backup, "(VI_6) Entering BACKUP STATE")
        Thread.sleep(forTimeInterval: 2)
        XCTAssertEqual(holders6(), ["d2"], "we accept keepalived's adverts from its VMAC")
        theirs.kill(SIGKILL)
        lab.wait(upTo: 4, for: "ours to take the IPv6 VIP over") { holders6().contains("d1") }
        XCTAssertEqual(neighbourMAC(), vmac6)
        XCTAssertTrue(backup.log.contains("Sending unsolicited Neighbour Advert on vrrp6.61 for \(vip6)"), backup.log)
        XCTAssertFalse(backup.log.contains("rejected"), backup.log)
    }
}
