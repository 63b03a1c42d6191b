import HealthCheck
import KeepalivedConfig
import XCTest

/// The wire formats of DNS_CHECK, PING_CHECK and SMTP_CHECK, byte by byte.
final class DatagramProtocolTests: XCTestCase {
    func testDNSQueryLayout() {
        let query = DNSQuery(id: 0x1234, name: "lab.test", type: .a)
        XCTAssertEqual(query.bytes, [0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0,
                                     3, 0x6c, 0x61, 0x62, 4, 0x74, 0x65, 0x73, 0x74, 0, 0, 1, 0, 1])
        // The root, SOA: keepalived's default query.
        XCTAssertEqual(DNSQuery(id: 1, name: ".", type: .soa).bytes.suffix(5), [0, 0, 6, 0, 1])
    }

    private func reply(to query: DNSQuery, flags: UInt16 = 0x8180, questions: UInt16 = 1, question: [UInt8]? = nil) -> [UInt8] {
        var bytes = query.bytes
        bytes[2] = UInt8(flags >> 8)
        bytes[3] = UInt8(flags & 0xff)
        bytes[5] = UInt8(questions)
        if let question { bytes = Array(bytes[..<12]) + question }
        return bytes + [0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 250]
    }

    func testDNSVerdicts() {
        let query = DNSQuery(id: 7, name: "Lab.Test", type: .a)
        XCTAssertEqual(query.verdict(of: reply(to: query)), .good)
        var upper = reply(to: query)
        for index in 12..<26 where (97...122).contains(upper[index]) { upper[index] -= 32 }
        XCTAssertEqual(query.verdict(of: upper), .good, "names compare without case")
        XCTAssertEqual(DNSQuery(id: 8, name: "lab.test", type: .a).verdict(of: reply(to: query)), .unrelated)
        XCTAssertEqual(query.verdict(of: reply(to: query, flags: 0x0100)), .bad("not a response (QR bit clear)"))
        XCTAssertEqual(query.verdict(of: reply(to: query, flags: 0x8183)), .bad("read error occurred. (rcode = 3) NXDOMAIN"))
        XCTAssertEqual(query.verdict(of: reply(to: query, flags: 0x8185)), .bad("read error occurred. (rcode = 5) REFUSED"))
        XCTAssertEqual(query.verdict(of: reply(to: query, questions: 0)), .bad("0 questions in the reply instead of 1"))
        let other = DNSQuery(id: 7, name: "lab.tesu", type: .a).bytes
        XCTAssertEqual(query.verdict(of: reply(to: query, question: Array(other[12...]))), .bad("the reply's question is not the one asked"))
        XCTAssertEqual(query.verdict(of: [0, 7, 0x81]), .bad("reply of 3 bytes is shorter than a DNS header"))
        XCTAssertEqual(query.verdict(of: Array(reply(to: query)[..<20])), .bad("reply ends inside the question"))
    }

    func testICMPEchoRequestsAndReplies() {
        let echo = ICMPEcho(identifier: 0xbeef, sequence: 3, isIPv6: false)
        let request = echo.request
        XCTAssertEqual(Array(request[..<2]), [8, 0])
        XCTAssertEqual(ICMPEcho.checksum(request), 0, "a packet with its checksum sums to zero")
        var reply = request
        reply[0] = 0
        XCTAssertTrue(echo.isReply(reply, withIPHeader: false, anyIdentifier: false))
        let ipHeader: [UInt8] = [0x45] + Array(repeating: 0, count: 19)
        XCTAssertTrue(echo.isReply(ipHeader + reply, withIPHeader: true, anyIdentifier: false))
        XCTAssertFalse(echo.isReply(request, withIPHeader: false, anyIdentifier: false), "our own request is not a reply")
        var otherProgram = reply
        otherProgram[5] ^= 1
        XCTAssertFalse(echo.isReply(otherProgram, withIPHeader: false, anyIdentifier: false))
        XCTAssertTrue(echo.isReply(otherProgram, withIPHeader: false, anyIdentifier: true), "a ping socket sets the identifier")
        var earlier = reply
        earlier[7] = 2
        XCTAssertFalse(echo.isReply(earlier, withIPHeader: false, anyIdentifier: true))
        XCTAssertFalse(echo.isReply([0, 0, 0], withIPHeader: false, anyIdentifier: true))
        let six = ICMPEcho(identifier: 1, sequence: 1, isIPv6: true)
        XCTAssertEqual(six.request[0], 128)
        var sixReply = six.request
        sixReply[0] = 129
        XCTAssertTrue(six.isReply(sixReply, withIPHeader: false, anyIdentifier: false))
    }

