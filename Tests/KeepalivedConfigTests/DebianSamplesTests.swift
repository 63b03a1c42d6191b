import Foundation
import KeepalivedConfig
import XCTest

/// Configs written by others: every sample Debian's keepalived package ships is read without an
/// "unknown keyword" (conditional_conf under both of its ids). Scripts/setup installs the
/// package; without it this fails rather than skips.
final class DebianSamplesTests: XCTestCase {
    static let folder = "/usr/share/doc/keepalived/samples"

    func testEverySampleIsReadWithoutUnknownKeywords() throws {
        let names = try FileManager.default.contentsOfDirectory(atPath: Self.folder).filter { $0.hasPrefix("keepalived.conf.") }.sorted()
        XCTAssertGreaterThanOrEqual(names.count, 25, "Debian's keepalived ships 25 sample configs in \(Self.folder)")
        var unknown: [String] = []
        var refused: [String] = []
        for name in names {
            for id in name == "keepalived.conf.conditional_conf" ? ["high", "low"] : ["lb1"] {
                let options = ConfigLoadOptions(configID: id, interfaceExists: nil)
                let result = ConfigLoader.load(path: "\(Self.folder)/\(name)", options: options)
                unknown += result.diagnostics.all.filter { $0.message.contains("unknown keyword") }.map(\.description)
                refused += result.diagnostics.errors.map(\.description)
            }
        }
        XCTAssertEqual(unknown, [], "samples with keywords we call unknown")
        // The one error keepalived reports too: a malformed address in the rules sample.
        // The rules sample has two malformed addresses (`192.168.100./24`): keepalived logs them
        // and skips those rules; here they are errors, the one deliberate difference.
        XCTAssertEqual(refused.filter { !$0.contains("Invalid rule to address 192.168.") }, [], "samples refused")
        XCTAssertEqual(refused.count, 2, "\(refused)")
    }
}
