import Foundation
import XCTest

/// Bad input at the VRRP door: 10,000 hostile packets a second from another node of the lab
/// (Tests/LabTests/advert_fuzzer.py) while our daemon is master. It must not crash or stall, and its
/// adverts must stay on time.
final class VRRPFuzzLabTests: LabTestCase {
    func testAFloodOfBadAdvertsNeitherCrashesNorDelaysTheMaster() throws {
        lab = try Lab(directors: 2)
        let config = """
        vrrp_instance VI_1 {
            state MASTER
            interface lan0
            virtual_router_id 51
            priority 100
            advert_int 1
            authentication {
                auth_type PASS
                auth_pass 1111
            }
            virtual_ipaddress {
                192.0.2.200
            }
        }

        """
        let daemon = try lab.start(.ours, on: "d1", config: config)
        lab.wait(upTo: 6, for: "d1 to be master") { daemon.log.contains("Entering MASTER STATE") }
        let capture = lab.directory.appendingPathComponent("adverts.txt").path
        _ = FileManager.default.createFile(atPath: capture, contents: nil)
        let tcpdump = Process()
        tcpdump.executableURL = URL(fileURLWithPath: "/usr/sbin/ip")
        tcpdump.arguments = ["netns", "exec", lab.namespace("d1"), "tcpdump", "-i", "lan0", "-n", "-l", "--immediate-mode", "-tt",
                             "-Q", "out", "ip proto 112 and src \(lab.address("d1"))"]
        tcpdump.standardOutput = FileHandle(forWritingAtPath: capture)
        tcpdump.standardError = FileHandle.nullDevice
        try tcpdump.run()
        defer { tcpdump.terminate() }
        Thread.sleep(forTimeInterval: 1)

        let fuzzer = Lab.repository.appendingPathComponent("Tests/LabTests/advert_fuzzer.py").path
        let flood = try lab.exec("d2", ["python3", fuzzer, lab.address("d2"), "10", "10000"])
        let sent = Int(flood.output.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
        XCTAssertGreaterThan(sent, 90_000, flood.output)
        Thread.sleep(forTimeInterval: 1.5)
        tcpdump.terminate()
        tcpdump.waitUntilExit()

        XCTAssertTrue(daemon.isRunning, daemon.log)
        let sinceMaster = daemon.log.components(separatedBy: "Entering MASTER STATE").dropFirst().joined()
        XCTAssertFalse(sinceMaster.contains("Entering BACKUP STATE"), "a bad advert made the master step down:\n\(daemon.log)")
        let times = ((try? String(contentsOfFile: capture, encoding: .utf8)) ?? "").split(separator: "\n")
            .compactMap { Double($0.split(separator: " ")[0]) }
        XCTAssertGreaterThanOrEqual(times.count, 11, "adverts during the 12 s of the flood")
        let gaps = zip(times, times.dropFirst()).map { $1 - $0 }
        XCTAssertLessThan(gaps.max() ?? 99, 1.05, "the worst gap between adverts: \(gaps)")
        XCTAssertGreaterThan(gaps.min() ?? 0, 0.95, "adverts came early: \(gaps)")
    }
}
