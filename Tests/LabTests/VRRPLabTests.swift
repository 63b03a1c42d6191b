import Foundation
import XCTest

/// VRRP between lab namespaces: our daemon against itself and against Debian's keepalived.
final class VRRPLabTests: LabTestCase {
    private let vip = "192.0.2.200"

    private func config(state: String, priority: Int, vrid: Int = 51, addresses: [String]? = nil, extra: String = "") -> String {
        Lab.vrrpInstance(state: state, priority: priority, vrid: vrid, addresses: addresses ?? [vip], extra: extra)
    }

    private func holders(_ nodes: [String], of address: String? = nil) -> [String] {
        nodes.filter { lab.addresses($0).contains(address ?? vip) }
    }

    func testTwoOfOursElectFailOverAndPreemptBack() throws {
        lab = try Lab(directors: 2)
        let master = try lab.start(.ours, on: "d1", config: config(state: "MASTER", priority: 100))
        _ = try lab.start(.ours, on: "d2", config: config(state: "BACKUP", priority: 99))
        lab.wait(upTo: 6, for: "d1 to hold the VIP") { holders(["d1", "d2"]) == ["d1"] }
        Thread.sleep(forTimeInterval: 1.5)
        XCTAssertEqual(holders(["d1", "d2"]), ["d1"], "exactly one holder after convergence")

        master.kill(SIGKILL)
        let takeover = lab.wait(upTo: 6, for: "d2 to take over after SIGKILL of the master") { holders(["d2"]) == ["d2"] }
        // Master_Down_Interval (3.61 s) runs from the last advert, up to a second before the kill.
        XCTAssertGreaterThan(takeover ?? 0, 2.55, "a backup must wait Master_Down_Interval")
        // …and no longer: 3.61 s from an advert at most a second before the kill, plus polling.
        XCTAssertLessThan(takeover ?? 99, 4.2, "the backup takes over once Master_Down_Interval has passed")
        XCTAssertTrue(lab.daemons[1].log.contains("(VI_1) Receive advertisement timeout"))

        // The old master comes back with its higher priority and preempts; it first clears the VIP
        // its killed predecessor left behind.
        _ = try lab.start(.ours, on: "d1", config: config(state: "MASTER", priority: 100))
        lab.wait(upTo: 8, for: "d1 to preempt back") { holders(["d1", "d2"]) == ["d1"] }
        XCTAssertTrue(lab.daemons[1].log.contains("(VI_1) Master received advert from 192.0.2.11 with higher priority 100, ours 99"))
        XCTAssertTrue(lab.daemons[1].log.contains("(VI_1) removing VIPs."))
    }

    func testPriorityZeroHandoverOnSIGTERMAndVIPsRemovedOnExit() throws {
        lab = try Lab(directors: 2)
        let master = try lab.start(.ours, on: "d1", config: config(state: "MASTER", priority: 100))
        _ = try lab.start(.ours, on: "d2", config: config(state: "BACKUP", priority: 99))
        lab.wait(upTo: 6, for: "d1 to hold the VIP") { holders(["d1", "d2"]) == ["d1"] }
        Thread.sleep(forTimeInterval: 1.2)

        master.kill(SIGTERM)
        XCTAssertTrue(master.waitForExit(timeout: 1), "SIGTERM must end the daemon within a second")
        XCTAssertEqual(holders(["d1"]), [], "the stopped master removed its VIP")
        let takeover = lab.wait(upTo: 2, for: "d2 to take over after the priority-0 advert") { holders(["d2"]) == ["d2"] }
        XCTAssertLessThan(takeover ?? 99, 1.2, "skew time (0.61 s), not the 3.6 s timeout")
        XCTAssertTrue(lab.daemons[1].log.contains("(VI_1) Backup received priority 0 advertisement"))
        XCTAssertTrue(master.log.contains("(VI_1) sent 0 priority"))
    }

