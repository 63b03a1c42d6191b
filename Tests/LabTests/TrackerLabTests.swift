import Foundation
import XCTest

/// track_file moving a real server (FILE_CHECK) and a VRRP instance, driven by writes to real
/// files that inotify reports: no polling.
final class TrackerLabTests: LabTestCase {
    private func write(_ text: String, to path: String) throws {
        // Written elsewhere and renamed in, as tools that update such files do; inotify sees the move.
        try text.write(toFile: path, atomically: true, encoding: .utf8)
    }

    func testFileCheckTakesTheRealServerDownAndBack() throws {
        lab = try Lab(directors: 1, servers: 1)
        let path = lab.directory.appendingPathComponent("weight").path
        let server = lab.address("s1")
        let config = """
        track_file maintenance {
            file \(path)
            weight 0
            init_file 0
        }
        virtual_server 192.0.2.200 80 {
            delay_loop 1
            lb_algo rr
            lb_kind NAT
            protocol TCP
            real_server \(server) 80 {
                weight 1
                FILE_CHECK {
                    track_file maintenance
                }
            }
        }
        """
        let daemon = try lab.start(.ours, on: "d1", config: config, part: .checkers)
        lab.wait(upTo: 3, for: "init_file to write 0") { (try? String(contentsOfFile: path, encoding: .utf8)) == "0\n" }
        Thread.sleep(forTimeInterval: 0.5)
        XCTAssertFalse(daemon.log.contains("FAULT"), daemon.log)
        let started = Date()
        try write("1\n", to: path)
        waitForLog(daemon, "([\(server)]:tcp:80): tracked file maintenance now FAULT state")
        // inotify, not a poll: the change is seen at once.
        XCTAssertLessThan(Date().timeIntervalSince(started), 0.5, daemon.log)
        try write("0\n", to: path)
        waitForLog(daemon, "([\(server)]:tcp:80): tracked file maintenance leaving FAULT state")
        try FileManager.default.removeItem(atPath: path)
        Thread.sleep(forTimeInterval: 0.3)
        XCTAssertEqual(daemon.log.components(separatedBy: "now FAULT state").count - 1, 1, "a deleted file reads as 0: \(daemon.log)")
    }

    func testTrackFileMovesTheInstancePriorityAndFaults() throws {
        lab = try Lab(directors: 1)
        let path = lab.directory.appendingPathComponent("prio").path
        let stop = lab.directory.appendingPathComponent("stop").path
        let config = """
        track_file prio {
            file \(path)
            weight -5
        }
        track_file stop {
            file \(stop)
            weight 0
        }
        vrrp_instance VI_1 {
            state BACKUP
            interface lan0
            virtual_router_id 51
            priority 100
            advert_int 1
            track_file {
                prio
                stop
            }
            virtual_ipaddress {
                192.0.2.200
            }
        }
        """
        let daemon = try lab.start(.ours, on: "d1", config: config)
        waitForLog(daemon, "(VI_1) Entering BACKUP STATE")
        try write("2", to: path)
        waitForLog(daemon, "(VI_1) Changing effective priority from 100 to 90")
        try write("0x1", to: path)
        waitForLog(daemon, "(VI_1) Changing effective priority from 90 to 95")
        try write("7\n", to: stop)
        waitForLog(daemon, "(VI_1) Entering FAULT STATE")
        try write("0\n", to: stop)
        waitForLog(daemon, "(VI_1) Entering BACKUP STATE")
    }

    /// track_process from the kernel's process connector: the instance is in FAULT until two
    /// copies of a program run, leaves it when the second starts and goes back when one is killed;
    /// a full command line with its parameter moves the priority.
    func testTrackProcessFollowsProcessesStartedAndKilled() throws {
        lab = try Lab(directors: 1)
        // A program of our own name, so no other process on the machine matches.
        let name = "trk-\(lab.name)"
        let program = lab.directory.appendingPathComponent(name).path
        try FileManager.default.copyItem(atPath: "/bin/sleep", toPath: program)
        let config = """
        vrrp_track_process pair {
            process \(name)
            quorum 2
        }
        vrrp_track_process exact {
            process \(program) 999
            weight 5
        }
        vrrp_instance VI_1 {
            state BACKUP
            interface lan0
            virtual_router_id 51
            priority 100
            advert_int 1
            track_process {
                pair
                exact
            }
            virtual_ipaddress {
                192.0.2.200
            }
        }
        """
        var started: [Process] = []
        defer { for process in started where process.isRunning { process.terminate(); process.waitUntilExit() } }
        func start(_ argument: String) throws -> Process {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: program)
            process.arguments = [argument]
            try process.run()
            started.append(process)
            return process
        }
        let daemon = try lab.start(.ours, on: "d1", config: config)
        waitForLog(daemon, "(VI_1) Entering FAULT STATE")
        _ = try start("998")
        Thread.sleep(forTimeInterval: 0.5)
        XCTAssertFalse(daemon.log.contains("Entering BACKUP STATE"), "one copy is short of the quorum: \(daemon.log)")
        let second = try start("999")
        waitForLog(daemon, "track_process pair: 2 running, quorum gained")
        waitForLog(daemon, "(VI_1) Entering BACKUP STATE")
        waitForLog(daemon, "(VI_1) Changing effective priority from 100 to 105")
        second.terminate()
        second.waitUntilExit()
        waitForLog(daemon, "track_process pair: 1 running, quorum lost")
        waitForLog(daemon, "(VI_1) Changing effective priority from 105 to 100")
        lab.wait(upTo: 5, for: "FAULT again") { daemon.log.components(separatedBy: "(VI_1) Entering FAULT STATE").count == 3 }
    }
}
