import Foundation
import XCTest

/// The seed's two experiments, end to end, with our daemon and the seed's configs as written
/// (Scripts/seed-experiments builds the lab inside the VM: two directors, four web servers holding
/// the VIP on lo, a client). Runs in the same VM boot as the other kernel tests.
extension IPVSKernelTests {
    func testSeedExperimentsEndToEnd() throws {
        let (results, output) = try seedResults(daemon: "ours", experiments: "all", quiet: false)
        let everyServer = "web01,web02,web03,web04"
        let vrrp = try XCTUnwrap(results["vrrp"], output)
        for logged in ["timeout_logged", "master_logged", "vips_logged", "garp_logged", "backup_has_vip"] {
            XCTAssertEqual(vrrp[logged], "yes", "vrrp: \(logged)\n\(output)")
        }
        for (experiment, limit) in [("lvs", 4.0), ("lvs-sigterm", 1.2)] {
            let result = try XCTUnwrap(results[experiment], output)
            XCTAssertEqual(result["servers_before"], everyServer, "\(experiment): every server served before\n\(output)")
            XCTAssertEqual(result["backup_has_vip"], "yes", "\(experiment)\n\(output)")
            XCTAssertEqual(result["master_has_vip"], "no", "\(experiment)\n\(output)")
            XCTAssertEqual(result["ipvs_proto"], "TCP", "\(experiment)\n\(output)")
            let gap = try XCTUnwrap(result["longest_gap"].flatMap(Double.init), "\(experiment)\n\(output)")
            XCTAssertLessThan(gap, limit, "\(experiment): the client's longest gap\n\(output)")
            XCTAssertGreaterThan(Int(result["served"] ?? "") ?? 0, 50, "\(experiment)\n\(output)")
            XCTAssertEqual(result["leftovers"], "none", "\(experiment)\n\(output)")
        }
        let cleanup = try XCTUnwrap(results["cleanup"], output)
        XCTAssertEqual(cleanup["namespaces_left"], "0", output)
        XCTAssertEqual(cleanup["daemons_left"], "0", output)
        XCTAssertEqual(cleanup["leftovers"], "none", output)
    }
}

/// Connection sync in the seed's lab (Scripts/seed-experiments sync, sync-sigterm, nosync): 20
/// long-lived connections and the persistent HTTP clients across a cut link and a SIGTERM, with
/// `lvs_sync_daemon` and without it (which must lose them, or the test could not fail); and
/// Debian's keepalived with the same configs in the same lab.
extension IPVSKernelTests {
    /// Runs Scripts/seed-experiments; its RESULT lines by experiment, and everything it printed.
    func seedResults(daemon: String, experiments: String, quiet: Bool = true) throws -> (results: [String: [String: String]], output: String) {
        try labResults("Scripts/seed-experiments", (quiet ? ["--quiet"] : []) + ["--daemon", daemon, "--experiment", experiments])
    }

    /// Runs one of the lab scripts under Scripts/ with the daemon just built; the key=value pairs
    /// of its `RESULT <experiment> …` lines by experiment, and everything it printed.
    func labResults(_ script: String, _ arguments: [String]) throws -> (results: [String: [String: String]], output: String) {
        let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let binary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("swiftkeepalived")
        let process = Process()
        process.executableURL = repository.appendingPathComponent(script)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(["SWIFTKEEPALIVED": binary.path]) { $1 }
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0, output)
        var results: [String: [String: String]] = [:]
        for line in output.split(separator: "\n") where line.hasPrefix("RESULT ") {
            let words = line.split(separator: " ")
            guard words.count > 2 else { continue }
            // Words without "=" (the daemon's name in seed-experiments) are not pairs.
            results[String(words[1]), default: [:]].merge(words.dropFirst(2).compactMap { pair -> (String, String)? in
                let parts = pair.split(separator: "=", maxSplits: 1)
                return parts.count == 2 ? (String(parts[0]), String(parts[1])) : nil
            }, uniquingKeysWith: { $1 })
        }
        return (results, output)
    }

    /// Every connection open before the action echoes again after the takeover, none is reset,
    /// and none stays silent longer than the takeover plus the client's TCP retransmission
    /// backoff (its next retransmission after the takeover comes at most about the takeover's
    /// length later: the timer doubles).
    private func assertEveryConnectionKept(_ result: [String: String], _ label: String, _ output: String) {
        XCTAssertEqual(result["echo_open_before"], "20", "\(label)\n\(output)")
        XCTAssertEqual(result["echo_kept"], "20", "\(label): connections kept\n\(output)")
        XCTAssertEqual(result["echo_reset"], "0", "\(label)\n\(output)")
        XCTAssertEqual(result["echo_ended"], "0", "\(label)\n\(output)")
        XCTAssertEqual(result["persist_moved"], "0", "\(label): persistent clients stay on their real server\n\(output)")
        let takeover = Double(result["takeover_s"] ?? "") ?? 99
        let silence = Double(result["echo_max_silence"] ?? "") ?? 99
        XCTAssertLessThan(silence, 2 * takeover + 1.5, "\(label): longest silence against a takeover of \(takeover) s\n\(output)")
        XCTAssertEqual(result["leftovers"], "none", "\(label)\n\(output)")
    }

    func testConnectionSyncKeepsConnectionsAcrossFailover() throws {
        let (ours, output) = try seedResults(daemon: "ours", experiments: "sync,sync-sigterm,nosync")
        let cut = try XCTUnwrap(ours["sync"], output)
        assertEveryConnectionKept(cut, "sync (cut)", output)
        XCTAssertEqual(cut["roles_before"], "d1:master,d2:backup", output)
        // The cut master goes to FAULT (its link is down), which is leaving MASTER: backup daemon.
        XCTAssertEqual(cut["roles_after"], "d1:backup,d2:master", output)
        XCTAssertEqual(cut["roles_failback"], "d1:master,d2:backup", output)
        let sigterm = try XCTUnwrap(ours["sync-sigterm"], output)
        assertEveryConnectionKept(sigterm, "sync-sigterm", output)
        XCTAssertEqual(sigterm["roles_after"], "d1:none,d2:master", "the stopped daemon stopped its sync daemon\n\(output)")
        let without = try XCTUnwrap(ours["nosync"], output)
        XCTAssertEqual(without["roles_before"], "d1:none,d2:none", output)
        XCTAssertEqual(without["echo_open_before"], "20", output)
        XCTAssertGreaterThan(Int(without["echo_reset"] ?? "") ?? 0, 0, "without sync the new master resets the connections it does not know\n\(output)")
        XCTAssertEqual(ours["cleanup"]?["leftovers"], "none", output)

        // The reference is part of the proof (Scripts/setup installs it): no skipping.
        XCTAssertTrue(FileManager.default.isExecutableFile(atPath: "/usr/sbin/keepalived"), "keepalived is not installed")
        let (reference, referenceOutput) = try seedResults(daemon: "keepalived", experiments: "sync")
        let keepalived = try XCTUnwrap(reference["sync"], referenceOutput)
        XCTAssertEqual(keepalived["roles_before"], "d1:master,d2:backup", referenceOutput)
        XCTAssertEqual(keepalived["roles_after"], cut["roles_after"], "keepalived's roles after the cut are ours\n\(referenceOutput)")
        XCTAssertLessThanOrEqual(Int(keepalived["echo_kept"] ?? "") ?? 0, Int(cut["echo_kept"] ?? "") ?? 0, referenceOutput)
    }
}
