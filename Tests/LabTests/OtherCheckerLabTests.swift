import Foundation
import XCTest

/// DNS_CHECK, UDP_CHECK, PING_CHECK and SMTP_CHECK against real servers from Debian on s1
/// (dnsmasq, socat, the kernel's echo reply, aiosmtpd), the daemon with -C on d1: each server is
/// found up, stopped mid-test (down, with keepalived's line), and started again (up again).
final class OtherCheckerLabTests: LabTestCase {
    override func setUpWithError() throws {
        try super.setUpWithError()
        for tool in ["/usr/sbin/dnsmasq", "/usr/bin/socat"] where !FileManager.default.isExecutableFile(atPath: tool) {
            XCTFail("\(tool) is missing; run Scripts/setup")
        }
        lab = try Lab(directors: 1, servers: 1)
    }

    private var server: String { lab.address("s1") }

    /// Starts `command` in s1 as the process itself (so killing it stops the server).
    private func serve(_ command: String, log: String) throws -> Process {
        let process = try lab.spawn("s1", ["bash", "-c", "echo READY; exec \(command)"], log: log)
        Thread.sleep(forTimeInterval: 0.3)
        return process
    }

    private func stop(_ process: Process) {
        guard process.isRunning else { return }
        process.terminate()
        process.waitUntilExit()
    }

    private func config(proto: String, port: Int, checker: String) -> String {
        """
        virtual_server 192.0.2.200 \(port) {
            delay_loop 1
            lb_algo rr
            lb_kind NAT
            protocol \(proto)
            real_server \(server) \(port) {
                weight 1
                \(checker)
            }
        }

        """
    }

    private func dnsmasq() throws -> Process {
        try serve("/usr/sbin/dnsmasq --keep-in-foreground --no-resolv --no-hosts --bind-interfaces --listen-address=\(server) "
                  + "--port=53 --address=/lab.test/192.0.2.250 --pid-file= --log-facility=-", log: "dnsmasq.log")
    }

    func testDNSCheckFollowsDnsmasq() throws {
        var dns = try dnsmasq()
        let checker = "DNS_CHECK {\n type A\n name lab.test\n connect_timeout 1\n retry 0\n }"
        let refused = "DNS_CHECK {\n type A\n name elsewhere.example\n connect_timeout 1\n retry 0\n }"
        let text = config(proto: "UDP", port: 53, checker: checker)
            + config(proto: "UDP", port: 53, checker: refused).replacingOccurrences(of: "192.0.2.200", with: "192.0.2.201")
        let daemon = try lab.start(.ours, on: "d1", config: text, part: .checkers)
        let name = "[\(server)]:udp:53"
        // dnsmasq has no upstream: a name it does not hold is refused.
        waitForLog(daemon, "DNS_CHECK (\(name)) read error occurred. (rcode = 5) REFUSED (query A elsewhere.example) after 0 retries")
        Thread.sleep(forTimeInterval: 1.5)
        XCTAssertEqual(daemon.log.components(separatedBy: "DNS_CHECK (\(name))").count - 1, 1, daemon.log)
        stop(dns)
        waitForLog(daemon, "DNS_CHECK (\(name)) read: Connection refused after 0 retries")
        dns = try dnsmasq()
        waitForLog(daemon, "DNS_CHECK (\(name)) succeed.")
        stop(dns)
    }

    /// A DNS server whose frames go to a MAC address nobody has (a permanent neighbour entry in
    /// d1's namespace): its queries vanish, and no ICMP error ever comes back. Ten real servers
    /// there time out (keepalived's line, after their retry), while the check of a working
    /// dnsmasq beside them keeps passing and the master's adverts stay a second apart.
    func testABlackHoledDNSServerDelaysNeitherAdvertsNorOtherChecks() throws {
        let neighbour = try lab.exec("d1", ["ip", "neigh", "replace", "192.0.2.250", "lladdr", "02:00:00:00:02:50", "dev", "lan0", "nud", "permanent"])
        XCTAssertEqual(neighbour.status, 0, neighbour.output)
        let dns = try dnsmasq()
        defer { stop(dns) }
        let checker = "DNS_CHECK {\n type A\n name lab.test\n connect_timeout 2\n retry 1\n delay_before_retry 1\n }"
        let holes = (0..<10).map { "    real_server 192.0.2.250 \(5300 + $0) {\n weight 1\n \(checker)\n }" }.joined(separator: "\n")
        let text = """
        vrrp_instance VI_1 {
            state MASTER
            interface lan0
            virtual_router_id 51
            priority 100
            advert_int 1
            virtual_ipaddress {
                192.0.2.200
            }
        }
        virtual_server 192.0.2.200 53 {
            delay_loop 1
            lb_algo rr
            lb_kind NAT
            protocol UDP
        \(holes)
        }
        virtual_server 192.0.2.201 53 {
            # Down until its first check passes, which is then logged.
            alpha
            delay_loop 1
            lb_algo rr
            lb_kind NAT
            protocol UDP
            real_server \(server) 53 {
                weight 1
                \(checker)
            }
        }

        """
        let adverts = try AdvertCapture(lab: lab, node: "d1")
        Thread.sleep(forTimeInterval: 0.5)
        let daemon = try lab.start(.ours, on: "d1", config: text, part: .both)
        waitForLog(daemon, "Entering MASTER STATE")
        waitForLog(daemon, "DNS_CHECK ([\(server)]:udp:53) succeed.")
        // Two tries of 2 s each, 1 s apart; every one of the ten in the same turn.
        waitForLog(daemon, "read timeout from socket after 1 retries", count: 10, timeout: 12)
        Thread.sleep(forTimeInterval: 5)
        // dnsmasq first: it closes the descriptors it inherited, which Foundation takes for its
        // exit and waits for, and no other process is reaped meanwhile.
        stop(dns)
        adverts.stop()

        XCTAssertTrue(daemon.isRunning, daemon.log)
        for port in 5300..<5310 {
            XCTAssertTrue(daemon.log.contains("DNS_CHECK ([192.0.2.250]:udp:\(port)) read timeout from socket after 1 retries"), daemon.log)
        }
        XCTAssertFalse(daemon.log.contains("DNS_CHECK ([\(server)]:udp:53) read"), "the working server failed:\n\(daemon.log)")
        let times = adverts.times
        XCTAssertGreaterThanOrEqual(times.count, 8, "adverts while the checks hung")
        assertAdvertsOnTime(times)
    }

