import Foundation
import XCTest

/// E-mail alerts against a real SMTP server (aiosmtpd) on s1, and against servers that never
/// answer: the mail must neither delay the master's adverts nor the checks, and the time-out
/// is logged in keepalived's words.
final class MailAlertLabTests: LabTestCase {
    override func setUpWithError() throws {
        try super.setUpWithError()
        lab = try Lab(directors: 1, servers: 1)
    }

    private var server: String { lab.address("s1") }

    /// A master with smtp_alert on, and `realServers` real servers whose TCP_CHECK finds
    /// nothing listening on s1 (each goes down after its first check).
    private func config(smtpServer: String, timeout: Int, realServers: Int, tracking: String = "") -> String {
        let reals = (0..<realServers).map { index in
            """
                real_server \(server) \(8000 + index) {
                    TCP_CHECK {
                        connect_timeout 1
                        retry 0
                    }
                }
            """
        }.joined(separator: "\n")
        return """
        global_defs {
            router_id LAB1
            notification_email {
                ops@lab.test
                "Night Desk <desk@lab.test>"
            }
            notification_email_from lb@lab.test
            smtp_server \(smtpServer)
            smtp_connect_timeout \(timeout)
            smtp_alert
        }
        vrrp_instance VI_1 {
            state MASTER
            interface lan0
            virtual_router_id 51
            priority 100
            advert_int 1
            virtual_ipaddress {
                192.0.2.200
            }
            \(tracking)
        }
        virtual_server 192.0.2.200 80 {
            delay_loop 1
            lb_kind NAT
            protocol TCP
        \(reals)
        }

        """
    }

    /// MASTER, BACKUP and FAULT, and a real server going down and coming back, each one mail.
    func testTransitionsAndRealServersGoingDownAreMailed() throws {
        let mailbox = lab.directory.appendingPathComponent("mailbox.txt").path
        // aiosmtpd with a handler that writes the envelope too, then each message.
        let script = try lab.writeConfig("""
            import sys, time
            from aiosmtpd.controller import Controller
            class Writer:
                async def handle_DATA(self, server, session, envelope):
                    print("ENVELOPE", envelope.mail_from, "->", " ".join(envelope.rcpt_tos))
                    print(envelope.content.decode())
                    print("END OF MESSAGE", flush=True)
                    return "250 OK"
            Controller(Writer(), hostname=sys.argv[1], port=2525).start()
            time.sleep(600)

            """, as: "smtpd.py")
        _ = try lab.spawn("s1", ["bash", "-c", "echo READY; exec /usr/bin/python3 -u \(script) \(server) > \(mailbox)"], log: "smtpd.log")
        let probe = "for i in $(seq 100); do /usr/bin/python3 -c 'import smtplib; smtplib.SMTP(\"\(server)\", 2525, timeout=1).quit()' 2>/dev/null && exit 0; sleep 0.1; done; exit 1"
        XCTAssertEqual(try lab.exec("d1", ["bash", "-c", probe]).status, 0, "aiosmtpd did not start")

        // A tracked interface of d1's own, to put the instance in FAULT without cutting its way to
        // the SMTP server.
        XCTAssertEqual(try lab.exec("d1", ["bash", "-c", "ip link add trk0 type veth peer name trk1 && ip link set trk1 up && ip link set trk0 up"]).status, 0)
        let daemon = try lab.start(.ours, on: "d1", config: config(smtpServer: "\(server) 2525", timeout: 5, realServers: 1,
                                                                  tracking: "track_interface {\n        trk0\n    }"), part: .both)
        var mail: String { (try? String(contentsOfFile: mailbox, encoding: .utf8)) ?? "" }
        let master = "Subject: [LAB1] VRRP Instance VI_1 - Entering MASTER state"
        let down = "Subject: [LAB1] Realserver [\(server)]:tcp:8000 of virtual server [192.0.2.200]:tcp:80 - DOWN"
        let backup = "Subject: [LAB1] VRRP Instance VI_1 - Entering BACKUP state"
        lab.wait(upTo: 10, for: "the mails") { mail.contains(master) && mail.contains(down) }
        // keepalived starts an instance in BACKUP, with its notifies, before it takes over.
        XCTAssertTrue(mail.contains(backup), "mailbox:\n\(mail)")
        XCTAssertTrue(mail.contains(master), "mailbox:\n\(mail)\ndaemon log:\n\(daemon.log)")
        XCTAssertTrue(mail.contains(down), "mailbox:\n\(mail)\ndaemon log:\n\(daemon.log)")
        XCTAssertTrue(mail.contains("=> VRRP Instance is now owning VRRP VIPs <="), mail)
        XCTAssertTrue(mail.contains("=> TCP CHECK failed on service <="), mail)
        XCTAssertTrue(mail.contains("X-Mailer: Keepalived"), mail)
        XCTAssertTrue(mail.contains("From: lb@lab.test"), mail)
        XCTAssertTrue(mail.contains("To: ops@lab.test,\r\n Night Desk <desk@lab.test>\r\n") || mail.contains("To: ops@lab.test,\n Night Desk <desk@lab.test>\n"), mail)
        // The real server comes back: a listener on its port.
        _ = try lab.spawn("s1", ["/usr/bin/python3", "-u", "-c", "import socket\ns=socket.socket()\ns.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\ns.bind(('\(server)', 8000))\ns.listen(64)\nprint('READY')\nwhile True:\n    c, _ = s.accept(); c.close()"], log: "listener.log")
        let up = "Subject: [LAB1] Realserver [\(server)]:tcp:8000 of virtual server [192.0.2.200]:tcp:80 - UP"
        lab.wait(upTo: 10, for: "the UP mail") { mail.contains(up) }
        XCTAssertTrue(mail.contains("=> TCP CHECK succeed on service <="), mail)
        // FAULT: the tracked interface goes down.
        XCTAssertEqual(try lab.exec("d1", ["ip", "link", "set", "trk0", "down"]).status, 0)
        let fault = "Subject: [LAB1] VRRP Instance VI_1 - Entering FAULT state"
        lab.wait(upTo: 10, for: "the FAULT mail") { mail.contains(fault) }
        XCTAssertTrue(mail.contains(fault), "mailbox:\n\(mail)\ndaemon log:\n\(daemon.log)")
        XCTAssertTrue(mail.contains("=> VRRP Instance is no longer owning VRRP VIPs <="), mail)
        XCTAssertEqual(mail.components(separatedBy: "ENVELOPE lb@lab.test -> ops@lab.test desk@lab.test").count - 1, 5, "one mail each:\n\(mail)")
        XCTAssertFalse(daemon.log.contains("SMTP"), "no SMTP failure logged:\n\(daemon.log)")
    }

