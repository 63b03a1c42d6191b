import Foundation
import XCTest

/// The seed's two experiments, end to end, with our daemon and the seed's configs as written
/// (Scripts/seed-experiments builds the lab inside the VM: two directors, four web servers holding
/// the VIP on lo, a client). Runs in the same VM boot as the other kernel tests.
extension IPVSKernelTests {
    func testSeedExperimentsEndToEnd() throws {
        let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let binary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("swiftkeepalived")
        let process = Process()
        process.executableURL = repository.appendingPathComponent("Scripts/seed-experiments")
        process.arguments = ["--daemon", "ours", "--experiment", "all"]
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
            var values: [String: String] = [:]
            for pair in words.dropFirst(3) {
                let parts = pair.split(separator: "=", maxSplits: 1)
                if parts.count == 2 { values[String(parts[0])] = String(parts[1]) }
            }
            results[String(words[1])] = values
        }
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
