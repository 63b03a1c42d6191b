import Foundation
import XCTest

/// SIGHUP on a serving master: what stayed in the config is not touched, what came or went is
/// started or stopped, and a broken config changes nothing.
final class ReloadLabTests: LabTestCase {
    /// Config A has two VIPs on VI_1, a second instance VI_2 and two checked real servers;
    /// config B drops the second VIP, VI_2 and one real server. VI_1's first VIP is in both.
    private func config(_ variant: Character, realServer: String) -> String {
        let full = variant == "A"
        return """
        vrrp_instance VI_1 {
            state MASTER
            interface lan0
            virtual_router_id 51
            priority 150
            advert_int 1
            virtual_ipaddress {
                192.0.2.200
        \(full ? "        192.0.2.201" : "")
            }
        }
        \(full ? """
        vrrp_instance VI_2 {
            interface lan0
            virtual_router_id 52
            priority 150
            advert_int 1
            virtual_ipaddress {
                192.0.2.210
            }
        }
        """ : "")
        virtual_server 192.0.2.200 80 {
            delay_loop 1
            lb_kind NAT
            protocol TCP
            real_server \(realServer) 80 {
                TCP_CHECK {
                    connect_timeout 1
                }
            }
        \(full ? """
            real_server \(realServer) 81 {
                TCP_CHECK {
                    connect_timeout 1
                }
            }
        """ : "")
        }

        """
    }

    /// It checks nothing of the address list, which the storm changes on the master.
    private let backup = """
    global_defs {
        vrrp_skip_check_adv_addr
    }
    vrrp_instance VI_1 {
        state BACKUP
        interface lan0
        virtual_router_id 51
        priority 100
        advert_int 1
        virtual_ipaddress {
            192.0.2.200
        }
    }

    """

