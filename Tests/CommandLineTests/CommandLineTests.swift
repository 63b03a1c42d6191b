import Foundation
import XCTest

/// The built `swiftkeepalived` binary, run as an operator runs it.
final class CommandLineTests: XCTestCase {
    private struct Run {
        var status: Int32
        var output: String
        var errors: String
    }

    private var binary: URL {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("swiftkeepalived")
    }

    private var configs: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Configs")
    }

    private func run(_ arguments: [String]) throws -> Run {
        let process = Process()
        process.executableURL = binary
        process.arguments = arguments
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let outputData = output.fileHandleForReading.readDataToEndOfFile()
        let errorData = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Run(status: process.terminationStatus, output: String(decoding: outputData, as: UTF8.self),
                   errors: String(decoding: errorData, as: UTF8.self))
    }

    private func temporaryConfig(_ text: String) throws -> String {
        let path = NSTemporaryDirectory() + "swiftkeepalived-test-\(UUID().uuidString).conf"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: path) }
        return path
    }

    override func setUpWithError() throws {
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: binary.path), "build the swiftkeepalived product first")
    }

    func testConfigTestPassesTheSeedConfigs() throws {
        for name in ["seed-default.conf", "seed-vrrp-master.conf", "seed-lvs-dr-backup.conf"] {
            let result = try run(["-t", "-f", configs.appendingPathComponent(name).path])
            XCTAssertEqual(result.status, 0, result.errors)
            XCTAssertTrue(result.errors.contains(": 0 errors"), result.errors)
        }
    }

    func testConfigTestFailsWithFileLineErrors() throws {
        let path = try temporaryConfig("vrrp_instance VI_1 {\n interface lan0\n virtual_router_id 300\n}\n")
        let result = try run(["-t", "-f", path])
        XCTAssertEqual(result.status, 1)
        XCTAssertTrue(result.errors.contains("\(path):3: error: virtual_router_id 300 is out of range 1-255"), result.errors)
        XCTAssertTrue(result.errors.contains("1 error"), result.errors)
    }

    func testLongOptionNamesWork() throws {
        let path = try temporaryConfig("global_defs {\n router_id x\n}\n")
        let result = try run(["--config-test", "--use-file", path, "--dump-conf"])
        XCTAssertEqual(result.status, 0, result.errors)
        XCTAssertTrue(result.output.contains("router_id x"), result.output)
    }

    func testDumpShowsDefaults() throws {
        let result = try run(["-t", "-d", "-f", configs.appendingPathComponent("seed-lvs-dr-master.conf").path])
        XCTAssertEqual(result.status, 0, result.errors)
        XCTAssertTrue(result.output.contains("protocol TCP  # default"), result.output)
        XCTAssertTrue(result.output.contains("real_server 192.168.200.104 80 {"), result.output)
    }

    func testMissingFileIsAnError() throws {
        let result = try run(["-t", "-f", "/nonexistent/keepalived.conf"])
        XCTAssertEqual(result.status, 1)
        XCTAssertTrue(result.errors.contains("cannot read configuration file /nonexistent/keepalived.conf"), result.errors)
    }

    func testConflictingPartsAreRefused() throws {
        let result = try run(["-P", "-C", "-t"])
        XCTAssertNotEqual(result.status, 0)
        XCTAssertTrue(result.errors.contains("exclude each other"), result.errors)
    }

    func testMetricsListenTakesAnAddressAndAPort() throws {
        for bad in ["9165", "localhost:9165", "::1:9165", "127.0.0.1:0"] {
            let result = try run(["--metrics-listen", bad, "-t", "-f", configs.appendingPathComponent("seed-vrrp-master.conf").path])
            XCTAssertNotEqual(result.status, 0, bad)
            XCTAssertTrue(result.errors.contains("--metrics-listen takes ADDRESS:PORT"), result.errors)
        }
        XCTAssertTrue(try run(["--help"]).output.contains("--metrics-listen <address:port>"))
    }

    /// Exporters run `keepalived --signum=NAME`: every name keepalived knows gives keepalived's
    /// number, and a name it does not know fails as it fails.
    func testSignumPrintsKeepalivedsNumbers() throws {
        let keepalived = "/usr/sbin/keepalived"
        // The reference is part of the proof (Scripts/setup installs it): no skipping.
        guard FileManager.default.isExecutableFile(atPath: keepalived) else { return XCTFail("keepalived is not installed; run Scripts/setup") }
        for name in ["STOP", "RELOAD", "DATA", "STATS", "STATS_CLEAR", "JSON", "TDATA", "TDUMP", "json", "USR1"] {
            let ours = try run(["--signum=\(name)"])
            let process = Process()
            process.executableURL = URL(fileURLWithPath: keepalived)
            process.arguments = ["--signum=\(name)"]
            let output = Pipe()
            process.standardOutput = output
            process.standardError = Pipe()
            try process.run()
            let theirs = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            XCTAssertEqual(ours.output, theirs, name)
            XCTAssertEqual(ours.status == 0, process.terminationStatus == 0, name)
            if process.terminationStatus != 0 { XCTAssertEqual(ours.errors, "Unknown sigfunc \(name)\n", name) }
        }
        XCTAssertEqual(try run(["--signum=JSON"]).output, "36\n")
    }

    func testVersionAndHelp() throws {
        XCTAssertTrue(try run(["-v"]).output.hasPrefix("swiftkeepalived "))
        let help = try run(["--help"]).output
        for option in ["-f, --use-file", "-t, --config-test", "-d, --dump-conf", "-P, --vrrp", "-C, --check", "-n, --dont-fork",
                       "-l, --log-console", "-D, --log-detail", "-S, --log-facility", "-p, --pid", "-r, --vrrp_pid", "-c, --checkers_pid"] {
            XCTAssertTrue(help.contains(option), "help lacks \(option)")
        }
    }
}
