import DaemonCore
import Foundation
import XCTest

/// A script started as another user runs with that user's uid and gid only.
final class ProcessSpawnerTests: XCTestCase {
    func testSpawnAsAnotherUser() throws {
        try XCTSkipUnless(getuid() == 0, "needs root to change user")
        let nobody = try UserDatabase.credentials(user: "nobody", group: nil)
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("spawn-\(getpid())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        chmod(folder.path, 0o777)
        defer { try? FileManager.default.removeItem(at: folder) }
        let output = folder.appendingPathComponent("id").path
        let pid = try ProcessSpawner.spawn(["sh", "-c", "echo $(id -u) $(id -G) > \(output)"], as: nobody)
        var status: Int32 = 0
        XCTAssertEqual(waitpid(pid, &status, 0), pid)
        XCTAssertEqual(status, 0)
        let words = try String(contentsOfFile: output, encoding: .utf8).split(separator: " ").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
        XCTAssertEqual(words, ["\(nobody.uid)", "\(nobody.gid)"], "uid, then the one group left")
        XCTAssertThrowsError(try ProcessSpawner.spawn(["/nonexistent/program"], as: nobody), "a failed exec is reported, not a child exiting 127")
        XCTAssertThrowsError(try UserDatabase.credentials(user: "no-such-user-\(getpid())", group: nil))
    }
}
