import DaemonCore
import Foundation
import XCTest

/// keepalived's script rules on file status: who may execute, which path components a user
/// other than root could change, and the verdict on a whole path; then the check itself on files
/// this test makes.
final class ScriptPermissionsTests: XCTestCase {
    private let root = ScriptCredentials(uid: 0, gid: 0)
    private let user = ScriptCredentials(uid: 1000, gid: 1000)

    private func file(_ mode: UInt32, uid: UInt32 = 0, gid: UInt32 = 0, kind: FileStatus.Kind = .regular) -> FileStatus {
        FileStatus(kind: kind, mode: mode, uid: uid, gid: gid)
    }

    func testExecutable() {
        XCTAssertTrue(ScriptPermissions.isExecutable(file(0o700), by: root))
        XCTAssertTrue(ScriptPermissions.isExecutable(file(0o001), by: root), "root needs any execute bit")
        XCTAssertFalse(ScriptPermissions.isExecutable(file(0o644), by: root))
        XCTAssertTrue(ScriptPermissions.isExecutable(file(0o100, uid: 1000), by: user))
        XCTAssertFalse(ScriptPermissions.isExecutable(file(0o011, uid: 1000, gid: 1000), by: user), "the owner uses the owner's bits only")
        XCTAssertTrue(ScriptPermissions.isExecutable(file(0o010, gid: 1000), by: user))
        XCTAssertFalse(ScriptPermissions.isExecutable(file(0o001, gid: 1000), by: user), "a group member uses the group's bits only")
        XCTAssertTrue(ScriptPermissions.isExecutable(file(0o001), by: user))
    }

    func testProtectionIsForRootAndSetIDRoot() {
        XCTAssertTrue(ScriptPermissions.needsProtection(file(0o755, uid: 1000), runAs: root))
        XCTAssertTrue(ScriptPermissions.needsProtection(file(0o755), runAs: ScriptCredentials(uid: 1000, gid: 0)))
        XCTAssertFalse(ScriptPermissions.needsProtection(file(0o755), runAs: user))
        XCTAssertTrue(ScriptPermissions.needsProtection(file(0o4755), runAs: user), "set-uid root")
        XCTAssertTrue(ScriptPermissions.needsProtection(file(0o2755), runAs: user), "set-gid root")
        XCTAssertFalse(ScriptPermissions.needsProtection(file(0o4644), runAs: user), "set-uid without execute")
    }

    func testUnsafeComponents() {
        XCTAssertFalse(ScriptPermissions.isUnsafe(file(0o755)))
        XCTAssertTrue(ScriptPermissions.isUnsafe(file(0o755, uid: 1000)), "owned by someone else")
        XCTAssertTrue(ScriptPermissions.isUnsafe(file(0o757)), "world-writable file")
        XCTAssertTrue(ScriptPermissions.isUnsafe(file(0o775, gid: 50)), "group-writable, group not root")
        XCTAssertFalse(ScriptPermissions.isUnsafe(file(0o775)), "group-writable by root's group")
        XCTAssertTrue(ScriptPermissions.isUnsafe(file(0o777, kind: .directory)), "world-writable folder")
        XCTAssertFalse(ScriptPermissions.isUnsafe(file(0o1777, kind: .directory)), "sticky folder such as /tmp")
        XCTAssertFalse(ScriptPermissions.isUnsafe(file(0o777, kind: .symlink)), "a link's own mode means nothing")
        XCTAssertTrue(ScriptPermissions.isUnsafe(file(0o777, uid: 1000, kind: .symlink)))
    }

    func testPathVerdict() {
        let folder = file(0o755, kind: .directory)
        XCTAssertEqual(ScriptPermissions.components(of: "/etc/keepalived/up.sh"), ["/", "/etc", "/etc/keepalived", "/etc/keepalived/up.sh"])
        XCTAssertEqual(ScriptPermissions.pathVerdict([("/", folder), ("/a", folder), ("/a/x", file(0o755))]), .safe)
        XCTAssertEqual(ScriptPermissions.pathVerdict([("/", folder), ("/a", file(0o777, kind: .directory)), ("/a/x", file(0o755))]), .unsafe("/a"))
        XCTAssertEqual(ScriptPermissions.pathVerdict([("/", folder), ("/a", folder), ("/a/x", file(0o777))]), .unsafe("/a/x"))
        XCTAssertEqual(ScriptPermissions.pathVerdict([("/", folder), ("/a", file(0o755)), ("/a/x", file(0o755))]), .wrongType)
        XCTAssertEqual(ScriptPermissions.pathVerdict([("/", folder), ("/a", nil)]), .notFound)
        XCTAssertEqual(ScriptPermissions.pathVerdict([("/", folder), ("/bin", file(0o777, kind: .symlink)), ("/bin/sh", file(0o777, kind: .symlink))]),
                       .safe, "root's links on the way (merged /usr) are no risk")
    }

    /// The check on real files: a world-writable script is refused under script security with
    /// keepalived's message, only reported without it; a root-owned 0755 one passes.
    func testCheckOnFiles() throws {
        try XCTSkipUnless(getuid() == 0, "needs root: the rules differ for a script run as another user")
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("script-check-\(getpid())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        chmod(folder.path, 0o755)
        defer { try? FileManager.default.removeItem(at: folder) }
        let safe = folder.appendingPathComponent("safe.sh").path
        let open = folder.appendingPathComponent("open.sh").path
        let plain = folder.appendingPathComponent("plain.sh").path
        for path in [safe, open, plain] { _ = FileManager.default.createFile(atPath: path, contents: Data("#!/bin/sh\n".utf8)) }
        chmod(safe, 0o755)
        chmod(open, 0o777)
        chmod(plain, 0o644)

        XCTAssertTrue(ScriptCheck.check(program: safe, as: root, securityEnabled: true).isRunnable)
        let refused = ScriptCheck.check(program: open, as: root, securityEnabled: true)
        XCTAssertFalse(refused.isRunnable)
        XCTAssertEqual(refused.messages, ["Unsafe permissions found for script '\(open)' - disabling."])
        let reported = ScriptCheck.check(program: open, as: root, securityEnabled: false)
        XCTAssertTrue(reported.isRunnable)
        XCTAssertTrue(reported.insecure)
        XCTAssertEqual(reported.messages, ["Unsafe permissions found for script '\(open)'."])
        XCTAssertEqual(ScriptCheck.check(program: plain, as: root, securityEnabled: false).messages,
                       ["WARNING - script '\(plain)' is not executable for uid:gid 0:0 - disabling."])
        XCTAssertTrue(ScriptCheck.check(program: folder.path + "/missing.sh", as: root, securityEnabled: true).notFound)
        let searched = ScriptCheck.check(program: "sh", as: root, securityEnabled: true)
        XCTAssertTrue(searched.isRunnable, "\(searched.messages)")
        XCTAssertTrue(searched.messages.first?.hasPrefix("WARNING - script `sh` resolved by path search to `") ?? false)
        // A folder anyone may write makes every script in it unsafe.
        chmod(folder.path, 0o777)
        XCTAssertEqual(ScriptCheck.check(program: safe, as: root, securityEnabled: true).messages,
                       ["Unsafe permissions found for script '\(safe)' - disabling."])
    }
}
