import Foundation
import XCTest

/// The daemon as a service: detaching without -n, notify scripts, routes, and FAULT on link loss.
final class DaemonLabTests: LabTestCase {
    private func instance(priority: Int, extra: String = "") -> String {
        """
        vrrp_instance VI_1 {
            state BACKUP
            interface lan0
            virtual_router_id 51
            priority \(priority)
            advert_int 1
            virtual_ipaddress {
                192.0.2.200
            }
            \(extra)
        }

        """
    }

    func testWithoutDashNItDetachesWritesItsPidFileAndStopsOnSIGTERM() throws {
        lab = try Lab(directors: 1)
        let config = try lab.writeConfig(instance(priority: 100), as: "d1.conf")
        let pidFile = lab.directory.appendingPathComponent("d1.pid").path
        // The launcher's output pipe must close when it exits: the detached daemon keeps none of
        // the descriptors it inherited (this call would hang otherwise).
        let started = try lab.exec("d1", [Lab.binary.path, "-P", "-f", config, "-p", pidFile])
        XCTAssertEqual(started.status, 0, "the launching process returns once the daemon is detached: \(started.output)")
        lab.wait(upTo: 8, for: "the detached daemon to take the VIP") { lab.addresses("d1").contains("192.0.2.200") }
        let pid = try XCTUnwrap(Int32((try String(contentsOfFile: pidFile, encoding: .utf8)).trimmingCharacters(in: .whitespacesAndNewlines)))
        XCTAssertTrue(Lab.isAlive(pid), "the pid file names the running daemon")
        let second = try lab.exec("d1", [Lab.binary.path, "-P", "-n", "-l", "-f", config, "-p", pidFile])
        XCTAssertNotEqual(second.status, 0, "a second daemon on the same pid file refuses to start")
        XCTAssertTrue(second.output.contains("belongs to running process \(pid)"), second.output)
        kill(pid, SIGTERM)
        lab.wait(upTo: 2, for: "the daemon to exit") { !Lab.isAlive(pid) }
        XCTAssertFalse(lab.addresses("d1").contains("192.0.2.200"), "the VIP went with the daemon")
        XCTAssertFalse(FileManager.default.fileExists(atPath: pidFile), "the pid file is removed on exit")
    }

    /// Running, as opposed to gone or a zombie: the detached daemon's parent is the sandbox's init,
    /// which may take its time to reap it.
    func testNotifyScriptsRoutesAndFaultOnLinkLoss() throws {
        lab = try Lab(directors: 2)
        let events = lab.directory.appendingPathComponent("events").path
        let notify = """
        notify_master "/usr/bin/touch \(events).master"
        notify_backup "/usr/bin/touch \(events).backup"
        notify_fault "/usr/bin/touch \(events).fault"
        notify "/bin/sh -c 'echo \\"$*\\" >> \(events)' notify"
        virtual_routes {
            198.51.100.0/24 via 192.0.2.1 dev lan0
        }
        """
        let first = try lab.start(.ours, on: "d1", config: instance(priority: 100, extra: notify))
        _ = try lab.start(.ours, on: "d2", config: instance(priority: 90))
        lab.wait(upTo: 6, for: "d1 to become master") { lab.addresses("d1").contains("192.0.2.200") }
        lab.wait(upTo: 2, for: "notify_master to run") { FileManager.default.fileExists(atPath: events + ".master") }
        lab.wait(upTo: 2, for: "notify to run with keepalived's arguments") {
            ((try? String(contentsOfFile: events, encoding: .utf8)) ?? "").contains("INSTANCE VI_1 MASTER 100")
        }
        let routes = try lab.exec("d1", ["ip", "-4", "route", "show", "198.51.100.0/24"]).output
        XCTAssertTrue(routes.contains("via 192.0.2.1 dev lan0"), routes)
        XCTAssertTrue(routes.contains("proto 18") || routes.contains("proto keepalived"), routes)

        // The master's link goes down: it enters FAULT, drops its VIP and route, and d2 takes over.
        try lab.exec("d1", ["ip", "link", "set", "lan0", "down"])
        lab.wait(upTo: 3, for: "d1 to enter FAULT") { first.log.contains("(VI_1) Entering FAULT STATE") }
        lab.wait(upTo: 2, for: "notify_fault to run") { FileManager.default.fileExists(atPath: events + ".fault") }
        lab.wait(upTo: 6, for: "d2 to take over") { lab.addresses("d2").contains("192.0.2.200") }
        XCTAssertEqual(try lab.exec("d1", ["ip", "-4", "route", "show", "198.51.100.0/24"]).output, "")

        // The link returns: BACKUP first, then MASTER again by preemption.
        try lab.exec("d1", ["ip", "link", "set", "lan0", "up"])
        lab.wait(upTo: 8, for: "d1 to take the VIP back") {
            lab.addresses("d1").contains("192.0.2.200") && !lab.addresses("d2").contains("192.0.2.200")
        }
        XCTAssertTrue(first.log.contains("(VI_1) Entering BACKUP STATE"), first.log)
        XCTAssertTrue(FileManager.default.fileExists(atPath: events + ".backup"))
    }

