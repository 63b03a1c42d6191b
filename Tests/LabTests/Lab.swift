import Foundation
import XCTest

/// A throw-away network of namespaces (Scripts/lab) and the daemons a test runs in it. Every
/// address lives only inside the lab; `tearDown` removes the lab and whatever runs in it.
final class Lab {
    let name: String
    let directory: URL
    private(set) var daemons: [Daemon] = []
    /// Helper programs (test servers) started in the lab's nodes; killed at tear-down.
    private var helpers: [Process] = []

    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let binary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("swiftkeepalived")

    /// Skips the test, loudly, when the lab cannot be built here.
    static func requireLab() throws {
        try XCTSkipUnless(getuid() == 0, "LAB TESTS SKIPPED: they need root for network namespaces (CI runs them as root)")
        for tool in ["/usr/sbin/keepalived", "/usr/bin/tcpdump", "/usr/sbin/ip"] where !FileManager.default.isExecutableFile(atPath: tool) {
            throw XCTSkip("LAB TESTS SKIPPED: \(tool) is missing; run Scripts/setup")
        }
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: binary.path), "LAB TESTS SKIPPED: swiftkeepalived is not built")
    }

    init(directors: Int, servers: Int = 0) throws {
        let letters = Array("abcdefghijklmnopqrstuvwxyz0123456789")
        name = "v" + String((0..<5).map { _ in letters.randomElement()! })
        directory = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("lab-\(name)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let result = try Lab.run(Lab.repository.appendingPathComponent("Scripts/lab").path,
                                 ["up", name, "--directors", "\(directors)", "--servers", "\(servers)"])
        guard result.status == 0 else { throw LabError(message: "lab up failed: \(result.output)") }
    }

    func tearDown() {
        for daemon in daemons { daemon.kill(SIGKILL) }
        for helper in helpers where helper.isRunning { Foundation.kill(helper.processIdentifier, SIGKILL) }
        _ = try? Lab.run(Lab.repository.appendingPathComponent("Scripts/lab").path, ["down", name])
        try? FileManager.default.removeItem(at: directory)
    }

    func namespace(_ node: String) -> String { "\(name)-\(node)" }

    func address(_ node: String) -> String {
        node.hasPrefix("d") ? "192.0.2.\(10 + Int(node.dropFirst())!)" : "192.0.2.\(100 + Int(node.dropFirst())!)"
    }

    /// Runs a command inside `node` and returns what it printed.
    @discardableResult
    func exec(_ node: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
        try Lab.run("/usr/sbin/ip", ["netns", "exec", namespace(node)] + arguments)
    }

    /// The IPv4 addresses on `node`'s lan0.
    func addresses(_ node: String) -> [String] {
        guard let output = try? exec(node, ["ip", "-4", "-o", "addr", "show", "dev", "lan0"]).output else { return [] }
        return output.split(separator: "\n").compactMap { line in
            let words = line.split(separator: " ")
            guard let index = words.firstIndex(of: "inet"), index + 1 < words.count else { return nil }
            return String(words[index + 1].split(separator: "/")[0])
        }
    }

    func writeConfig(_ text: String, as file: String) throws -> String {
        let path = directory.appendingPathComponent(file).path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// Starts swiftkeepalived (or Debian's keepalived) on `node` in the foreground, logging to a
    /// file: the VRRP part (-P) or the checkers and IPVS (-C).
    /// `extra`: more command-line arguments, after the usual ones; `environment` is added to the
    /// test's own (TMPDIR, SWIFTKEEPALIVED_DUMP_DIR…).
    func start(_ kind: Daemon.Kind, on node: String, config: String, part: Daemon.Part = .vrrp, arguments extra: [String] = [],
               environment: [String: String] = [:]) throws -> Daemon {
        let daemon = try Daemon(kind: kind, lab: self, node: node, config: try writeConfig(config, as: "\(node)-\(daemons.count).conf"), part: part,
                                arguments: extra, environment: environment)
        daemons.append(daemon)
        return daemon
    }

    /// Polls `condition` every 50 ms until it holds or `timeout` passes; returns the seconds it took.
    @discardableResult
    func wait(upTo timeout: Double, for what: String, _ condition: () -> Bool, file: StaticString = #filePath, line: UInt = #line) -> Double? {
        // The monotonic clock: a test may step the wall clock (ClockStepLabTests).
        let start = ProcessInfo.processInfo.systemUptime
        while ProcessInfo.processInfo.systemUptime - start < timeout {
            if condition() { return ProcessInfo.processInfo.systemUptime - start }
            Thread.sleep(forTimeInterval: 0.05)
        }
        XCTFail("timed out after \(timeout) s waiting for \(what)", file: file, line: line)
        return nil
    }

    /// Starts a helper program inside `node` and waits for it to print READY (test servers).
    func spawn(_ node: String, _ arguments: [String], log: String) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/sbin/ip")
        process.arguments = ["netns", "exec", namespace(node)] + arguments
        let output = Pipe()
        process.standardOutput = output
        let logPath = directory.appendingPathComponent(log).path
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        process.standardError = FileHandle(forWritingAtPath: logPath)
        try process.run()
        helpers.append(process)
        let ready = output.fileHandleForReading.availableData
        guard String(decoding: ready, as: UTF8.self).contains("READY") else {
            throw LabError(message: "\(arguments.joined(separator: " ")) did not start: \((try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "")")
        }
        return process
    }

    static func run(_ executable: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}