    func testUDPCheckWithRequiredReplyFollowsSocat() throws {
        let responder = "/usr/bin/socat -T1 UDP4-RECVFROM:5000,bind=\(server),fork SYSTEM:'echo pong'"
        var udp = try serve(responder, log: "socat.log")
        // "pong\n" is 706f6e670a: the pattern takes any second byte and any low nibble of the third.
        // socat forks a shell per datagram: slow on a busy machine, hence the longer time-out.
        let good = "UDP_CHECK {\n payload 70696e67\n require_reply 70XX6X\n min_reply_length 5\n connect_timeout 3\n retry 0\n }"
        let wrong = "UDP_CHECK {\n payload 70696e67\n require_reply 7071\n connect_timeout 3\n retry 0\n }"
        let text = config(proto: "UDP", port: 5000, checker: good)
            + config(proto: "UDP", port: 5000, checker: wrong).replacingOccurrences(of: "192.0.2.200", with: "192.0.2.201")
        let daemon = try lab.start(.ours, on: "d1", config: text, part: .checkers)
        let name = "[\(server)]:udp:5000"
        waitForLog(daemon, "UDP check to \(name) reply data mismatch.")
        Thread.sleep(forTimeInterval: 1.5)
        XCTAssertEqual(daemon.log.components(separatedBy: "UDP_CHECK on service \(name) failed.").count - 1, 1, daemon.log)
        stop(udp)
        // The closed port answers with ICMP port unreachable, which the connected socket reports.
        waitForLog(daemon, "UDP connection to \(name) failed: read: Connection refused")
        waitForLog(daemon, "UDP_CHECK on service \(name) failed.", count: 2)
        udp = try serve(responder, log: "socat2.log")
        waitForLog(daemon, "UDP connection to \(name) success.")
        stop(udp)
    }

    /// Raw ICMP sockets first (root is outside net.ipv4.ping_group_range by default), then, once
    /// the range lets root in, the kernel's ping sockets.
    func testPingCheckFollowsEchoReplies() throws {
        let checker = "PING_CHECK {\n connect_timeout 1\n retry 0\n }"
        let daemon = try lab.start(.ours, on: "d1", config: config(proto: "TCP", port: 80, checker: checker), part: .checkers)
        let name = "[\(server)]:tcp:80"
        Thread.sleep(forTimeInterval: 2.5)
        XCTAssertFalse(daemon.log.contains("failed"), daemon.log)
        for round in 1...2 {
            try lab.exec("s1", ["sysctl", "-qw", "net.ipv4.icmp_echo_ignore_all=1"])
            waitForLog(daemon, "ICMP connection to address \(name) timeout.", count: round)
            waitForLog(daemon, "ICMP CHECK on service \(name) failed.", count: round)
            try lab.exec("s1", ["sysctl", "-qw", "net.ipv4.icmp_echo_ignore_all=0"])
            waitForLog(daemon, "ICMP connection to \(name) success.", count: round)
            // A checker keeps its socket; a reload makes the checkers, and their sockets, anew.
            try lab.exec("d1", ["sysctl", "-qw", "net.ipv4.ping_group_range=0 2147483647"])
            daemon.kill(SIGHUP)
            waitForLog(daemon, "Reloading")
        }
    }

    func testSMTPCheckFollowsAiosmtpd() throws {
        let smtpd = "/usr/bin/python3 -m aiosmtpd -n -l \(server):2525"
        var smtp = try serve(smtpd, log: "smtpd.log")
        // Python takes a moment to start: the first check must find it answering.
        let probe = "for i in $(seq 100); do /usr/bin/python3 -c 'import smtplib; smtplib.SMTP(\"\(server)\", 2525, timeout=1).quit()' 2>/dev/null && exit 0; sleep 0.1; done; exit 1"
        XCTAssertEqual(try lab.exec("d1", ["bash", "-c", probe]).status, 0, "aiosmtpd did not start")
        let checker = "SMTP_CHECK {\n helo_name director.lab.test\n connect_timeout 1\n retry 0\n }"
        let daemon = try lab.start(.ours, on: "d1", config: config(proto: "TCP", port: 2525, checker: checker), part: .checkers)
        let name = "[\(server)]:tcp:2525"
        Thread.sleep(forTimeInterval: 2.5)
        XCTAssertFalse(daemon.log.contains("failed"), daemon.log)
        stop(smtp)
        // The first failure may be the refused connect, or a dialogue cut by the server's stop.
        waitForLog(daemon, "SMTP_CHECK on service \(name) host \(server):2525 failed: ")
        waitForLog(daemon, "SMTP_CHECK on service \(name) failed.")
        smtp = try serve(smtpd, log: "smtpd2.log")
        waitForLog(daemon, "Remote SMTP server \(name) succeed on service.")
        stop(smtp)
    }
}
