@testable import HealthCheck
import KeepalivedConfig
import XCTest

/// The body regex scan over bodies that arrive in pieces: matches that span reads, offsets,
/// partial matches decided at the end, and the bounded window.
final class BodyRegexScanTests: XCTestCase {
    private func scan(_ pattern: String, options: [String] = [], min: Int? = nil, max: Int? = nil, _ pieces: [String]) throws -> Bool {
        var settings = URLRegex()
        settings.pattern = pattern
        settings.options = options
        settings.minOffset = min
        settings.maxOffset = max
        var scan = BodyRegexScan(regex: try CompiledRegex(pattern: pattern, options: options), settings: settings)
        for piece in pieces { Array(piece.utf8).withUnsafeBytes { scan.feed($0) } }
        scan.finish()
        return scan.matched
    }

    func testMatchesWithinAndAcrossReads() throws {
        XCTAssertTrue(try scan("status: up", ["<html>status: up</html>"]))
        XCTAssertTrue(try scan("status: up", ["<html>sta", "tus", ": up</html>"]), "a match spanning three reads")
        XCTAssertFalse(try scan("status: up", ["<html>status: ", "down</html>"]))
        XCTAssertTrue(try scan("STATUS", options: ["caseless"], ["status"]))
        XCTAssertFalse(try scan("STATUS", ["status"]))
    }

    func testAMatchThatCouldGoOnIsDecidedAtTheEnd() throws {
        // With partial matching "ab+" at the end of a read may still grow; at the body's end it counts.
        XCTAssertTrue(try scan("ab+", ["xxab"]))
        XCTAssertTrue(try scan("ab+c?$", ["xxa", "bb"]))
        XCTAssertFalse(try scan("abc", ["xxab"]))
    }

    func testOffsetsBoundWhereAMatchMayStart() throws {
        XCTAssertTrue(try scan("ok", min: 4, ["0123ok"]))
        XCTAssertFalse(try scan("ok", min: 5, ["0123ok"]))
        XCTAssertTrue(try scan("ok", min: 5, ["ok01", "2ok"]), "a later match after min_offset counts")
        XCTAssertTrue(try scan("ok", max: 4, ["0123ok"]))
        XCTAssertFalse(try scan("ok", max: 3, ["0123ok"]))
        XCTAssertFalse(try scan("ok", max: 3, ["0123", "ok"]), "past max_offset in a later read")
    }

    func testLookbehindSeesTheEndOfTheLastRead() throws {
        XCTAssertTrue(try scan("(?<=abc)def", ["xxabc", "def"]))
        XCTAssertFalse(try scan("(?<=abc)def", ["xxabd", "def"]))
    }

    func testMemoryStaysBoundedOnAnEndlessPartialMatch() throws {
        var settings = URLRegex()
        settings.pattern = "<a.*b>"
        var scan = BodyRegexScan(regex: try CompiledRegex(pattern: "<a.*b>"), settings: settings)
        let chunk = [UInt8](repeating: UInt8(ascii: "x"), count: 16 * 1024)
        Array("<a".utf8).withUnsafeBytes { scan.feed($0) }
        for _ in 0..<64 { chunk.withUnsafeBytes { scan.feed($0) } }
        XCTAssertLessThanOrEqual(scan.windowSize, BodyRegexScan.windowLimit + chunk.count)
        XCTAssertFalse(scan.matched)
    }
}