extension Lab {
    /// The nodes (d1 and d2 unless told) whose lan0 holds `vip`.
    func holders(of vip: String = "192.0.2.200", among nodes: [String] = ["d1", "d2"]) -> [String] {
        nodes.filter { addresses($0).contains(vip) }
    }

    /// Whether `pid` runs: a daemon this test started stays a zombie once it has exited, until reaped.
    static func isAlive(_ pid: Int32) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return false }
        return !stat[stat.index(close, offsetBy: 2)...].hasPrefix("Z")
    }

    /// The lab's usual VRRP instance: VI_1 on lan0, advert_int 1, password 1111, with `extra`
    /// lines (track_script…) inside the block.
    static func vrrpInstance(state: String, priority: Int, vrid: Int = 51, addresses: [String] = ["192.0.2.200"], extra: String = "") -> String {
        """
        vrrp_instance VI_1 {
            state \(state)
            interface lan0
            virtual_router_id \(vrid)
            priority \(priority)
            advert_int 1
            authentication {
                auth_type PASS
                auth_pass 1111
            }
            virtual_ipaddress {
                \(addresses.joined(separator: "\n        "))
            }
            \(extra)
        }

        """
    }
}

struct LabError: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}

/// A daemon process inside a lab node.
final class Daemon {
    enum Kind { case ours, keepalived }
    /// -P, -C, or both parts (no flag).
    enum Part: String { case vrrp = "-P", checkers = "-C", both = "" }

    let kind: Kind
    let node: String
    let logPath: String
    /// The file it reads: rewrite it and send SIGHUP to reload.
    let configPath: String
    private let process = Process()

    var pid: Int32 { process.processIdentifier }

    /// `extra`: more command-line arguments, after the usual ones.
    init(kind: Kind, lab: Lab, node: String, config: String, part: Part = .vrrp, arguments extra: [String] = [],
         environment: [String: String] = [:]) throws {
        self.kind = kind
        self.node = node
        configPath = config
        let base = lab.directory.appendingPathComponent("\(node)-\(kind)").path
        logPath = base + ".log"
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        let arguments: [String]
        switch kind {
        case .ours:
            arguments = [Lab.binary.path] + (part == .both ? [] : [part.rawValue]) + ["-n", "-l", "-f", config, "-p", base + ".pid"]
        case .keepalived:
            arguments = ["/usr/sbin/keepalived"] + (part == .both ? [] : [part.rawValue]) + ["-n", "-l", "-D", "-f", config, "-p", base + ".pid", "-r", base + ".vrrp.pid",
                         "-c", base + ".checkers.pid"]
        }
        process.executableURL = URL(fileURLWithPath: "/usr/sbin/ip")
        process.arguments = ["netns", "exec", lab.namespace(node)] + arguments + extra
        if !environment.isEmpty { process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
        let log = FileHandle(forWritingAtPath: logPath)
        process.standardOutput = log
        process.standardError = log
        try process.run()
    }

    var isRunning: Bool { process.isRunning }

    /// The daemon's process: `ip netns exec` execs it, so it is the same pid. keepalived -P forks
    /// a VRRP child, which dies with its parent on SIGTERM; SIGKILL needs the whole group.
    func kill(_ signal: Int32) {
        guard process.isRunning else { return }
        if kind == .keepalived && signal == SIGKILL {
            _ = try? Lab.run("/usr/bin/pkill", ["-KILL", "-P", "\(process.processIdentifier)"])
        }
        Foundation.kill(process.processIdentifier, signal)
    }

    func waitForExit(timeout: Double) -> Bool {
        let start = ProcessInfo.processInfo.systemUptime
        while process.isRunning && ProcessInfo.processInfo.systemUptime - start < timeout { Thread.sleep(forTimeInterval: 0.02) }
        return !process.isRunning
    }

    var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }
}

