import Foundation
#if canImport(Glibc)
import Glibc
#endif
import IPVS
import KeepalivedConfig
import XCTest

/// Netlink failing under the running daemon (Tests/IPVSKernelTests/netlink_fault.c, preloaded):
/// a change whose send fails with EBUSY or ENOBUFS is logged, and the table is read again and
/// mended once the fault has passed, so no change is lost; a read that fails too (at start or
/// after a failed change) is retried later.
extension IPVSKernelTests {
    /// Builds the preload shim with the system's C compiler (or the toolchain's clang).
    private func faultShim(in directory: URL) throws -> String {
        let source = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("netlink_fault.c").path
        let library = directory.appendingPathComponent("netlink_fault.so").path
        let swiftBin = ProcessInfo.processInfo.environment["PATH"]?.split(separator: ":").map(String.init) ?? []
        let compilers = ["/usr/bin/cc", "/usr/bin/clang"] + swiftBin.map { "\($0)/clang" }
        guard let compiler = compilers.first(where: FileManager.default.isExecutableFile(atPath:)) else {
            XCTFail("no C compiler for the fault shim (\(compilers))")
            throw XCTSkip("no C compiler")
        }
        let output = run(compiler, ["-shared", "-fPIC", "-O2", "-o", library, source, "-ldl"])
        XCTAssertTrue(FileManager.default.fileExists(atPath: library), output)
        return library
    }

    func testFailedNetlinkSendsAreMendedLater() throws {
        let (binary, directory) = try daemonAndScratchFolder("ipvs-fault")
        let shim = try faultShim(in: directory)
        let configPath = directory.appendingPathComponent("keepalived.conf").path
        let logPath = directory.appendingPathComponent("daemon.log").path
        let trigger = directory.appendingPathComponent("fail").path
        func config(weight: Int) -> String {
            """
            virtual_server 192.0.2.50 80 {
                lb_algo rr
                lb_kind NAT
                protocol TCP
                real_server 198.51.100.1 80 {
                    weight \(weight)
                }
                real_server 198.51.100.2 80 {
                    weight 1
                }
            }

            """
        }
        try config(weight: 1).write(toFile: configPath, atomically: true, encoding: .utf8)
        // The start's read of the table fails (the family look-up before it passes).
        try "\(ENOBUFS) 1 1".write(toFile: trigger, atomically: true, encoding: .utf8)
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        let daemon = Process()
        daemon.executableURL = binary
        daemon.arguments = ["-C", "-n", "-l", "-f", configPath, "-p", directory.appendingPathComponent("pid").path]
        daemon.environment = ProcessInfo.processInfo.environment.merging(["LD_PRELOAD": shim, "NETLINK_FAULT_TRIGGER": trigger]) { $1 }
        daemon.standardOutput = FileHandle(forWritingAtPath: logPath)
        daemon.standardError = daemon.standardOutput
        try daemon.run()
        defer { if daemon.isRunning { kill(daemon.processIdentifier, SIGKILL) } }
        func log() -> String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }
        func count(_ text: String) -> Int { log().components(separatedBy: text).count - 1 }
        let service = IPVSServiceKey.address(.tcp, IPAddress("192.0.2.50")!, port: 80)
        let first = IPVSDestinationKey(address: IPAddress("198.51.100.1")!, port: 80)
        func weight() throws -> Int? { try netlink.table().services[service]?.destinations[first]?.weight }
        try waitFor("the table programmed once the start's failed read was retried", log: log) { try weight() == 1 }
        waitFor("the start's resync logged", log: log) {
            count("cannot read the IPVS table") == 1 && count("IPVS table resynchronized: 3 operations") == 1
        }

        // EBUSY on the reload's one send: logged, then mended a second later.
        try "\(EBUSY) 1".write(toFile: trigger, atomically: true, encoding: .utf8)
        try config(weight: 5).write(toFile: configPath, atomically: true, encoding: .utf8)
        kill(daemon.processIdentifier, SIGHUP)
        waitFor("the EBUSY logged", log: log) { count("IPVS: edit [198.51.100.1]:80 of [192.0.2.50]:tcp:80: Object busy") == 1 && count("reading it again in 1 s") == 2 }
        XCTAssertFalse(FileManager.default.fileExists(atPath: trigger), "the shim took the fault")
        try waitFor("the weight mended after the fault", log: log) { try weight() == 5 }
        waitFor("the resync logged", log: log) { count("IPVS table resynchronized: 1 operations") == 1 }

        // ENOBUFS on the reload's send and on the first read after it: read again after 2 s more.
        try "\(ENOBUFS) 2".write(toFile: trigger, atomically: true, encoding: .utf8)
        try config(weight: 7).write(toFile: configPath, atomically: true, encoding: .utf8)
        kill(daemon.processIdentifier, SIGHUP)
        waitFor("the failed read retried", log: log) { count("reading it again in 2 s") == 1 }
        try waitFor("the weight mended after the fault", log: log) { try weight() == 7 }
        waitFor("the second resync logged", log: log) { count("IPVS table resynchronized: 1 operations") == 2 }
        XCTAssertEqual(count("cannot read the IPVS table"), 2, log())

        kill(daemon.processIdentifier, SIGTERM)
        daemon.waitUntilExit()
        XCTAssertEqual(daemon.terminationStatus, 0, log())
        XCTAssertNil(try netlink.table().services[service], log())
    }
}
