import Foundation
#if canImport(Glibc)
import Glibc
#endif
import IPVS
import KeepalivedConfig
import XCTest

/// DNS_CHECK, UDP_CHECK, PING_CHECK, SMTP_CHECK, FILE_CHECK and an HTTP_GET regex drive the
/// kernel table, keepalived first and then ours on the same config: with real servers from Debian
/// (dnsmasq, socat, the kernel's echo reply, aiosmtpd, a tracked file, the test web server)
/// on addresses of the VM's own loopback, each server stopped leaves the table and comes back
/// when started again. Nothing leaves the VM.
extension IPVSKernelTests {
    func testOtherCheckersDriveTheTableAsKeepalivedsDo() throws {
        for tool in ["/usr/sbin/keepalived", "/usr/sbin/dnsmasq", "/usr/bin/socat"] {
            XCTAssertTrue(FileManager.default.isExecutableFile(atPath: tool), "\(tool) is missing; run Scripts/setup")
        }
        let directory = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("other-checks-\(getpid())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let dns = "198.51.100.41", udp = "198.51.100.42", ping = "198.51.100.43", smtp = "198.51.100.44", file = "198.51.100.45", web = "198.51.100.46"
        let addresses = [dns, udp, ping, smtp, file, web]
        ChildProcess.run("/usr/sbin/ip", ["link", "set", "lo", "up"])
        for address in addresses { ChildProcess.run("/usr/sbin/ip", ["addr", "add", "\(address)/32", "dev", "lo"]) }
        defer { for address in addresses { ChildProcess.run("/usr/sbin/ip", ["addr", "del", "\(address)/32", "dev", "lo"]) } }
        func step(_ text: String) { FileHandle.standardError.write(Data("[other checkers] \(text)\n".utf8)) }
        let flag = directory.appendingPathComponent("maintenance").path
        try "0\n".write(toFile: flag, atomically: true, encoding: .utf8)

        var servers: [String: pid_t] = [:]
        defer { for pid in servers.values { kill(pid, SIGKILL) } }
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("LabTests/check_servers.py").path
        let commands: [String: [String]] = [
            dns: ["/usr/sbin/dnsmasq", "--keep-in-foreground", "--no-resolv", "--no-hosts", "--bind-interfaces", "--listen-address=\(dns)",
                  "--port=53", "--address=/lab.test/192.0.2.250", "--pid-file=", "--user=root"],
            udp: ["/usr/bin/socat", "-T1", "UDP4-RECVFROM:5000,bind=\(udp),fork", "SYSTEM:echo pong"],
            smtp: ["/usr/bin/python3", "-m", "aiosmtpd", "-n", "-l", "\(smtp):25"],
            web: ["/usr/bin/python3", script, "--control", "127.0.0.1:9001", "\(web):80=http,body=status: up\\n"],
        ]
        func startServer(_ address: String) throws {
            servers[address] = try ChildProcess.spawn(commands[address]!, output: "/dev/null")
        }
        // Gone means gone or a zombie: Foundation's waitUntilExit did not always see these
        // servers end inside the VM, and the test hung there.
        func stopServer(_ address: String) {
            guard let pid = servers[address] else { return }
            ChildProcess.stop(pid)
        }
        func control(_ line: String) {
            let answer = ChildProcess.run("/bin/bash", ["-c", "exec 3<>/dev/tcp/127.0.0.1/9001; echo '\(line)' >&3; read -r answer <&3; echo $answer"])
            XCTAssertEqual(answer.trimmingCharacters(in: .whitespacesAndNewlines), "ok", line)
        }
        step("starting the servers")
        for address in commands.keys { try startServer(address) }
        Thread.sleep(forTimeInterval: 1.5)

        let text = """
        track_file maintenance {
            file \(flag)
            weight 0
        }
        virtual_server 192.0.2.50 53 {
            delay_loop 1
            lb_kind NAT
            protocol UDP
            real_server \(dns) 53 {
                DNS_CHECK {
                    type A
                    name lab.test
                    connect_timeout 1
                    retry 0
                }
            }
        }
        virtual_server 192.0.2.50 5000 {
            delay_loop 1
            lb_kind NAT
            protocol UDP
            real_server \(udp) 5000 {
                UDP_CHECK {
                    payload 70696e67
                    require_reply 706f6e67
                    connect_timeout 1
                    retry 0
                }
            }
        }
        virtual_server 192.0.2.50 80 {
            delay_loop 1
            lb_kind NAT
            protocol TCP
            real_server \(ping) 80 {
                PING_CHECK {
                    connect_timeout 1
                    retry 0
                }
            }
            real_server \(file) 80 {
                FILE_CHECK {
                    track_file maintenance
                }
            }
            real_server \(web) 80 {
                HTTP_GET {
                    url {
                        path /
                        regex "status: up"
                    }
                    connect_timeout 1
                    retry 0
                }
            }
        }
        virtual_server 192.0.2.50 25 {
            delay_loop 1
            lb_kind NAT
            protocol TCP
            real_server \(smtp) 25 {
                SMTP_CHECK {
                    helo_name vm.lab.test
                    connect_timeout 5
                    # One check may fail on its own: in the emulated VM keepalived's SMTP_CHECK
                    # against aiosmtpd (Python) once timed out while another server was stopped.
                    retry 1
                    delay_before_retry 1
                }
            }
        }

        """
        let configPath = directory.appendingPathComponent("keepalived.conf").path
        try text.write(toFile: configPath, atomically: true, encoding: .utf8)
        func live() -> Set<String> {
            let services = (try? netlink.table().services.values) ?? [:].values
            return Set(services.flatMap { $0.destinations.keys.map { "\($0.address)" } })
        }
        // Both daemons, keepalived too, lag by seconds in a busy emulated VM.
        func waitFor(_ expected: Set<String>, _ what: String, timeout: Double = 20) {
            let deadline = Date().addingTimeInterval(timeout)
            while Date() < deadline && live() != expected { Thread.sleep(forTimeInterval: 0.1) }
            XCTAssertEqual(live(), expected, what)
        }
        let all = Set(addresses)
        var tables: [IPVSTable] = []
        var logs: [String] = []
        for (program, arguments) in checkerDaemons(config: configPath, directory: directory) {
            let logPath = directory.appendingPathComponent("\(URL(fileURLWithPath: program).lastPathComponent).log").path
            _ = FileManager.default.createFile(atPath: logPath, contents: nil)
            let daemon = try ChildProcess.spawn([program] + arguments, output: logPath)
            step("\(program) started")
            waitFor(all, "\(program): every healthy server in the table")
            step("\(program): table \(live().sorted())")
            for address in [dns, udp, smtp] {
                step("\(program): stopping \(address)")
                stopServer(address)
                waitFor(all.subtracting([address]), "\(program): \(address) leaves once its server stops")
                try startServer(address)
                // aiosmtpd (Python) takes seconds to start under emulation.
                waitFor(all, "\(program): \(address) comes back with its server", timeout: 20)
            }
            step("\(program): ping, file, regex")
            ChildProcess.run("/usr/sbin/ip", ["addr", "del", "\(ping)/32", "dev", "lo"])
            waitFor(all.subtracting([ping]), "\(program): \(ping) leaves once it stops answering pings")
            ChildProcess.run("/usr/sbin/ip", ["addr", "add", "\(ping)/32", "dev", "lo"])
            waitFor(all, "\(program): \(ping) comes back")
            try "1\n".write(toFile: flag, atomically: true, encoding: .utf8)
            waitFor(all.subtracting([file]), "\(program): \(file) leaves when its tracked file says 1")
            try "0\n".write(toFile: flag, atomically: true, encoding: .utf8)
            waitFor(all, "\(program): \(file) comes back")
            control("mode \(web):80 http,body=status: down\\n")
            waitFor(all.subtracting([web]), "\(program): \(web) leaves when its page stops matching the regex")
            control("mode \(web):80 http,body=status: up\\n")
            waitFor(all, "\(program): \(web) comes back")
            // Read over netlink once every server is back: services, destinations and weights.
            Thread.sleep(forTimeInterval: 2)
            tables.append(try netlink.table())
            step("\(program): stopping the daemon")
            ChildProcess.stop(daemon, within: 15)
            logs.append((try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "")
        }
        XCTAssertEqual(tables[1], tables[0], "ours (second) differs from keepalived (first); keepalived's log:\n\(logs[0])")
        let ours = logs[1]
        for line in ["DNS_CHECK ([\(dns)]:udp:53) ", "UDP_CHECK on service [\(udp)]:udp:5000 failed.", "ICMP CHECK on service [\(ping)]:tcp:80 failed.",
                     "SMTP_CHECK on service [\(smtp)]:tcp:25 failed after 1 retries.", "([\(file)]:tcp:80): tracked file maintenance now FAULT state",
                     "Regex match failed server [\(web)]:tcp:80 url(/)", "Remote SMTP server [\(smtp)]:tcp:25 succeed on service."] {
            XCTAssertTrue(ours.contains(line), "our log lacks '\(line)':\n\(ours)")
        }
    }
}

/// Processes of this test, started and stopped without Foundation's Process: inside the VM its
/// waitUntilExit sometimes never saw a child end (the test hung there), so children are spawned
/// with posix_spawn and their end is read from /proc.
private enum ChildProcess {
    static func spawn(_ arguments: [String], output: String) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, output, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        var argv = arguments.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, arguments[0], &actions, nil, &argv, environ)
        guard result == 0 else { throw NSError(domain: "posix_spawn \(arguments[0])", code: Int(result)) }
        return pid
    }

    /// Gone, or a zombie nobody has reaped yet.
    static func hasEnded(_ pid: pid_t) -> Bool {
        var status: Int32 = 0
        if waitpid(pid, &status, WNOHANG) == pid { return true }
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8) else { return true }
        return stat.split(separator: ")").last?.split(separator: " ").first == "Z"
    }

    /// SIGTERM, then SIGKILL if it has not ended `within` seconds.
    static func stop(_ pid: pid_t, within seconds: Double = 5) {
        kill(pid, SIGTERM)
        let deadline = Date().addingTimeInterval(seconds)
        while !hasEnded(pid) && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        if !hasEnded(pid) { kill(pid, SIGKILL) }
    }

    /// Runs a command to its end; returns what it printed.
    @discardableResult
    static func run(_ program: String, _ arguments: [String]) -> String {
        shell(([program] + arguments).map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }.joined(separator: " "))
    }

    static func shell(_ command: String) -> String {
        guard let pipe = popen(command + " 2>&1", "r") else { return "" }
        var output = ""
        var buffer = [CChar](repeating: 0, count: 4096)
        while fgets(&buffer, Int32(buffer.count), pipe) != nil {
            output += String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
        pclose(pipe)
        return output
    }
}
