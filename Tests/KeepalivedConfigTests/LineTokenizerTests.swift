@testable import KeepalivedConfig
import XCTest

final class LineTokenizerTests: XCTestCase {
    private func words(_ line: String) -> [String] {
        LineTokenizer.tokenize(Array(line.utf8)[...]).words
    }

    func testCommentsStartAnywhereOutsideQuotes() {
        XCTAssertEqual(words("priority 100 # the master"), ["priority", "100"])
        XCTAssertEqual(words("! a whole comment line"), [])
        XCTAssertEqual(words("router_id master\t# 路由表示设置为主机名"), ["router_id", "master"])
        XCTAssertEqual(words("script \"/bin/echo # not a comment\""), ["script", "/bin/echo # not a comment"])
    }

    func testCommentGluedToWordIsFlagged() {
        let line = LineTokenizer.tokenize(Array("auth_pass ab!cd".utf8)[...])
        XCTAssertEqual(line.words, ["auth_pass", "ab"])
        XCTAssertTrue(line.commentInsideWord)
    }

    func testQuotesGroupAndMayStartMidWord() {
        XCTAssertEqual(words("abcd\" efg h jkl \"mnop"), ["abcd efg h jkl mnop"])
        XCTAssertEqual(words("abcd \"efg h jkl\" mnop"), ["abcd", "efg h jkl", "mnop"])
        XCTAssertEqual(words("notify '/usr/bin/x a b'"), ["notify", "/usr/bin/x a b"])
    }

    func testEscapesInsideQuotes() {
        XCTAssertEqual(words(#"x "a\tb\"c\\d\x41\101""#), ["x", "a\tb\"c\\dAA"])
    }

    func testUnterminatedQuoteIsFlagged() {
        XCTAssertTrue(LineTokenizer.tokenize(Array("script \"/bin/true".utf8)[...]).unterminatedQuote)
    }

    func testBracesAreTokensEvenWhenGlued() {
        let line = LineTokenizer.tokenize(Array("global_defs{ router_id x}".utf8)[...])
        XCTAssertEqual(line.words, ["global_defs", "router_id", "x"])
        XCTAssertEqual(line.braces, [BraceMark(wordsBefore: 1, isOpen: true), BraceMark(wordsBefore: 3, isOpen: false)])
    }

    func testIncludeLinesKeepBraceGlobs() {
        let line = LineTokenizer.tokenize(Array("include conf.d/{a,b}.conf".utf8)[...], bracesAreWords: true)
        XCTAssertEqual(line.words, ["include", "conf.d/{a,b}.conf"])
        XCTAssertEqual(line.braces, [])
    }

    func testTabsAndCarriageReturnsAreSpace() {
        XCTAssertEqual(words("\tstate\tMASTER\r"), ["state", "MASTER"])
    }
}