    func testReloadStormTouchesOnlyWhatChanged() throws {
        lab = try Lab(directors: 2, servers: 1)
        let server = lab.address("s1")
        _ = try lab.spawn("s1", ["python3", Lab.repository.appendingPathComponent("Tests/LabTests/check_servers.py").path,
                                 "\(server):80=tcp", "\(server):81=tcp"], log: "servers.log")
        let dumps = lab.directory.appendingPathComponent("d1-tmp").path
        try FileManager.default.createDirectory(atPath: dumps, withIntermediateDirectories: true)
        let master = try lab.start(.ours, on: "d1", config: config("A", realServer: server), part: .both, environment: ["TMPDIR": dumps])
        let peer = try lab.start(.ours, on: "d2", config: backup)
        lab.wait(upTo: 8, for: "d1 to become master with both VIPs") {
            Set(lab.addresses("d1")).isSuperset(of: ["192.0.2.200", "192.0.2.201"])
        }
        XCTAssertTrue(master.isRunning, master.log)
        lab.wait(upTo: 6, for: "VI_2 (no peer) to become master") { lab.addresses("d1").contains("192.0.2.210") }
        let monitorLog = lab.directory.appendingPathComponent("ip-monitor.log").path
        _ = FileManager.default.createFile(atPath: monitorLog, contents: nil)
        let monitor = Process()
        monitor.executableURL = URL(fileURLWithPath: "/usr/sbin/ip")
        monitor.arguments = ["netns", "exec", lab.namespace("d1"), "ip", "-o", "monitor", "address"]
        monitor.standardOutput = FileHandle(forWritingAtPath: monitorLog)
        try monitor.run()
        defer { monitor.terminate() }
        Thread.sleep(forTimeInterval: 0.3)
        let logBefore = master.log
        let peerLogBefore = peer.log

        // 50 reloads, alternating B, A, B, ... : the last one (the 50th) is A again.
        let stormStarted = Date()
        for round in 1...50 {
            try config(round % 2 == 1 ? "B" : "A", realServer: server).write(toFile: master.configPath, atomically: true, encoding: .utf8)
            master.kill(SIGHUP)
            Thread.sleep(forTimeInterval: 0.15)
        }
        lab.wait(upTo: 3, for: "the last reload to take both VIPs back") {
            Set(lab.addresses("d1")).isSuperset(of: ["192.0.2.200", "192.0.2.201"])
        }
        Thread.sleep(forTimeInterval: 1.5)
        monitor.terminate()
        monitor.waitUntilExit()

        let events = try String(contentsOfFile: monitorLog, encoding: .utf8).split(separator: "\n")
        let deleted = events.filter { $0.hasPrefix("Deleted") }
        XCTAssertFalse(deleted.contains { $0.contains("192.0.2.200/") }, "the VIP that stayed was removed:\n\(deleted.joined(separator: "\n"))")
        XCTAssertGreaterThanOrEqual(deleted.filter { $0.contains("192.0.2.201/") }.count, 20, "the VIP that came and went: \(events)")
        let storm = String(master.log.dropFirst(logBefore.count))
        XCTAssertEqual(storm.components(separatedBy: "Reloading").count - 1, 50, storm)
        XCTAssertFalse(storm.contains("(VI_1) Entering"), "VI_1 changed state during the storm:\n\(storm)")
        XCTAssertFalse(storm.contains("Reload refused"), storm)
        XCTAssertGreaterThanOrEqual(storm.components(separatedBy: "(VI_2) starting: new in the configuration").count - 1, 20, storm)
        XCTAssertGreaterThanOrEqual(storm.components(separatedBy: "(VI_2) stopping: no longer in the configuration").count - 1, 20, storm)
        XCTAssertGreaterThanOrEqual(storm.components(separatedBy: "(VI_1) adding VIP 192.0.2.201 (reload)").count - 1, 20, storm)
        XCTAssertFalse(String(peer.log.dropFirst(peerLogBefore.count)).contains("Entering"),
                       "the backup saw the master's adverts stop:\n\(peer.log)")
        XCTAssertTrue(master.isRunning)

        // The daemon's counters agree (keepalived.json, SIGJSON): VI_1 is still master, became
        // master once, and kept sending adverts through the storm.
        let json = "\(dumps)/keepalived.json"
        func instances() -> [[String: Any]] {
            guard let data = FileManager.default.contents(atPath: json) else { return [] }
            return (try? JSONSerialization.jsonObject(with: data)) as? [[String: Any]] ?? []
        }
        func first(_ name: String) -> (data: [String: Any], stats: [String: Any])? {
            instances().lazy.compactMap { entry -> (data: [String: Any], stats: [String: Any])? in
                guard let data = entry["data"] as? [String: Any], data["iname"] as? String == name,
                      let stats = entry["stats"] as? [String: Any] else { return nil }
                return (data, stats)
            }.first
        }
        let stormSeconds = Date().timeIntervalSince(stormStarted)
        master.kill(StateFileLabTests.jsonSignal)
        lab.wait(upTo: 5, for: "keepalived.json with VI_1") { first("VI_1") != nil }
        let vi1 = try XCTUnwrap(first("VI_1"), "no VI_1 in \(json)")
        XCTAssertEqual(vi1.data["state"] as? Int, 2, "VI_1 is MASTER (keepalived's 2): \(vi1.data)")
        XCTAssertEqual(vi1.stats["become_master"] as? Int, 1, "VI_1 became master once, before the storm: \(vi1.stats)")
        XCTAssertEqual(vi1.stats["release_master"] as? Int, 0, "\(vi1.stats)")
        // One a second from before the storm to now, less the one that may be due this instant.
        XCTAssertGreaterThanOrEqual(vi1.stats["advert_sent"] as? Int ?? 0, Int(stormSeconds) - 1, "adverts went on through \(stormSeconds) s of storm: \(vi1.stats)")
        let vips = (vi1.data["vips"] as? [String] ?? []).map { String($0.prefix { $0 != "/" && $0 != " " }) }.sorted()
        XCTAssertEqual(vips, ["192.0.2.200", "192.0.2.201"], "config A's addresses: \(vi1.data)")
        master.kill(SIGTERM)
        XCTAssertTrue(master.waitForExit(timeout: 2))
        XCTAssertEqual(lab.addresses("d1").filter { $0.hasPrefix("192.0.2.2") }, [], "SIGTERM removes every VIP")
    }

    func testABrokenReloadKeepsEverythingAndAChangedIdentityRestartsTheInstance() throws {
        lab = try Lab(directors: 1)
        // The VRRP part alone (-P): config B's virtual server is not read.
        let good = config("B", realServer: "192.0.2.101")
        let vridLine = good.components(separatedBy: "\n").count + 2
        let master = try lab.start(.ours, on: "d1", config: good)
        lab.wait(upTo: 6, for: "d1 to become master") { lab.addresses("d1").contains("192.0.2.200") }
        let before = master.log

        try (good + "vrrp_instance VI_2 {\n    interface lan0\n    virtual_router_id 300\n    prority 100\n}\n")
            .write(toFile: master.configPath, atomically: true, encoding: .utf8)
        master.kill(SIGHUP)
        lab.wait(upTo: 3, for: "the reload to be refused") { master.log.contains("Reload refused") }
        let refused = String(master.log.dropFirst(before.count))
        XCTAssertTrue(refused.contains("\(master.configPath):\(vridLine): error: virtual_router_id 300"), refused)
        XCTAssertFalse(refused.contains("Entering"), refused)
        XCTAssertTrue(lab.addresses("d1").contains("192.0.2.200"))

        // A new VRID is a new router to the others: the instance stops (priority 0) and starts again.
        let afterRefusal = master.log
        try good.replacingOccurrences(of: "virtual_router_id 51", with: "virtual_router_id 61")
            .write(toFile: master.configPath, atomically: true, encoding: .utf8)
        master.kill(SIGHUP)
        lab.wait(upTo: 6, for: "VI_1 to come back as master on its new VRID") {
            master.log.dropFirst(afterRefusal.count).contains("(VI_1) Entering MASTER STATE")
        }
        let restarted = String(master.log.dropFirst(afterRefusal.count))
        XCTAssertTrue(restarted.contains("(VI_1) stopping: its interface, VRID, authentication or advert settings changed"), restarted)
        XCTAssertTrue(restarted.contains("(VI_1) sent 0 priority"), restarted)
        XCTAssertTrue(restarted.contains("(VI_1) starting: again, with its new settings"), restarted)
        XCTAssertTrue(lab.addresses("d1").contains("192.0.2.200"))
    }

