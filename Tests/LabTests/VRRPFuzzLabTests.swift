import Foundation
import XCTest

/// Bad input at the VRRP door: 10,000 hostile packets a second from another node of the lab
/// (Tests/LabTests/advert_fuzzer.py) while our daemon is master. It must not crash or stall, and its
/// adverts must stay on time.
final class VRRPFuzzLabTests: LabTestCase {
    func testAFloodOfBadAdvertsNeitherCrashesNorDelaysTheMaster() throws {
        lab = try Lab(directors: 2)
        let config = Lab.vrrpInstance(state: "MASTER", priority: 100)
        let daemon = try lab.start(.ours, on: "d1", config: config, environment: ["SWIFTKEEPALIVED_DUMP_DIR": lab.directory.path])
        lab.wait(upTo: 6, for: "d1 to be master") { daemon.log.contains("Entering MASTER STATE") }
        let adverts = try AdvertCapture(lab: lab, node: "d1")
        Thread.sleep(forTimeInterval: 1)

        let fuzzer = Lab.repository.appendingPathComponent("Tests/LabTests/advert_fuzzer.py").path
        let flood = try lab.exec("d2", ["python3", fuzzer, lab.address("d2"), "10", "10000"])
        let counts = flood.output.split(whereSeparator: { $0 == " " || $0 == "\n" }).compactMap { Int($0) }
        XCTAssertEqual(counts.count, 2, flood.output)
        XCTAssertGreaterThan(counts.first ?? 0, 90_000, "packets that left d2 (sent, failed): \(flood.output)")
        Thread.sleep(forTimeInterval: 1.5)
        adverts.stop()

        XCTAssertTrue(daemon.isRunning, daemon.log)
        // The flood reached the daemon: its counters (keepalived.stats) saw most of it.
        let stats = lab.directory.appendingPathComponent("keepalived.stats").path
        daemon.kill(SIGUSR2)
        lab.wait(upTo: 5, for: "keepalived.stats") { FileManager.default.fileExists(atPath: stats) }
        let text = (try? String(contentsOfFile: stats, encoding: .utf8)) ?? ""
        let seen = text.split(separator: "\n").filter { !$0.contains("Sent:") && !$0.contains("master:") }
            .compactMap { line in line.split(separator: ":").last.flatMap { Int($0.trimmingCharacters(in: .whitespaces)) } }
            .reduce(0, +)
        XCTAssertGreaterThan(seen, 45_000, "adverts received and refused, by keepalived.stats:\n\(text)")
        let sinceMaster = daemon.log.components(separatedBy: "Entering MASTER STATE").dropFirst().joined()
        XCTAssertFalse(sinceMaster.contains("Entering BACKUP STATE"), "a bad advert made the master step down:\n\(daemon.log)")
        let times = adverts.times
        XCTAssertGreaterThanOrEqual(times.count, 11, "adverts during the 12 s of the flood")
        let gaps = zip(times, times.dropFirst()).map { $1 - $0 }
        XCTAssertLessThan(gaps.max() ?? 99, 1.05, "the worst gap between adverts: \(gaps)")
        XCTAssertGreaterThan(gaps.min() ?? 0, 0.95, "adverts came early: \(gaps)")
    }
}