/// A test that runs in a lab: skipped loudly where a lab cannot be built, and whatever lab it
/// made is torn down after it.
class LabTestCase: XCTestCase {
    var lab: Lab!

    override func setUpWithError() throws {
        try Lab.requireLab()
    }

    override func tearDown() {
        // A failed test shows what its daemons logged: in CI the lab's folder is gone afterwards.
        if (testRun?.failureCount ?? 0) > 0, let lab {
            for daemon in lab.daemons {
                print("--- log of \(daemon.kind) on \(daemon.node) (last 60 lines):")
                print(daemon.log.split(separator: "\n", omittingEmptySubsequences: false).suffix(60).joined(separator: "\n"))
            }
        }
        lab?.tearDown()
        lab = nil
    }

    /// Every 0.25 s for `seconds`: exactly `node` holds `vip`.
    func assertOnlyHolder(_ node: String, of vip: String = "192.0.2.200", for seconds: Double, _ why: String,
                          file: StaticString = #filePath, line: UInt = #line) {
        for _ in 0..<Int(seconds * 4) {
            Thread.sleep(forTimeInterval: 0.25)
            XCTAssertEqual(lab.holders(of: vip), [node], why, file: file, line: line)
        }
    }

    /// A master's adverts at advert_int 1 from its first one: a second apart (never later than
    /// `latest`, never earlier than `early`), except the first interval, which the advert grid
    /// may cut back by up to 50 ms.
    func assertAdvertsOnTime(_ times: [Double], latest: Double = 1.02, early: Double = 0.98,
                             file: StaticString = #filePath, line: UInt = #line) {
        let gaps = zip(times, times.dropFirst()).map { $1 - $0 }
        XCTAssertLessThan(gaps.max() ?? 99, latest, "the worst gap between adverts: \(gaps)", file: file, line: line)
        XCTAssertGreaterThan(gaps.first ?? 0, 0.94, "the first interval, cut back to the 50 ms grid at most: \(gaps)", file: file, line: line)
        XCTAssertGreaterThan(gaps.dropFirst().min() ?? 0, early, "adverts came early: \(gaps)", file: file, line: line)
    }

    /// Waits until `text` stands `count` times in the daemon's log; prints the log if it never does.
    func waitForLog(_ daemon: Daemon, _ text: String, count: Int = 1, timeout: Double = 10, file: StaticString = #filePath, line: UInt = #line) {
        let found = lab.wait(upTo: timeout, for: "'\(text)'\(count > 1 ? " ×\(count)" : "") in the log",
                             { daemon.log.components(separatedBy: text).count - 1 >= count }, file: file, line: line)
        if found == nil { print("daemon log:\n\(daemon.log)") }
    }
}

/// tcpdump of the VRRP adverts one lab node sends on lan0: when each left, by the kernel's clock.
final class AdvertCapture {
    private let process = Process()
    private let path: String

    /// `ipProtocol` 51 for `auth_type AH` adverts.
    init(lab: Lab, node: String, ipProtocol: Int = 112) throws {
        path = lab.directory.appendingPathComponent("adverts-\(node)-\(ipProtocol).txt").path
        _ = FileManager.default.createFile(atPath: path, contents: nil)
        process.executableURL = URL(fileURLWithPath: "/usr/sbin/ip")
        process.arguments = ["netns", "exec", lab.namespace(node), "tcpdump", "-i", "lan0", "-n", "-l", "--immediate-mode", "-tt",
                             "-Q", "out", "ip proto \(ipProtocol) and src \(lab.address(node))"]
        process.standardOutput = FileHandle(forWritingAtPath: path)
        process.standardError = FileHandle.nullDevice
        try process.run()
    }

    deinit { stop() }

    func stop() {
        guard process.isRunning else { return }
        process.terminate()
        process.waitUntilExit()
    }

    /// Seconds since the epoch at which each advert left.
    var times: [Double] {
        ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").split(separator: "\n").compactMap { Double($0.split(separator: " ")[0]) }
    }
}
