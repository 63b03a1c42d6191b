import Foundation
import XCTest

/// The process-wide features, each with the daemon in a lab node: notify FIFOs read by a reader
/// the test starts and by a FIFO script, start-up and shutdown scripts around the parts, script
/// security refusing a world-writable script, and net_namespace moving the whole daemon.
final class ProcessLabTests: LabTestCase {
    private var others: [Process] = []
    private var namespaces: [String] = []

    override func tearDown() {
        for process in others where process.isRunning { kill(process.processIdentifier, SIGKILL) }
        for process in others { process.waitUntilExit() }
        super.tearDown()
        for namespace in namespaces { _ = try? Lab.run("/usr/sbin/ip", ["netns", "del", namespace]) }
    }

    private func instance(_ extra: String = "", vip: String = "192.0.2.200", interface: String = "lan0") -> String {
        """
        vrrp_instance VI_1 {
            state BACKUP
            interface \(interface)
            virtual_router_id 51
            priority 100
            advert_int 1
            virtual_ipaddress {
                \(vip)
            }
            \(extra)
        }

        """
    }

    private func writeScript(_ name: String, _ body: String, mode: mode_t) throws -> String {
        let path = lab.directory.appendingPathComponent(name).path
        try ("#!/bin/sh\n" + body + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        chmod(path, mode)
        return path
    }

    private func read(_ path: String) -> String {
        (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
    }

    private func runInBackground(_ executable: String, _ arguments: [String], log: String? = nil) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let log {
            _ = FileManager.default.createFile(atPath: log, contents: nil)
            process.standardOutput = FileHandle(forWritingAtPath: log)
            process.standardError = FileHandle(forWritingAtPath: log)
        }
        try process.run()
        others.append(process)
        return process
    }

    /// A FIFO the test made and reads, and one the daemon makes for its FIFO script: both get
    /// keepalived's `INSTANCE "VI_1" STATE PRIORITY` lines; the daemon's FIFO goes at exit.
    func testNotifyFifosGetKeepalivedsInstanceLines() throws {
        lab = try Lab(directors: 1)
        let testFifo = lab.directory.appendingPathComponent("test.fifo").path
        let daemonFifo = lab.directory.appendingPathComponent("daemon.fifo").path
        let testOutput = lab.directory.appendingPathComponent("test.out").path
        let scriptOutput = lab.directory.appendingPathComponent("script.out").path
        XCTAssertEqual(mkfifo(testFifo, 0o600), 0)
        let reader = try runInBackground("/bin/sh", ["-c", "cat '\(testFifo)' > '\(testOutput)'"])
        let script = try writeScript("fifo-reader.sh", "exec cat \"$1\" > '\(scriptOutput)'", mode: 0o755)
        let daemon = try lab.start(.ours, on: "d1", config: """
            global_defs {
                notify_fifo \(testFifo)
                vrrp_notify_fifo \(daemonFifo)
                vrrp_notify_fifo_script \(script)
            }
            \(instance())
            """)
        lab.wait(upTo: 8, for: "MASTER lines in both FIFOs") {
            read(testOutput).contains("INSTANCE \"VI_1\" MASTER 100\n") && read(scriptOutput).contains("INSTANCE \"VI_1\" MASTER 100\n")
        }
        XCTAssertEqual(read(testOutput), "INSTANCE \"VI_1\" BACKUP 100\nINSTANCE \"VI_1\" MASTER 100\n")
        var status = stat()
        XCTAssertEqual(stat(daemonFifo, &status), 0)
        XCTAssertEqual(status.st_mode & S_IFMT, S_IFIFO, "the daemon made its FIFO")
        daemon.kill(SIGTERM)
        XCTAssertTrue(daemon.waitForExit(timeout: 5))
        lab.wait(upTo: 2, for: "the test's reader to see the end") { !reader.isRunning }
        XCTAssertTrue(read(testOutput).hasSuffix("INSTANCE \"VI_1\" STOP 100\n"), read(testOutput))
        XCTAssertNotEqual(access(daemonFifo, F_OK), 0, "the FIFO the daemon made is removed at exit")
        XCTAssertEqual(access(testFifo, F_OK), 0, "a FIFO the daemon found is left")
    }

    /// The parts start only when the start-up script has ended; the shutdown script runs after
    /// the VIP is gone, and the daemon exits when it has ended.
    func testStartupAndShutdownScripts() throws {
        lab = try Lab(directors: 1)
        let started = lab.directory.appendingPathComponent("started").path
        let stopped = lab.directory.appendingPathComponent("stopped").path
        let daemon = try lab.start(.ours, on: "d1", config: """
            global_defs {
                startup_script "/bin/sh -c 'sleep 1; touch \(started)'"
                shutdown_script "/bin/sh -c 'sleep 1; ip -4 -o addr show dev lan0 > \(stopped)'"
                shutdown_script_timeout 5
            }
            \(instance())
            """)
        lab.wait(upTo: 5, for: "the instance to start") { daemon.log.contains("(VI_1) Entering BACKUP STATE") }
        XCTAssertTrue(FileManager.default.fileExists(atPath: started), "the instance started before the start-up script ended")
        lab.wait(upTo: 8, for: "MASTER") { lab.addresses("d1").contains("192.0.2.200") }
        daemon.kill(SIGTERM)
        Thread.sleep(forTimeInterval: 0.5)
        XCTAssertTrue(daemon.isRunning, "the daemon waits for its shutdown script")
        XCTAssertTrue(daemon.waitForExit(timeout: 5))
        let addresses = read(stopped)
        XCTAssertTrue(addresses.contains("192.0.2.11"), addresses)
        XCTAssertFalse(addresses.contains("192.0.2.200"), "the shutdown script runs after the VIP is removed: \(addresses)")
    }

    /// A start-up script that outlives its timeout is killed, and the parts start then.
    func testStartupScriptTimeout() throws {
        lab = try Lab(directors: 1)
        let daemon = try lab.start(.ours, on: "d1", config: """
            global_defs {
                startup_script "/bin/sleep 30"
                startup_script_timeout 1
            }
            \(instance())
            """)
        lab.wait(upTo: 5, for: "the instance to start after the timeout") { daemon.log.contains("(VI_1) Entering BACKUP STATE") }
        XCTAssertTrue(daemon.log.contains("startup script timed out"), daemon.log)
    }

    /// With enable_script_security, a script anyone may change is refused with keepalived's
    /// message and never runs, while a root-owned 0755 one runs.
    func testAWorldWritableScriptIsRefusedUnderScriptSecurity() throws {
        lab = try Lab(directors: 1)
        let unsafeRan = lab.directory.appendingPathComponent("unsafe-ran").path
        let safeRan = lab.directory.appendingPathComponent("safe-ran").path
        let unsafe = try writeScript("unsafe.sh", "touch '\(unsafeRan)'", mode: 0o777)
        let safe = try writeScript("safe.sh", "touch '\(safeRan)'", mode: 0o755)
        let daemon = try lab.start(.ours, on: "d1", config: """
            global_defs {
                enable_script_security
                script_user root
            }
            \(instance("notify_master \(unsafe)\nnotify_backup \(safe)"))
            """)
        lab.wait(upTo: 8, for: "MASTER") { lab.addresses("d1").contains("192.0.2.200") }
        lab.wait(upTo: 2, for: "the safe script to run") { FileManager.default.fileExists(atPath: safeRan) }
        Thread.sleep(forTimeInterval: 0.5)
        XCTAssertFalse(FileManager.default.fileExists(atPath: unsafeRan), "the world-writable script ran")
        XCTAssertTrue(daemon.log.contains("Unsafe permissions found for script '\(unsafe)' - disabling."), daemon.log)
        XCTAssertFalse(daemon.log.contains("SECURITY VIOLATION"), daemon.log)
    }

    /// `net_namespace OTHER`: started in d1, the daemon runs wholly in OTHER (a namespace this
    /// test made): the VIP appears there and not in d1; idents and the pid file say so.
    func testNetNamespaceMovesTheWholeDaemon() throws {
        lab = try Lab(directors: 1)
        let other = "ka" + lab.name
        namespaces.append(other)
        // The daemon makes /run/keepalived for its pid folder and, like keepalived, leaves it.
        if !FileManager.default.fileExists(atPath: "/run/keepalived") {
            addTeardownBlock { rmdir("/run/keepalived") }
        }
        for arguments in [["netns", "add", other], ["-n", other, "link", "set", "lo", "up"],
                          ["-n", other, "link", "add", "lan0", "type", "veth", "peer", "name", "peer0"],
                          ["-n", other, "link", "set", "peer0", "up"], ["-n", other, "link", "set", "lan0", "up"],
                          ["-n", other, "addr", "add", "198.51.100.1/24", "dev", "lan0"]] {
            let result = try Lab.run("/usr/sbin/ip", arguments)
            XCTAssertEqual(result.status, 0, "ip \(arguments.joined(separator: " ")): \(result.output)")
        }
        let config = try lab.writeConfig("net_namespace \(other)\n" + instance(vip: "198.51.100.50/24"), as: "ns.conf")
        let log = lab.directory.appendingPathComponent("ns.log").path
        // No -p: the pid file goes to the namespace's folder, as keepalived's.
        let daemon = try runInBackground("/usr/sbin/ip", ["netns", "exec", lab.namespace("d1"), Lab.binary.path, "-P", "-n", "-l", "-f", config], log: log)
        let otherAddresses = { (try? Lab.run("/usr/sbin/ip", ["-n", other, "-4", "-o", "addr", "show", "dev", "lan0"]).output) ?? "" }
        lab.wait(upTo: 8, for: "the VIP in \(other)") { otherAddresses().contains("198.51.100.50/24") }
        XCTAssertFalse(lab.addresses("d1").contains("198.51.100.50"), "the VIP went to d1")
        XCTAssertTrue(read(log).contains("Keepalived_vrrp_\(other)["), read(log))
        let pidFile = "/run/keepalived/\(other)/keepalived.pid"
        XCTAssertEqual(read(pidFile).trimmingCharacters(in: .whitespacesAndNewlines), "\(daemon.processIdentifier)")
        kill(daemon.processIdentifier, SIGTERM)
        daemon.waitUntilExit()
        XCTAssertEqual(daemon.terminationStatus, 0)
        XCTAssertFalse(otherAddresses().contains("198.51.100.50"), "the VIP is removed at exit")
        XCTAssertFalse(FileManager.default.fileExists(atPath: "/run/keepalived/\(other)"), "the pid folder is removed at exit")
    }

    /// A namespace that does not exist ends the daemon at once with keepalived's line.
    func testMissingNamespaceIsRefused() throws {
        lab = try Lab(directors: 1)
        let config = try lab.writeConfig("net_namespace ka-none-\(lab.name)\n" + instance(), as: "none.conf")
        let result = try lab.exec("d1", [Lab.binary.path, "-P", "-n", "-l", "-f", config, "-p", lab.directory.appendingPathComponent("none.pid").path])
        XCTAssertEqual(result.status, 1)
        XCTAssertTrue(result.output.contains("Unable to set network namespace ka-none-\(lab.name) - exiting"), result.output)
    }
}