    /// A daemon started for its virtual servers alone gains VRRP on reload; a reload whose
    /// instance cannot start (its interface does not exist) is logged and the daemon runs on.
    func testAReloadStartsTheVRRPPartOrLogsWhyNot() throws {
        lab = try Lab(directors: 1)
        let checkersOnly = """
        virtual_server 192.0.2.50 80 {
            lb_kind NAT
            protocol TCP
            real_server 192.0.2.101 80 {
                weight 1
            }
        }

        """
        let daemon = try lab.start(.ours, on: "d1", config: checkersOnly, part: .both)
        lab.wait(upTo: 3, for: "the daemon to start") { daemon.log.contains("Starting Keepalived") }
        let instance = config("B", realServer: "192.0.2.101").components(separatedBy: "virtual_server")[0]
        try (checkersOnly + instance.replacingOccurrences(of: "interface lan0", with: "interface nosuch0"))
            .write(toFile: daemon.configPath, atomically: true, encoding: .utf8)
        daemon.kill(SIGHUP)
        lab.wait(upTo: 3, for: "VRRP to fail to start") { daemon.log.contains("cannot start VRRP") }
        Thread.sleep(forTimeInterval: 0.5)
        XCTAssertTrue(daemon.isRunning, "a reload must not end the daemon:\n\(daemon.log)")

        try (checkersOnly + instance).write(toFile: daemon.configPath, atomically: true, encoding: .utf8)
        daemon.kill(SIGHUP)
        lab.wait(upTo: 6, for: "the reloaded instance to become master") { lab.addresses("d1").contains("192.0.2.200") }
        XCTAssertTrue(daemon.log.contains("(VI_1) Entering MASTER STATE"), daemon.log)
    }

    /// The file is read and parsed away from the loop: a reload of a big file (150,000 lines,
    /// over a second to parse in a debug build) does not hold the master's adverts, which
    /// parsing on the loop did.
    func testParsingABigFileAtAReloadKeepsTheAdvertsOnTime() throws {
        lab = try Lab(directors: 1)
        var servers = ""
        for index in 0..<6_000 {
            servers += "virtual_server 198.18.\(index / 250).\(index % 250 + 1) 80 {\n lb_kind NAT\n protocol TCP\n"
            for real in 1...3 {
                servers += " real_server 203.0.113.\(real) \(10_000 + index) {\n  weight 1\n  TCP_CHECK {\n   connect_timeout 1\n  }\n }\n"
            }
            servers += "}\n"
        }
        let daemon = try lab.start(.ours, on: "d1", config: Lab.vrrpInstance(state: "MASTER", priority: 100))
        lab.wait(upTo: 6, for: "d1 to be master") { daemon.log.contains("Entering MASTER STATE") }
        let adverts = try AdvertCapture(lab: lab, node: "d1")
        Thread.sleep(forTimeInterval: 2.5)
        try (Lab.vrrpInstance(state: "MASTER", priority: 100, addresses: ["192.0.2.200", "192.0.2.201"]) + servers)
            .write(toFile: daemon.configPath, atomically: true, encoding: .utf8)
        let sent = Date()
        daemon.kill(SIGHUP)
        lab.wait(upTo: 30, for: "the reload's second VIP") { lab.addresses("d1").contains("192.0.2.201") }
        let took = Date().timeIntervalSince(sent)
        Thread.sleep(forTimeInterval: 2.5)
        adverts.stop()

        XCTAssertGreaterThan(took, 1.2, "the premise: a file that takes longer to parse than an advert interval")
        let times = adverts.times
        let gaps = zip(times, times.dropFirst()).map { $1 - $0 }
        XCTAssertGreaterThanOrEqual(times.count, Int(took) + 4, "adverts around the reload")
        XCTAssertLessThan(gaps.max() ?? 99, 1.05, "the worst gap between adverts around a reload of \(String(format: "%.2f", took)) s: \(gaps)")
        XCTAssertTrue(daemon.isRunning, daemon.log)
    }
}