    func testOursMasterAgainstKeepalivedBackup() throws {
        lab = try Lab(directors: 2)
        let ours = try lab.start(.ours, on: "d1", config: config(state: "MASTER", priority: 100))
        let theirs = try lab.start(.keepalived, on: "d2", config: config(state: "BACKUP", priority: 99))
        lab.wait(upTo: 8, for: "ours to hold the VIP") { holders(["d1", "d2"]) == ["d1"] }
        for _ in 0..<4 {
            Thread.sleep(forTimeInterval: 0.5)
            XCTAssertEqual(holders(["d1", "d2"]), ["d1"], "exactly one holder: keepalived accepts our adverts")
        }
        ours.kill(SIGKILL)
        lab.wait(upTo: 6, for: "keepalived to take over") { holders(["d2"]) == ["d2"] }
        XCTAssertTrue(theirs.log.contains("Entering MASTER STATE"), theirs.log)
    }

    func testKeepalivedMasterAgainstOurBackup() throws {
        lab = try Lab(directors: 2)
        let theirs = try lab.start(.keepalived, on: "d1", config: config(state: "MASTER", priority: 100))
        let ours = try lab.start(.ours, on: "d2", config: config(state: "BACKUP", priority: 99))
        lab.wait(upTo: 8, for: "keepalived to hold the VIP") { holders(["d1", "d2"]) == ["d1"] }
        for _ in 0..<4 {
            Thread.sleep(forTimeInterval: 0.5)
            XCTAssertEqual(holders(["d1", "d2"]), ["d1"], "exactly one holder: we accept keepalived's adverts")
        }
        theirs.kill(SIGTERM)
        lab.wait(upTo: 3, for: "ours to take over after keepalived's priority-0 advert") { holders(["d2"]) == ["d2"] }
        XCTAssertTrue(ours.log.contains("(VI_1) Backup received priority 0 advertisement"), ours.log)
        XCTAssertTrue(ours.log.contains("(VI_1) Entering MASTER STATE"))
    }

    func testAdvertsAndGratuitousARPsOnTheWire() throws {
        lab = try Lab(directors: 2)
        let capture = lab.directory.appendingPathComponent("wire.txt").path
        let tcpdump = Process()
        tcpdump.executableURL = URL(fileURLWithPath: "/usr/sbin/ip")
        tcpdump.arguments = ["netns", "exec", lab.namespace("d2"), "tcpdump", "-i", "lan0", "-n", "-e", "-v", "-l", "--immediate-mode",
                             "-tt", "ip proto 112 or arp"]
        _ = FileManager.default.createFile(atPath: capture, contents: nil)
        tcpdump.standardOutput = FileHandle(forWritingAtPath: capture)
        tcpdump.standardError = FileHandle.nullDevice
        try tcpdump.run()
        defer { tcpdump.terminate() }
        Thread.sleep(forTimeInterval: 1)
        _ = try lab.start(.ours, on: "d1", config: config(state: "MASTER", priority: 100))
        lab.wait(upTo: 6, for: "d1 to hold the VIP") { holders(["d1"]) == ["d1"] }
        Thread.sleep(forTimeInterval: 5.5)
        tcpdump.terminate()
        tcpdump.waitUntilExit()
        let lines = (try String(contentsOfFile: capture, encoding: .utf8)).split(separator: "\n").map(String.init)
        let mac = try lab.exec("d1", ["cat", "/sys/class/net/lan0/address"]).output.trimmingCharacters(in: .whitespacesAndNewlines)

        // Adverts: TTL 255, from d1, to 224.0.0.18, VRID 51, priority 100, once a second.
        let adverts = lines.enumerated().filter { $0.element.contains("proto VRRP") }
        XCTAssertGreaterThanOrEqual(adverts.count, 5, lines.joined(separator: "\n"))
        for (_, header) in adverts { XCTAssertTrue(header.contains("ttl 255"), header) }
        let bodies = adverts.map { lines[min($0.offset + 1, lines.count - 1)] }
        for body in bodies {
            XCTAssertTrue(body.contains("192.0.2.11 > 224.0.0.18"), body)
            XCTAssertTrue(body.contains("vrid 51") && body.contains("prio 100"), body)
        }
        let times = adverts.compactMap { Double($0.element.split(separator: " ")[0]) }
        assertAdvertsOnTime(times, latest: 1.05, early: 0.95)

        // Gratuitous ARP from d1's MAC: a burst of 5 right after becoming master, and another
        // garp_master_delay (5 s) later.
        let arps = lines.filter { $0.contains("Request who-has \(vip)") && $0.contains("tell \(vip)") }
        XCTAssertEqual(arps.count, 10, lines.joined(separator: "\n"))
        for arp in arps { XCTAssertTrue(arp.lowercased().contains("\(mac) > ff:ff:ff:ff:ff:ff"), arp) }
        let arpTimes = arps.compactMap { Double($0.split(separator: " ")[0]) }
        if arpTimes.count == 10, let firstAdvert = times.first {
            XCTAssertLessThan(arpTimes[0] - firstAdvert, 0.01, "gratuitous ARPs follow the first advert at once")
            XCTAssertLessThan(arpTimes[4] - arpTimes[0], 0.01, "the first burst goes out at once")
            XCTAssertEqual(arpTimes[5] - arpTimes[0], 5, accuracy: 0.05, "the second burst comes garp_master_delay later")
        }
    }