    /// Under systemd (Type=notify) the daemon says READY=1 on $NOTIFY_SOCKET once its
    /// configuration is applied.
    func testReadinessIsSentToSystemd() throws {
        lab = try Lab(directors: 1)
        let config = try lab.writeConfig(instance(priority: 100), as: "d1.conf")
        let socket = lab.directory.appendingPathComponent("notify").path
        let script = """
        import os, socket, subprocess, sys
        s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        s.bind(sys.argv[1])
        s.settimeout(10)
        env = dict(os.environ, NOTIFY_SOCKET=sys.argv[1])
        daemon = subprocess.Popen(sys.argv[2:], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            print(s.recv(256).decode())
        finally:
            daemon.terminate()
            daemon.wait(10)
        """
        let result = try lab.exec("d1", ["python3", "-c", script, socket, Lab.binary.path, "-P", "-n", "-f", config,
                                         "-p", lab.directory.appendingPathComponent("d1.pid").path])
        XCTAssertEqual(result.status, 0, result.output)
        XCTAssertEqual(result.output.trimmingCharacters(in: .whitespacesAndNewlines), "READY=1")
    }

    /// Without -l the lines go to syslog, each with its part's ident as keepalived's processes
    /// have them, in the facility -S names (local5 here: 21 << 3 plus the priority).
    func testSyslogLinesCarryEachPartsIdent() throws {
        lab = try Lab(directors: 1, servers: 1)
        let config = try lab.writeConfig(instance(priority: 100) + """
        virtual_server 192.0.2.200 80 {
            delay_loop 1
            lb_kind NAT
            protocol TCP
            real_server \(lab.address("s1")) 8099 {
                TCP_CHECK {
                    connect_timeout 1
                    retry 0
                }
            }
        }

        """, as: "d1.conf")
        let socket = lab.directory.appendingPathComponent("log").path
        let script = """
        import os, socket, subprocess, sys, time
        s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        s.bind(sys.argv[1])
        s.settimeout(1)
        env = dict(os.environ, SWIFTKEEPALIVED_SYSLOG_SOCKET=sys.argv[1])
        daemon = subprocess.Popen(sys.argv[2:], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        lines, deadline = [], time.time() + 8
        try:
            while time.time() < deadline and not any("TCP_CHECK" in l for l in lines):
                try:
                    lines.append(s.recv(4096).decode())
                except socket.timeout:
                    pass
        finally:
            daemon.terminate()
            daemon.wait(10)
        print("\\n".join(lines))
        """
        let result = try lab.exec("d1", ["python3", "-c", script, socket, Lab.binary.path, "-n", "-S", "5", "-f", config,
                                         "-p", lab.directory.appendingPathComponent("d1.pid").path])
        XCTAssertEqual(result.status, 0, result.output)
        let lines = result.output.split(separator: "\n").map(String.init)
        let priority = (21 << 3) | 6  // local5.info
        XCTAssertTrue(lines.contains { $0.hasPrefix("<\(priority)>") && $0.contains(" Keepalived_vrrp[") && $0.contains("Entering") }, result.output)
        XCTAssertTrue(lines.contains { $0.hasPrefix("<\(priority)>") && $0.contains(" Keepalived_healthcheckers[") && $0.contains("TCP_CHECK on service") },
                      result.output)
    }

