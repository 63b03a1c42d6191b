import DaemonCore
import KeepalivedConfig
import XCTest

final class MailMessageTests: XCTestCase {
    private let settings = MailSettings(server: IPAddress("192.0.2.25")!, port: 25, recipients: ["ops@example.org", "Night Desk <desk@example.org>"],
                                        from: "lb1@example.org", heloName: "lb1.example.org", routerID: "LVS_1", timeout: 30)

    func testVRRPAlertsAreWordedAsKeepalivedsAre() {
        XCTAssertEqual(MailAlert.instance("VI_1", state: "MASTER"),
                       MailAlert(subject: "VRRP Instance VI_1 - Entering MASTER state", body: "=> VRRP Instance is now owning VRRP VIPs <="))
        XCTAssertEqual(MailAlert.instance("VI_1", state: "BACKUP")?.body, "=> VRRP Instance is no longer owning VRRP VIPs <=")
        XCTAssertEqual(MailAlert.instance("VI_1", state: "FAULT")?.subject, "VRRP Instance VI_1 - Entering FAULT state")
        XCTAssertEqual(MailAlert.instance("VI_1", state: "STOP"),
                       MailAlert(subject: "VRRP Instance VI_1 - Stopping", body: "=> VRRP Instance stopping <="))
        XCTAssertNil(MailAlert.instance("VI_1", state: "INIT"))
        XCTAssertEqual(MailAlert.group("G1", state: "BACKUP"),
                       MailAlert(subject: "VRRP Group G1 - Entering BACKUP state", body: "=> All VRRP group instances are now in BACKUP state <="))
        XCTAssertEqual(MailAlert.group("G1", state: "STOP")?.body, "=> All VRRP group instances are now stopping <=")
    }

    func testCheckerAndQuorumAlertsAreWordedAsKeepalivedsAre() {
        XCTAssertEqual(MailAlert.realServer("[198.51.100.1]:tcp:80", of: "[192.0.2.10]:tcp:80", alive: false, body: "=> TCP CHECK failed on service <=").subject,
                       "Realserver [198.51.100.1]:tcp:80 of virtual server [192.0.2.10]:tcp:80 - DOWN")
        XCTAssertEqual(MailAlert.quorum(of: "[192.0.2.10]:tcp:80", up: false, initial: false, quorum: 2, hysteresis: 1, threshold: 1, liveWeight: 0),
                       MailAlert(subject: "Virtualserver [192.0.2.10]:tcp:80 - DOWN", body: "=> Lost quorum 2+1=1 <= 0 <="))
        XCTAssertEqual(MailAlert.quorum(of: "FWM 7", up: true, initial: true, quorum: 1, hysteresis: 0, threshold: 1, liveWeight: 3).body,
                       "=> Starting with quorum up 1+0=1 <= 3 <=")
    }

    func testTheMessageHasKeepalivedsHeadersAndEndsWithTheDot() {
        let alert = MailAlert.instance("VI_1", state: "MASTER")!
        XCTAssertEqual(MailMessage.data(alert, settings: settings, date: "Mon, 01 Mar 2021 09:44:08 +0000"), """
            Date: Mon, 01 Mar 2021 09:44:08 +0000\r
            From: lb1@example.org\r
            Subject: [LVS_1] VRRP Instance VI_1 - Entering MASTER state\r
            X-Mailer: Keepalived\r
            To: ops@example.org,\r
             Night Desk <desk@example.org>\r
            \r
            => VRRP Instance is now owning VRRP VIPs <=\r
            \r
            .\r

            """)
    }

    func testBodyLinesStartingWithADotAreStuffedAndLineEndsAreCRLF() {
        let alert = MailAlert(subject: "s\r\nBcc: x", body: ".\nline\r\n..two")
        let data = MailMessage.data(alert, settings: settings, date: "d")
        XCTAssertTrue(data.hasSuffix("\r\n\r\n..\r\nline\r\n...two\r\n\r\n.\r\n"), data)
        XCTAssertTrue(data.contains("Subject: [LVS_1] s  Bcc: x\r\n"), "a subject cannot add a header: \(data)")
    }

    func testEnvelopeAddressesTakeTheBracketedPart() {
        XCTAssertEqual(MailMessage.envelope("ops@example.org"), "<ops@example.org>")
        XCTAssertEqual(MailMessage.envelope("Night Desk <desk@example.org>"), "<desk@example.org>")
    }

    func testSettingsTakeKeepalivedsDefaults() throws {
        var defs = GlobalDefinitions()
        defs.notificationEmail = ["ops@example.org"]
        XCTAssertNil(MailSettings.resolve(defs, localName: { "h" }, userName: { "u" }, resolve: { _ in nil }), "no server, no mail")
        defs.smtpServer = SMTPServer(host: "192.0.2.25")
        let resolved = try XCTUnwrap(MailSettings.resolve(defs, localName: { "lb1.example.org" }, userName: { "root" }, resolve: { _ in nil })?.get())
        XCTAssertEqual(resolved, MailSettings(server: IPAddress("192.0.2.25")!, port: 25, recipients: ["ops@example.org"], from: "root@lb1.example.org",
                                              heloName: "lb1.example.org", routerID: "lb1.example.org", timeout: 30))
        XCTAssertEqual(resolved.serverName, "[192.0.2.25]:25")
        defs.smtpServer = SMTPServer(host: "mail.example.org", port: 2525)
        defs.routerID = "LVS_1"
        defs.notificationEmailFrom = "lb@example.org"
        defs.smtpHeloName = "lb"
        defs.smtpConnectTimeout = 5
        let named = try XCTUnwrap(MailSettings.resolve(defs, localName: { XCTFail("no name needed"); return nil }, userName: { nil },
                                                       resolve: { $0 == "mail.example.org" ? IPAddress("198.51.100.25") : nil })?.get())
        XCTAssertEqual(named, MailSettings(server: IPAddress("198.51.100.25")!, port: 2525, recipients: ["ops@example.org"], from: "lb@example.org",
                                           heloName: "lb", routerID: "LVS_1", timeout: 5))
        defs.smtpServer = SMTPServer(host: "nowhere.invalid")
        guard case .failure(let problem)? = MailSettings.resolve(defs, localName: { nil }, userName: { nil }, resolve: { _ in nil }) else {
            return XCTFail("an unknown server is a problem")
        }
        XCTAssertEqual(problem.description, "Invalid smtp server nowhere.invalid 25")
    }

    func testTheDateIsRFC5322s() {
        let date = HostNames.mailDate()
        XCTAssertNotNil(date.range(of: #"^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} [+-]\d{4}$"#, options: .regularExpression), date)
    }
}