    func testUnicastPeersSyncGroupAndTrackedScript() throws {
        lab = try Lab(directors: 3)
        let nodes = ["d1", "d2", "d3"]
        let flag = lab.directory.appendingPathComponent("d1-healthy").path
        _ = FileManager.default.createFile(atPath: flag, contents: nil)
        func config(for node: String, priority: Int) -> String {
            let peers = nodes.filter { $0 != node }.map { lab.address($0) }.joined(separator: "\n        ")
            let unicast = "unicast_src_ip \(lab.address(node))\n    unicast_peer {\n        \(peers)\n    }"
            let track = node == "d1" ? "track_script {\n        chk_flag\n    }" : ""
            return """
            vrrp_script chk_flag {
                script "/usr/bin/test -e \(flag)"
                interval 1
                weight -60
                fall 1
                rise 1
            }
            vrrp_sync_group G {
                group {
                    VI_1
                    VI_2
                }
            }
            vrrp_instance VI_1 {
                interface lan0
                virtual_router_id 61
                priority \(priority)
                \(unicast)
                \(track)
                virtual_ipaddress {
                    192.0.2.201
                }
            }
            vrrp_instance VI_2 {
                interface lan0
                virtual_router_id 62
                priority \(priority)
                \(unicast)
                virtual_ipaddress {
                    192.0.2.202
                }
            }

            """
        }
        for (node, priority) in [("d1", 150), ("d2", 120), ("d3", 100)] {
            _ = try lab.start(.ours, on: node, config: config(for: node, priority: priority))
        }
        lab.wait(upTo: 8, for: "d1 to hold both VIPs") {
            holders(nodes, of: "192.0.2.201") == ["d1"] && holders(nodes, of: "192.0.2.202") == ["d1"]
        }
        // The tracked script fails: d1's VI_1 drops to 90, d2 preempts it, and the sync group
        // takes VI_2 along although VI_2's own priority did not move.
        try FileManager.default.removeItem(atPath: flag)
        lab.wait(upTo: 10, for: "d2 to hold both VIPs") {
            holders(nodes, of: "192.0.2.201") == ["d2"] && holders(nodes, of: "192.0.2.202") == ["d2"]
        }
        XCTAssertTrue(lab.daemons[0].log.contains("VRRP_Script(chk_flag) failed"), lab.daemons[0].log)
        XCTAssertTrue(lab.daemons[1].log.contains("VRRP_Group(G) Syncing instances to MASTER state")
                      || lab.daemons[0].log.contains("VRRP_Group(G) Syncing instances to BACKUP state"))
        // The script recovers: d1 takes both back.
        _ = FileManager.default.createFile(atPath: flag, contents: nil)
        lab.wait(upTo: 10, for: "d1 to hold both VIPs again") {
            holders(nodes, of: "192.0.2.201") == ["d1"] && holders(nodes, of: "192.0.2.202") == ["d1"]
        }
    }
}