    func testSMTPDialogue() {
        var dialogue = SMTPDialogue(heloName: "director.lab")
        XCTAssertEqual(dialogue.feed(Array("220 mx ESMTP\r".utf8)), .wait, "half a line waits")
        XCTAssertEqual(dialogue.feed(Array("\n".utf8)), .send(Array("HELO director.lab\r\n".utf8)))
        XCTAssertEqual(dialogue.feed(Array("250-mx Hello\r\n250-SIZE 1000\r\n".utf8)), .wait, "a continued reply waits for its last line")
        XCTAssertEqual(dialogue.feed(Array("250 HELP\r\n".utf8)), .send(Array("QUIT\r\n".utf8)))
        XCTAssertEqual(dialogue.feed(Array("221 bye\r\n".utf8)), .passed)
        var anyQuitAnswer = SMTPDialogue(heloName: "d")
        _ = anyQuitAnswer.feed(Array("220 ok\r\n250 ok\r\n".utf8))
        XCTAssertEqual(anyQuitAnswer.feed(Array("500 what\r\n".utf8)), .passed, "keepalived takes any answer to QUIT")
        var closedAfterQuit = SMTPDialogue(heloName: "d")
        _ = closedAfterQuit.feed(Array("220 ok\r\n250 ok\r\n".utf8))
        XCTAssertEqual(closedAfterQuit.closed(), .passed)

        var busy = SMTPDialogue(heloName: "d")
        XCTAssertEqual(busy.feed(Array("421 too busy\r\n".utf8)), .failed("bad banner '421 too busy' (expected 220)"))
        var refusing = SMTPDialogue(heloName: "d")
        _ = refusing.feed(Array("220 ok\r\n".utf8))
        XCTAssertEqual(refusing.feed(Array("550 no\r\n".utf8)), .failed("HELO answered '550 no' (expected 250)"))
        var garbage = SMTPDialogue(heloName: "d")
        XCTAssertEqual(garbage.feed(Array("hello\n".utf8)), .failed("malformed reply line 'hello'"))
        var endless = SMTPDialogue(heloName: "d")
        XCTAssertEqual(endless.feed(Array(repeating: UInt8(ascii: "2"), count: 5000)), .failed("reply line longer than 1024 bytes"))
        var cut = SMTPDialogue(heloName: "d")
        _ = cut.feed(Array("220 ok\r\n".utf8))
        XCTAssertEqual(cut.closed(), .failed("connection closed by the server before answering HELO"))
    }

    func testReplyPatternsWithNibbleMasks() throws {
        let pattern = try XCTUnwrap(ReplyPattern(hex: "70XX6X"))
        XCTAssertEqual(pattern.bytes, [0x70, 0x00, 0x60])
        XCTAssertEqual(pattern.masks, [0xff, 0x00, 0xf0])
        XCTAssertEqual(pattern.description, "70XX6X")
        XCTAssertTrue(pattern.matches(Array("pong\n".utf8)))
        XCTAssertTrue(pattern.matches([0x70, 0xff, 0x6a]))
        XCTAssertFalse(pattern.matches([0x70, 0xff, 0x7a]))
        XCTAssertTrue(pattern.matches([0x70, 0xff]), "a shorter reply is compared as far as it goes, as in keepalived")
        XCTAssertFalse(pattern.matches([0x71]))
        XCTAssertNil(ReplyPattern(hex: "7"), "odd number of digits")
        XCTAssertNil(ReplyPattern(hex: "7g"))
        XCTAssertNil(ReplyPattern(hex: ""))
    }
}