    /// Accepts connections (the kernel's backlog does) and never says a word.
    func testASilentSMTPServerDelaysNeitherAdvertsNorChecks() throws {
        let silent = "import socket, time; s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); "
            + "s.bind(('\(server)', 2525)); s.listen(128); print('READY', flush=True); time.sleep(600)"
        _ = try lab.spawn("s1", ["/usr/bin/python3", "-c", silent], log: "silent.log")
        try assertOnTime(smtpServer: "\(server) 2525", timeoutLine: "Timeout reading data to remote SMTP server [\(server)]:2525.")
    }

    /// An address whose frames go to a MAC address nobody has (a permanent neighbour entry in
    /// d1's namespace): the SYNs vanish and the connection never completes. (Without the entry
    /// the kernel gives up resolving it after 3 s: `SMTP connection ERROR`.)
    func testABlackHoledSMTPServerDelaysNeitherAdvertsNorChecks() throws {
        let neighbour = try lab.exec("d1", ["ip", "neigh", "replace", "192.0.2.250", "lladdr", "02:00:00:00:02:50", "dev", "lan0", "nud", "permanent"])
        XCTAssertEqual(neighbour.status, 0, neighbour.output)
        try assertOnTime(smtpServer: "192.0.2.250 25", timeoutLine: "Timeout opening connection to remote SMTP server [192.0.2.250]:25.")
    }

    /// 20 real servers go down at once while the master starts: 22 alerts hang on the server
    /// for the 4 s time-out. The master's adverts stay a second apart, every check's verdict
    /// comes, and each alert's time-out is logged.
    private func assertOnTime(smtpServer: String, timeoutLine: String) throws {
        let adverts = try AdvertCapture(lab: lab, node: "d1")
        Thread.sleep(forTimeInterval: 0.5)

        let daemon = try lab.start(.ours, on: "d1", config: config(smtpServer: smtpServer, timeout: 4, realServers: 20), part: .both)
        waitForLog(daemon, "Entering MASTER STATE")
        // Every server's first check comes within delay_loop (1 s) plus its connect_timeout.
        waitForLog(daemon, "TCP_CHECK on service [\(server)]:tcp:", count: 20, timeout: 4)
        // Besides the 20: BACKUP at start, then MASTER, whose alert hangs over the adverts that follow.
        waitForLog(daemon, timeoutLine, count: 22, timeout: 10)
        Thread.sleep(forTimeInterval: 2.5)
        adverts.stop()

        XCTAssertTrue(daemon.isRunning, daemon.log)
        let times = adverts.times
        XCTAssertGreaterThanOrEqual(times.count, 6, "adverts while the alerts hung")
        assertAdvertsOnTime(times)
    }
}
