import Foundation
import XCTest

/// The health checkers against real servers in the lab: well-behaved and hostile test servers
/// (Tests/LabTests/check_servers.py) on s1, the daemon with -C on d1. This machine's kernel has
/// no IPVS, so the daemon logs that and checks on; the verdicts are read from its log (the VM
/// test in IPVSKernelTests follows them into the kernel table).
final class HealthCheckLabTests: LabTestCase {
    private static let script = Lab.repository.appendingPathComponent("Tests/LabTests/check_servers.py").path
    private let okDigest = "eff5bc1ef8ec9d03e640fc4370f5eacd"  // md5("ok\n")

    override func setUpWithError() throws {
        try super.setUpWithError()
        lab = try Lab(directors: 1, servers: 1)
    }

    private var server: String { lab.address("s1") }

    /// Starts the test servers on s1; `listeners` are `PORT=MODE[,options]`.
    private func serve(_ listeners: [String], tls: Bool = false) throws {
        var arguments = ["python3", Self.script, "--access-log", accessLog, "--control", "127.0.0.1:9000"]
        if tls {
            let key = lab.directory.appendingPathComponent("key.pem").path
            let certificate = lab.directory.appendingPathComponent("cert.pem").path
            let made = try Lab.run("/usr/bin/openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=lab.test",
                                                        "-keyout", key, "-out", certificate])
            XCTAssertEqual(made.status, 0, made.output)
            arguments += ["--cert", certificate, "--key", key]
        }
        _ = try lab.spawn("s1", arguments + listeners.map { "\(server):\($0)" }, log: "servers.log")
    }

    private var accessLog: String { lab.directory.appendingPathComponent("access.log").path }

    /// Sends a line to the test servers' control port, inside s1.
    private func control(_ command: String) throws {
        let result = try lab.exec("s1", ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/9000; echo '\(command)' >&3; read -r line <&3; echo \"$line\""])
        XCTAssertEqual(result.output.trimmingCharacters(in: .whitespacesAndNewlines), "ok", command)
    }

    private func realServer(_ port: Int, _ checker: String, extra: String = "") -> String {
        """
            real_server \(server) \(port) {
                weight 1
                \(extra)
                \(checker)
            }

        """
    }

    private func config(_ realServers: String, delayLoop: String = "1", global: String = "") -> String {
        """
        \(global)
        virtual_server 192.0.2.200 80 {
            delay_loop \(delayLoop)
            lb_algo rr
            lb_kind NAT
            protocol TCP
        \(realServers)
        }

        """
    }

    private func http(_ url: String, timeout: Int = 1, retry: Int = 0, extra: String = "") -> String {
        "HTTP_GET {\n url {\n \(url)\n }\n connect_timeout \(timeout)\n retry \(retry)\n delay_before_retry 0.5\n \(extra)\n }"
    }

    /// Each kind of good and bad answer ends in the right verdict with a clear reason, and a
    /// server that is fixed comes back.
    func testHTTPVerdictsForGoodAndHostileServers() throws {
        try serve(["8080=http", "8081=http,status=404", "8082=http,body=other\\n", "8083=http,chunked=1", "8084=http,status=302",
                   "8085=silent", "8086=garbage", "8087=reset", "8088=endless", "8089=endless", "8090=huge-headers",
                   "8091=slow,interval=0.5", "8093=tcp"])
        let digest = "path /health\n digest \(okDigest)"
        let servers = [
            realServer(8080, http(digest, extra: "virtualhost www.lab.test")),
            realServer(8081, http("path /health")),
            realServer(8082, http(digest)),
            realServer(8083, http(digest)),
            realServer(8084, http("path /moved\n status_code 300-399")),
            realServer(8085, http("path /")),
            realServer(8086, http("path /")),
            realServer(8087, http("path /")),
            realServer(8088, http(digest)),
            realServer(8089, http("path /")),
            realServer(8090, http("path /")),
            realServer(8091, http("path /", timeout: 2)),
            realServer(8092, "TCP_CHECK {\n connect_timeout 1\n retry 0\n }"),
            realServer(8093, "TCP_CHECK {\n connect_timeout 1\n }"),
        ].joined()
        let daemon = try lab.start(.ours, on: "d1", config: config(servers, delayLoop: "2"), part: .checkers)
        let prefix = "[\(server)]:tcp:"
        waitForLog(daemon, "HTTP status code error to \(prefix)8081 url(/health), status_code [404].")
        waitForLog(daemon, "MD5 digest error to \(prefix)8082 url[/health], MD5SUM [ba7790b1708b71cb2b61b1a30d824712].")
        waitForLog(daemon, "HTTP_CHECK on service \(prefix)8085 url /: timed out after 1 s reading the response")
        waitForLog(daemon, "HTTP_CHECK on service \(prefix)8086 url /: not an HTTP response")
        waitForLog(daemon, "HTTP_CHECK on service \(prefix)8087 url /:")
        waitForLog(daemon, "HTTP_CHECK on service \(prefix)8088 url /health: body longer than")
        waitForLog(daemon, "HTTP_CHECK on service \(prefix)8090 url /: headers longer than")
        waitForLog(daemon, "HTTP_CHECK on service \(prefix)8091 url /: not finished before the next check was due")
        waitForLog(daemon, "TCP_CHECK on service \(prefix)8092 failed.")
        for port in [8081, 8082, 8085, 8086, 8087, 8088, 8090, 8091] {
            waitForLog(daemon, "HTTP_CHECK on service \(prefix)\(port) failed after 0 retries.")
        }
        let log = daemon.log
        for port in [8080, 8083, 8084, 8089] {
            XCTAssertFalse(log.contains("\(prefix)\(port) failed"), "\(port) must pass:\n\(log)")
            XCTAssertFalse(log.contains("\(prefix)\(port) url"), "\(port) must pass:\n\(log)")
        }
        XCTAssertFalse(log.contains("\(prefix)8093 failed"), log)
        // The request as keepalived words it: the Host header is the url's virtual host.
        let access = (try? String(contentsOfFile: accessLog, encoding: .utf8)) ?? ""
        XCTAssertTrue(access.contains("\(server):8080 GET /health www.lab.test"), access)
        XCTAssertTrue(access.contains("\(server):8081 GET /health \(server):8081"), access)

        // Fixed, the server comes back with one good check.
        try control("mode \(server):8081 http")
        waitForLog(daemon, "Remote Web server \(prefix)8081 succeed on service.")
        XCTAssertTrue(daemon.isRunning)
    }

    /// A failing server is retried `retry` times, `delay_before_retry` apart, before it is down.
    func testRetriesAreSpacedByDelayBeforeRetry() throws {
        try serve(["8080=http"])
        let daemon = try lab.start(.ours, on: "d1", config: config(realServer(8080, http("path /", retry: 3)), delayLoop: "1"),
                                   part: .checkers)
        Thread.sleep(forTimeInterval: 2)
        try control("mode \(server):8080 http,status=500")
        let started = Date()
        waitForLog(daemon, "HTTP_CHECK on service [\(server)]:tcp:8080 failed after 3 retries.", timeout: 10)
        let elapsed = Date().timeIntervalSince(started)
        // The first failure comes within a delay_loop, then three retries 0.5 s apart.
        XCTAssertGreaterThan(elapsed, 1.4, daemon.log)
        XCTAssertLessThan(elapsed, 3.5, daemon.log)
        XCTAssertEqual(daemon.log.components(separatedBy: "status_code [500]").count - 1, 4, daemon.log)
    }

    /// SSL_GET over OpenSSL with a certificate made for this test: digest, SNI, and a server that
    /// never starts its handshake or answers with garbage.
    func testSSLGet() throws {
        try serve(["8443=tls-http", "8444=tls-stall", "8445=tls-garbage"], tls: true)
        let ssl = { (url: String, extra: String) in
            "SSL_GET {\n url {\n \(url)\n }\n connect_timeout 1\n retry 0\n \(extra)\n }"
        }
        let servers = [
            // alpha: the server starts down, so its first good check is logged (success is seen, not
            // inferred from a missing failure line).
            realServer(8443, ssl("path /health\n digest \(okDigest)", "enable_sni\n virtualhost secure.lab.test"), extra: "alpha"),
            realServer(8444, ssl("path /", "")),
            realServer(8445, ssl("path /", "")),
        ].joined()
        let daemon = try lab.start(.ours, on: "d1", config: config(servers, delayLoop: "2"), part: .checkers)
        let prefix = "[\(server)]:tcp:"
        waitForLog(daemon, "SSL_CHECK on service \(prefix)8445 url /: TLS handshake:")
        waitForLog(daemon, "SSL_CHECK on service \(prefix)8444 url /: timed out after 1 s in the TLS handshake")
        waitForLog(daemon, "SSL_CHECK on service \(prefix)8445 url /:")
        waitForLog(daemon, "SSL_CHECK on service \(prefix)8445 failed after 0 retries.")
        lab.wait(upTo: 5, for: "an SNI request in the access log") {
            ((try? String(contentsOfFile: accessLog, encoding: .utf8)) ?? "").contains("GET /health secure.lab.test:8443 sni=secure.lab.test")
        }
        waitForLog(daemon, "Remote Web server \(prefix)8443 succeed on service.")
        XCTAssertFalse(daemon.log.contains("\(prefix)8443 url"), daemon.log)
        XCTAssertFalse(daemon.log.contains("\(prefix)8443 failed"), daemon.log)
    }

    /// A url's regex against a real body: the server leaves when its page stops matching (and,
    /// with regex_no_match, when an error text appears), and comes back when it matches again.
    func testRegexFollowsTheBody() throws {
        try serve(["8080=http,body=<p>status: up</p>\\n", "8081=http,body=all good\\n"])
        let servers = realServer(8080, http("path /\n regex \"status: (up|ok)\"\n regex_min_offset 3"))
            + realServer(8081, http("path /\n regex \"ERROR|FAIL\"\n regex_no_match\n regex_options caseless"))
        let daemon = try lab.start(.ours, on: "d1", config: config(servers), part: .checkers)
        let prefix = "[\(server)]:tcp:"
        Thread.sleep(forTimeInterval: 2)
        XCTAssertFalse(daemon.log.contains("Regex"), daemon.log)
        try control("mode \(server):8080 http,body=<p>status: down</p>\\n")
        try control("mode \(server):8081 http,body=disk fail\\n")
        waitForLog(daemon, "Regex match failed server \(prefix)8080 url(/): the body does not match 'status: (up|ok)'.")
        waitForLog(daemon, "Regex match failed server \(prefix)8081 url(/): the body matches 'ERROR|FAIL'.")
        waitForLog(daemon, "HTTP_CHECK on service \(prefix)8080 failed after 0 retries.")
        try control("mode \(server):8080 http,body=<p>status: ok</p>\\n")
        waitForLog(daemon, "Remote Web server \(prefix)8080 succeed on service.")
    }

    /// tls_compliant: SSL_GET ends its connections with a TLS close_notify, which OpenSSL's own
    /// server (s_server -msg) logs as received; without it the connection is closed quietly, as
    /// keepalived does by default.
    func testTLSCompliantSendsCloseNotify() throws {
        let key = lab.directory.appendingPathComponent("key.pem").path
        let certificate = lab.directory.appendingPathComponent("cert.pem").path
        let made = try Lab.run("/usr/bin/openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=lab.test",
                                                    "-keyout", key, "-out", certificate])
        XCTAssertEqual(made.status, 0, made.output)
        var servers: [Process] = []
        for port in [8443, 8444] {
            // Two connections each, then s_server exits and its log is complete.
            let log = lab.directory.appendingPathComponent("s_server-\(port).log").path
            servers.append(try lab.spawn("s1", ["bash", "-c", "echo READY; exec openssl s_server -accept \(server):\(port) -cert \(certificate) -key \(key) -www -msg -naccept 2 >\(log) 2>&1"],
                                         log: "s_server-\(port).err"))
        }
        // READY is printed before s_server runs: wait until both listen (a test connection would
        // use up one of their two accepts).
        lab.wait(upTo: 10, for: "both s_servers to listen") {
            let listening = (try? lab.exec("s1", ["ss", "-Hltn"]).output) ?? ""
            return [8443, 8444].allSatisfy { listening.contains("\(server):\($0) ") }
        }
        let ssl = { (extra: String) in "SSL_GET {\n url {\n path /\n }\n connect_timeout 2\n retry 0\n \(extra)\n }" }
        let daemon = try lab.start(.ours, on: "d1", config: config(realServer(8443, ssl("tls_compliant")) + realServer(8444, ssl(""))), part: .checkers)
        for process in servers { process.waitUntilExit() }
        // A server that has taken its two connections exits; a later check of it is refused
        // (the servers listened before the daemon started): only failures of other kinds count.
        let log = daemon.log
        let unexpected = log.split(separator: "\n").filter { $0.contains("failed") }.filter { line in
            ![8443, 8444].contains { port in line.contains("tcp:\(port) ") && log.contains("tcp:\(port) url /: connect: Connection refused") }
        }
        XCTAssertEqual(unexpected, [], log)
        let compliant = try String(contentsOfFile: lab.directory.appendingPathComponent("s_server-8443.log").path, encoding: .utf8)
        let quiet = try String(contentsOfFile: lab.directory.appendingPathComponent("s_server-8444.log").path, encoding: .utf8)
        XCTAssertEqual(compliant.components(separatedBy: "<<< TLS 1.3, Alert [length 0002], warning close_notify").count - 1, 2, compliant)
        XCTAssertFalse(quiet.contains("<<< TLS 1.3, Alert"), quiet)
        XCTAssertTrue(quiet.contains("<<< TLS 1.3, Handshake"), "the quiet server was checked too: \(quiet)")
    }

    /// MISC_CHECK exit codes, its timeout, and notify_up / notify_down of the real server.
    func testMiscCheckAndNotifyScripts() throws {
        let state = lab.directory.appendingPathComponent("state").path
        let events = lab.directory.appendingPathComponent("events").path
        try "0".write(toFile: state, atomically: true, encoding: .utf8)
        let misc = "MISC_CHECK {\n misc_path \"/bin/sh -c 'exit $(cat \(state))'\"\n misc_timeout 1\n }"
        let sleeper = "MISC_CHECK {\n misc_path \"/bin/sleep 5\"\n misc_timeout 1\n }"
        let dynamic = "MISC_CHECK {\n misc_path \"/bin/sh -c 'exit 5'\"\n misc_dynamic\n }"
        let notify = "notify_up \"/bin/sh -c 'echo up >> \(events)'\"\n notify_down \"/bin/sh -c 'echo down >> \(events)'\""
        let daemon = try lab.start(.ours, on: "d1", config: config(realServer(8080, misc, extra: notify) + realServer(8081, sleeper) + realServer(8082, dynamic)),
                                   part: .checkers)
        let prefix = "[\(server)]:tcp:"
        waitForLog(daemon, "Misc check for \(prefix)8081 by [/bin/sleep 5] timed out after 1.0 s.")
        waitForLog(daemon, "Misc check for \(prefix)8082 by [/bin/sh -c 'exit 5'] sets weight 3.")
        try "1".write(toFile: state, atomically: true, encoding: .utf8)
        waitForLog(daemon, "Misc check for \(prefix)8080 by [/bin/sh -c 'exit $(cat \(state))'] failed.")
        try "0".write(toFile: state, atomically: true, encoding: .utf8)
        waitForLog(daemon, "Misc check for \(prefix)8080 by [/bin/sh -c 'exit $(cat \(state))'] succeeded.")
        lab.wait(upTo: 5, for: "notify scripts") {
            ((try? String(contentsOfFile: events, encoding: .utf8)) ?? "") == "down\nup\n"
        }
    }

    /// A server that closes first after its answer is spared a TIME_WAIT per check: the checker
    /// resets a connection the server has closed, where a FIN (keepalived's) would leave the
    /// server's side waiting for a minute. Nor does the director keep any.
    func testAnsweredChecksLeaveNoTimeWaitBehind() throws {
        try serve(["8080=http"])
        let daemon = try lab.start(.ours, on: "d1", config: config(realServer(8080, http("path /")), delayLoop: "0.2"), part: .checkers)
        func answered() -> Int { ((try? String(contentsOfFile: accessLog, encoding: .utf8)) ?? "").split(separator: "\n").count }
        lab.wait(upTo: 10, for: "20 answered checks") { answered() >= 20 }
        XCTAssertTrue(daemon.isRunning)
        for node in ["s1", "d1"] {
            let waiting = try lab.exec(node, ["ss", "-Htan", "state", "time-wait"])
            XCTAssertEqual(waiting.status, 0, waiting.output)
            XCTAssertEqual(waiting.output.split(separator: "\n").count, 0, "TIME_WAIT on \(node) after \(answered()) checks:\n\(waiting.output)")
        }
        XCTAssertFalse(daemon.log.contains("failed"), daemon.log)
    }

    /// Thousands of failed checks of every kind leave no descriptor behind.
    func testFailedChecksLeakNoDescriptors() throws {
        try serve(["8081=reset", "8082=garbage", "8083=http,status=503", "8084=silent"])
        var servers = ""
        for port in 8081...8084 { servers += realServer(port, http("path /", timeout: 1)) }
        for port in 8100..<8260 { servers += realServer(port, "TCP_CHECK {\n connect_timeout 1\n log_all_failures\n }") }
        let daemon = try lab.start(.ours, on: "d1", config: config(servers, delayLoop: "0.02"), part: .checkers)
        func descriptors() -> Int { (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(daemon.pid)/fd").count) ?? -1 }
        // Checks in flight hold a socket each, as many as 164 at once when the loop is busy (a
        // debug build on a loaded host): the fewest of two seconds' counts, between the checks'
        // steps, is what stays open; a leak raises that too.
        func typicalDescriptors() -> Int {
            let counts = (0..<41).map { _ in
                Thread.sleep(forTimeInterval: 0.05)
                return descriptors()
            }
            return counts.min() ?? -1
        }
        Thread.sleep(forTimeInterval: 1.5)
        let before = typicalDescriptors()
        // 160 refused servers checked on every step of the checks' grid (0.1 s; delay_loop 0.02
        // is rounded up to it): over a thousand failed checks a second.
        func failed() -> Int { daemon.log.components(separatedBy: "Connection refused").count - 1 }
        let start = failed()
        lab.wait(upTo: 30, for: "10,000 more failed checks") { failed() > start + 10_000 }
        XCTAssertTrue(daemon.isRunning)
        let after = typicalDescriptors()
        // Checks in flight hold a descriptor each, so compare with room for those.
        XCTAssertLessThanOrEqual(after, before + 30, "descriptors grew from \(before) to \(after)")
        XCTAssertGreaterThan(before, 0)
    }

    /// genhash prints the digest keepalived's genhash prints for the same page (plain, chunked,
    /// over TLS), and the one a digest check accepts.
    func testGenhashMatchesKeepalivedsGenhash() throws {
        try serve(["8080=http,body=page one\\n", "8081=http,chunked=1,body=chunked page\\n", "8443=tls-http,body=secure\\n"], tls: true)
        let genhash = Lab.binary.deletingLastPathComponent().appendingPathComponent("genhash").path
        for (port, ssl) in [(8080, false), (8081, false), (8443, true)] {
            let arguments = ["-s", server, "-p", "\(port)", "-u", "/index.html"] + (ssl ? ["-S"] : [])
            let ours = try lab.exec("d1", [genhash] + arguments)
            let theirs = try lab.exec("d1", ["/usr/bin/genhash"] + arguments)
            XCTAssertEqual(ours.status, 0, ours.output)
            XCTAssertEqual(ours.output.trimmingCharacters(in: .whitespacesAndNewlines).count, 32, ours.output)
            XCTAssertEqual(ours.output.trimmingCharacters(in: .whitespacesAndNewlines),
                           theirs.output.trimmingCharacters(in: .whitespacesAndNewlines), "port \(port)")
        }
        let refused = try lab.exec("d1", [genhash, "-s", server, "-p", "8099", "-u", "/"])
        XCTAssertEqual(refused.status, 1)
        XCTAssertTrue(refused.output.contains("Connection refused"), refused.output)
    }
}