    /// SIGUSR1, SIGUSR2 and SIGRTMIN+2 write the running state, the VRRP statistics and the
    /// state as JSON to keepalived's files.
    /// 300 checkers whose connects hang (an address nobody answers) hold 300 sockets at once: with
    /// a limit of 256 descriptors they would fail with EMFILE and take their servers out. The
    /// daemon raises its limit to what the config needs, as keepalived does (here the soft limit
    /// only: the hard one, as systemd sets it, leaves room, and this sandbox's root has no
    /// CAP_SYS_RESOURCE to raise a hard limit).
    func testItRaisesItsOpenFileLimitForItsCheckers() throws {
        lab = try Lab(directors: 1)
        let servers = (0..<300).map { index in
            "    real_server 192.0.2.250 \(20000 + index) {\n        TCP_CHECK {\n            connect_timeout 2\n        }\n    }\n"
        }.joined()
        let config = try lab.writeConfig("virtual_server 192.0.2.200 80 {\n    delay_loop 1\n    lb_kind NAT\n    protocol TCP\n\(servers)}\n",
                                         as: "d1.conf")
        let log = lab.directory.appendingPathComponent("d1.log").path
        let script = """
        import resource, subprocess, sys, time
        resource.setrlimit(resource.RLIMIT_NOFILE, (256, 4096))
        daemon = subprocess.Popen(sys.argv[2:], stdout=open(sys.argv[1], "w"), stderr=subprocess.STDOUT)
        try:
            time.sleep(6)
            print(next(line for line in open("/proc/%d/limits" % daemon.pid) if line.startswith("Max open files")))
        finally:
            daemon.terminate()
            daemon.wait(10)
        """
        let result = try lab.exec("d1", ["python3", "-c", script, log, Lab.binary.path, "-C", "-n", "-l", "-f", config,
                                         "-p", lab.directory.appendingPathComponent("d1.pid").path])
        XCTAssertEqual(result.status, 0, result.output)
        let needed = 128 + 300
        let limits = result.output.split(whereSeparator: { $0 == " " || $0 == "\n" }).joined(separator: " ")
        XCTAssertTrue(limits.contains("Max open files \(needed) 4096 files"), result.output)
        let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        XCTAssertTrue(text.contains("Set open file limit to \(needed) (was 256) for 300 checkers and 0 VRRP instances"), text)
        XCTAssertTrue(text.contains("TCP connection to [192.0.2.250]:tcp:20000 failed"), "the checks did not run: \(text.suffix(2000))")
        XCTAssertFalse(text.contains("Too many open files"), String(text.suffix(2000)))
    }

    func testStateDumpsOnSignals() throws {
        lab = try Lab(directors: 1)
        let config = try lab.writeConfig(instance(priority: 100), as: "d1.conf")
        let dumps = lab.directory.path
        let script = """
        import os, signal, subprocess, sys, time
        env = dict(os.environ, SWIFTKEEPALIVED_DUMP_DIR=sys.argv[1])
        daemon = subprocess.Popen(sys.argv[2:], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            time.sleep(5)
            for number in (signal.SIGUSR1, signal.SIGUSR2, signal.SIGRTMIN + 2):
                os.kill(daemon.pid, number)
            time.sleep(1)
        finally:
            daemon.terminate()
            daemon.wait(10)
        """
        let result = try lab.exec("d1", ["python3", "-c", script, dumps, Lab.binary.path, "-P", "-n", "-l", "-f", config,
                                         "-p", lab.directory.appendingPathComponent("d1.pid").path])
        XCTAssertEqual(result.status, 0, result.output)
        func read(_ name: String) -> String { (try? String(contentsOfFile: "\(dumps)/\(name)", encoding: .utf8)) ?? "" }
        let data = read("keepalived.data")
        XCTAssertTrue(data.contains("VRRP Instance = VI_1") && data.contains("State = MASTER") && data.contains("192.0.2.200"), data)
        let statistics = read("keepalived.stats")
        XCTAssertTrue(statistics.contains("VRRP Instance: VI_1") && statistics.contains("Sent: "), statistics)
        // keepalived's layout: an array of {"data", "stats"}, states as keepalived's numbers.
        let json = try JSONSerialization.jsonObject(with: Data(read("keepalived.json").utf8)) as? [[String: Any]]
        let first = json?.first
        XCTAssertEqual((first?["data"] as? [String: Any])?["iname"] as? String, "VI_1")
        XCTAssertEqual((first?["data"] as? [String: Any])?["state"] as? Int, 2)
        XCTAssertGreaterThan((first?["stats"] as? [String: Any])?["advert_sent"] as? Int ?? 0, 0)
    }
}
