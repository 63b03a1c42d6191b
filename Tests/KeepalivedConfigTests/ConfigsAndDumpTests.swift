import Foundation
import KeepalivedConfig
import XCTest

/// The shipped configs parse, and `-t -d`'s dump of each is pinned by a golden file.
/// Run with UPDATE_GOLDEN=1 to rewrite the golden files after an intended change.
final class ConfigsAndDumpTests: XCTestCase {
    private var configFiles: [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: configsDirectory)) ?? []
        return names.filter { $0.hasSuffix(".conf") }.sorted()
    }

    private func load(_ path: String) -> LoadedConfiguration {
        ConfigLoader.load(path: path, options: ConfigLoadOptions(configID: "lb1", interfaceExists: nil))
    }

    func testTheSeedConfigsAreAllThere() {
        for name in ["seed-default.conf", "seed-vrrp-master.conf", "seed-vrrp-backup.conf", "seed-lvs-dr-master.conf", "seed-lvs-dr-backup.conf"] {
            XCTAssertTrue(configFiles.contains(name), name)
        }
    }

    func testEveryShippedConfigParsesWithoutErrors() {
        XCTAssertGreaterThanOrEqual(configFiles.count, 6)
        for name in configFiles {
            let result = load("\(configsDirectory)/\(name)")
            XCTAssertEqual(result.diagnostics.errors.map(\.description), [], name)
        }
    }

    func testSeedConfigsMeanWhatTheSeedSays() {
        let master = load("\(configsDirectory)/seed-lvs-dr-master.conf").configuration
        XCTAssertEqual(master.vrrpInstances[0].state, .master)
        XCTAssertEqual(master.vrrpInstances[0].priority, 100)
        XCTAssertEqual(master.vrrpInstances[0].virtualIPAddresses.map(\.address.description), ["192.168.100.100"])
        XCTAssertEqual(master.virtualServers[0].scheduler, .rr)
        XCTAssertEqual(master.virtualServers[0].forwardingMethod, .dr)
        XCTAssertEqual(master.virtualServers[0].persistenceTimeout, 50)
        XCTAssertEqual(master.virtualServers[0].realServers.map(\.address.description),
                       ["192.168.200.101", "192.168.200.102", "192.168.200.103", "192.168.200.104"])
        let backup = load("\(configsDirectory)/seed-vrrp-backup.conf").configuration
        XCTAssertEqual(backup.vrrpInstances[0].state, .backup)
        XCTAssertEqual(backup.vrrpInstances[0].priority, 99)
        XCTAssertEqual(backup.globalDefs.routerID, "backup")
    }

    func testDumpsMatchTheGoldenFiles() throws {
        let goldenDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden")
        let update = ProcessInfo.processInfo.environment["UPDATE_GOLDEN"] == "1"
        for name in configFiles {
            let dump = ConfigDump.render(load("\(configsDirectory)/\(name)").configuration)
            let golden = goldenDirectory.appendingPathComponent(name + ".dump")
            if update {
                try FileManager.default.createDirectory(at: goldenDirectory, withIntermediateDirectories: true)
                try dump.write(to: golden, atomically: true, encoding: .utf8)
                continue
            }
            let expected = try String(contentsOf: golden, encoding: .utf8)
            XCTAssertEqual(dump, expected, "\(name): the dump changed; if intended, rerun with UPDATE_GOLDEN=1")
        }
    }

    /// The dump is a config itself: read back, it means the same (defaults become explicit).
    func testDumpParsesBackToTheSameModel() {
        for name in configFiles {
            let first = ConfigDump.render(load("\(configsDirectory)/\(name)").configuration)
            let again = parse(first)
            XCTAssertEqual(again.diagnostics.errors.map(\.description), [], name)
            let second = ConfigDump.render(again.configuration)
            XCTAssertEqual(withoutComments(second), withoutComments(first), name)
        }
    }

    private func withoutComments(_ dump: String) -> String {
        dump.split(separator: "\n").map { line in
            line.range(of: "  # ").map { String(line[..<$0.lowerBound]) } ?? String(line)
        }.joined(separator: "\n")
    }
}
