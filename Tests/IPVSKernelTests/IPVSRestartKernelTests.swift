import Foundation
#if canImport(Glibc)
import Glibc
#endif
import IPVS
import KeepalivedConfig
import XCTest

/// `-I` (`--dont-release-ipvs`): a stop leaves the table in the kernel, and the next start reads
/// it and changes only what differs (here one weight edited behind the daemon's back).
extension IPVSKernelTests {
    func testDontReleaseIPVSKeepsTheTableForTheNextStart() throws {
        let (binary, directory) = try daemonAndScratchFolder("ipvs-restart")
        let configPath = directory.appendingPathComponent("keepalived.conf").path
        let logPath = directory.appendingPathComponent("daemon.log").path
        try """
        virtual_server 192.0.2.30 80 {
            lb_algo rr
            lb_kind NAT
            protocol TCP
            real_server 198.51.100.1 80 {
                weight 2
            }
            real_server 198.51.100.2 80 {
                weight 2
            }
        }
        virtual_server 192.0.2.40 80 {
            lb_algo wlc
            lb_kind NAT
            protocol TCP
            real_server 198.51.100.3 80 {
                weight 1
            }
        }

        """.write(toFile: configPath, atomically: true, encoding: .utf8)
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        func start(_ extra: [String]) throws -> Process {
            let daemon = Process()
            daemon.executableURL = binary
            daemon.arguments = extra + ["-C", "-n", "-l", "-f", configPath, "-p", directory.appendingPathComponent("pid").path]
            let handle = FileHandle(forWritingAtPath: logPath)!
            handle.seekToEndOfFile()
            daemon.standardOutput = handle
            daemon.standardError = handle
            try daemon.run()
            return daemon
        }
        func log() -> String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }
        func stop(_ daemon: Process) {
            kill(daemon.processIdentifier, SIGTERM)
            daemon.waitUntilExit()
            XCTAssertEqual(daemon.terminationStatus, 0, log())
        }
        let first = IPVSServiceKey.address(.tcp, IPAddress("192.0.2.30")!, port: 80)
        let second = IPVSServiceKey.address(.tcp, IPAddress("192.0.2.40")!, port: 80)
        let edited = IPVSDestinationKey(address: IPAddress("198.51.100.2")!, port: 80)

        let keeping = try start(["-I"])
        try waitFor("the table programmed", log: log) { try netlink.table().services[second]?.destinations.count == 1 }
        let programmed = try netlink.table()
        stop(keeping)
        XCTAssertTrue(log().contains("Leaving 2 IPVS services in the kernel (--dont-release-ipvs)"), log())
        XCTAssertEqual(try netlink.table(), programmed, "-I left the table as it was")

        run("/usr/sbin/ipvsadm", ["-e", "-t", "192.0.2.30:80", "-r", "198.51.100.2:80", "-m", "-w", "9"])
        XCTAssertEqual(try netlink.table().services[first]?.destinations[edited]?.weight, 9)
        let releasing = try start([])
        waitFor("the restart's one change", log: log) { log().contains("IPVS table programmed: 1 operations") }
        XCTAssertEqual(try netlink.table(), programmed, "the restart put the weight back and changed nothing else")
        stop(releasing)
        XCTAssertNil(try netlink.table().services[first], log())
        XCTAssertNil(try netlink.table().services[second], log())
    }
}
