import Foundation
import XCTest

/// A full file system under the dump folder: SIGUSR1 logs the error, keeps the last good
/// keepalived.data (no cut file over it), and the instance carries on; once there is room again
/// the next dump is written.
final class FullDiskLabTests: LabTestCase {
    private var mounted: String?

    override func tearDown() {
        // Before the lab's folder goes (the mount point is in it).
        if let mounted { _ = try? Lab.run("/usr/bin/umount", ["-l", mounted]) }
        super.tearDown()
    }

    func testAFullDumpFolderKeepsTheLastDumpAndTheInstance() throws {
        lab = try Lab(directors: 1)
        let folder = lab.directory.appendingPathComponent("small-tmp").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let mount = try Lab.run("/usr/bin/mount", ["-t", "tmpfs", "-o", "size=64k", "tmpfs", folder])
        XCTAssertEqual(mount.status, 0, mount.output)
        mounted = folder
        let daemon = try lab.start(.ours, on: "d1", config: Lab.vrrpInstance(state: "MASTER", priority: 100), environment: ["TMPDIR": folder])
        lab.wait(upTo: 6, for: "the VIP") { lab.addresses("d1").contains("192.0.2.200") }
        let data = "\(folder)/keepalived.data"
        kill(daemon.pid, SIGUSR1)
        lab.wait(upTo: 5, for: "the first dump") { ((try? String(contentsOfFile: data, encoding: .utf8)) ?? "").contains("VRRP Topology") }
        let good = try String(contentsOfFile: data, encoding: .utf8)

        // Fill the file system to its last byte.
        let filler = "\(folder)/filler"
        _ = try Lab.run("/usr/bin/dd", ["if=/dev/zero", "of=\(filler)", "bs=1k", "count=1024"])
        kill(daemon.pid, SIGUSR1)
        waitForLog(daemon, "No space left on device")
        XCTAssertEqual(try String(contentsOfFile: data, encoding: .utf8), good, "the last good dump stays")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder).sorted(), ["filler", "keepalived.data"], "no leftover temporary file")
        XCTAssertTrue(daemon.isRunning)
        XCTAssertTrue(lab.addresses("d1").contains("192.0.2.200"), "the instance carries on")

        try FileManager.default.removeItem(atPath: filler)
        try FileManager.default.removeItem(atPath: data)
        kill(daemon.pid, SIGUSR1)
        lab.wait(upTo: 5, for: "a dump once there is room") { ((try? String(contentsOfFile: data, encoding: .utf8)) ?? "").contains("VRRP Topology") }
    }
}
