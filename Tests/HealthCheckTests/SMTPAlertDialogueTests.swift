import DaemonCore
import HealthCheck
import KeepalivedConfig
import XCTest

final class SMTPAlertDialogueTests: XCTestCase {
    private let settings = MailSettings(server: IPAddress("192.0.2.25")!, port: 25, recipients: ["a@example.org", "B <b@example.org>"],
                                        from: "lb@example.org", heloName: "lb1", routerID: "LVS_1", timeout: 30)

    private func text(_ step: SMTPAlertDialogue.Step) -> String? {
        switch step {
        case .send(let bytes), .delivered(let bytes): return String(decoding: bytes, as: UTF8.self)
        default: return nil
        }
    }

    func testTheWholeExchangeWithOneRCPTPerRecipient() {
        var dialogue = SMTPAlertDialogue(settings: settings, message: "MESSAGE\r\n.\r\n")
        XCTAssertEqual(dialogue.feed(Array("220-mail.example.org ESMTP\r\n".utf8)), .wait)
        XCTAssertEqual(text(dialogue.feed(Array("220 ready\r\n".utf8))), "HELO lb1\r\n")
        XCTAssertEqual(text(dialogue.feed(Array("250 hi\r\n".utf8))), "MAIL FROM:<lb@example.org>\r\n")
        // A reply in two reads.
        XCTAssertEqual(dialogue.feed(Array("25".utf8)), .wait)
        XCTAssertEqual(text(dialogue.feed(Array("0 ok\r\n".utf8))), "RCPT TO:<a@example.org>\r\n")
        XCTAssertEqual(text(dialogue.feed(Array("250 ok\r\n".utf8))), "RCPT TO:<b@example.org>\r\n")
        XCTAssertEqual(text(dialogue.feed(Array("250 ok\r\n".utf8))), "DATA\r\n")
        XCTAssertEqual(text(dialogue.feed(Array("354 go\r\n".utf8))), "MESSAGE\r\n.\r\n")
        XCTAssertFalse(dialogue.isQuitting)
        XCTAssertEqual(dialogue.feed(Array("250 queued\r\n".utf8)), .delivered(then: Array("QUIT\r\n".utf8)))
        XCTAssertTrue(dialogue.isQuitting)
        XCTAssertEqual(dialogue.feed(Array("221 bye\r\n".utf8)), .finished)
    }

    func testAnUnexpectedReplyIsLoggedAsKeepalivedDoesThenQuit() {
        var dialogue = SMTPAlertDialogue(settings: settings, message: "M")
        _ = dialogue.feed(Array("220 ready\r\n".utf8))
        _ = dialogue.feed(Array("250 hi\r\n".utf8))
        XCTAssertEqual(dialogue.feed(Array("550 no such sender\r\n".utf8)),
                       .refused("Error processing MAIL cmd on SMTP server [192.0.2.25]:25. SMTP status code = 550", then: Array("QUIT\r\n".utf8)))
        XCTAssertEqual(dialogue.feed(Array("221 bye\r\n".utf8)), .finished)

        var busy = SMTPAlertDialogue(settings: settings, message: "M")
        XCTAssertEqual(busy.feed(Array("421 busy\r\n".utf8)),
                       .refused("Error processing (E)SMTP cmd on SMTP server [192.0.2.25]:25. SMTP status code = 421", then: Array("QUIT\r\n".utf8)))
    }

    func testAnEndlessLineIsRefused() {
        var dialogue = SMTPAlertDialogue(settings: settings, message: "M")
        guard case .refused(let line, _) = dialogue.feed([UInt8](repeating: UInt8(ascii: "2"), count: 2000)) else { return XCTFail() }
        XCTAssertEqual(line, "Received buffer from remote SMTP server [192.0.2.25]:25 overflow our get read buffer length.")
    }
}
