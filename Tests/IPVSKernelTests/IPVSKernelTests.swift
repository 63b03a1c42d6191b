import Foundation
#if canImport(Glibc)
import Glibc
#endif
import DaemonCore
import IPVS
import Logging
import KeepalivedConfig
import XCTest

/// The IPVS programmer against a real kernel table. This machine's kernel has no IPVS, so
/// Scripts/test runs these inside a VM booted with Debian's kernel (Scripts/vm); elsewhere they
/// are skipped, loudly.
final class IPVSKernelTests: XCTestCase {
    var netlink: IPVSNetlink!

    override func setUpWithError() throws {
        _ = system("modprobe ip_vs >/dev/null 2>&1")
        do {
            netlink = try IPVSNetlink()
        } catch {
            throw XCTSkip("IPVS KERNEL TESTS SKIPPED: \(error); they run inside Scripts/vm")
        }
        try clear()
    }

    override func tearDownWithError() throws {
        if netlink != nil { try clear() }
    }

    private func clear() throws {
        let table = try netlink.table()
        for key in table.services.keys { try netlink.apply(.deleteService(key)) }
    }

    private func config(_ text: String) -> KeepalivedConfiguration {
        let result = ConfigLoader.load(text: text)
        XCTAssertFalse(result.diagnostics.hasErrors, "\(result.diagnostics.errors)")
        return result.configuration
    }

    private let rich = """
    virtual_server_group G {
        192.0.2.50-51 8080
        fwmark 9
    }
    virtual_server 192.0.2.10 80 {
        lb_algo rr
        lb_kind DR
        persistence_timeout 50
        persistence_granularity 255.255.255.0
        protocol TCP
        real_server 198.51.100.1 80 {
            weight 1
        }
        real_server 198.51.100.2 80 {
            weight 3
            uthreshold 100
            lthreshold 10
        }
    }
    virtual_server 192.0.2.10 53 {
        lb_algo wlc
        lb_kind NAT
        protocol UDP
        ops
        real_server 198.51.100.3 5353 {
            weight 2
        }
    }
    virtual_server 192.0.2.11 443 {
        lb_algo sh
        sh-port
        sh-fallback
        lb_kind TUN
        protocol TCP
        real_server 198.51.100.4 443 {
        }
    }
    virtual_server 2001:db8::10 80 {
        lb_algo lc
        lb_kind NAT
        protocol TCP
        real_server 2001:db8::1 8080 {
            weight 5
        }
    }
    virtual_server fwmark 7 {
        lb_algo wrr
        lb_kind DR
        real_server 198.51.100.5 {
            weight 4
        }
    }
    virtual_server group G {
        lb_algo rr
        lb_kind DR
        protocol TCP
        real_server 198.51.100.6 {
        }
    }
    """

    func testProgrammingAFreshTableReadsBackAsConfigured() throws {
        let desired = DesiredTable.build(config(rich))
        let operations = IPVSDiff.operations(from: try netlink.table(), to: desired)
        for operation in operations { try netlink.apply(operation) }
        let kernel = try netlink.table()
        XCTAssertEqual(kernel.services.keys.sorted(), desired.services.keys.sorted())
        for (key, service) in desired.services {
            XCTAssertEqual(kernel.services[key], service, "\(key)")
        }
        XCTAssertEqual(IPVSDiff.operations(from: kernel, to: desired), [], "nothing left to do")
    }

    func testAChangedConfigTouchesOnlyWhatChanged() throws {
        let before = DesiredTable.build(config(rich))
        for operation in IPVSDiff.operations(from: try netlink.table(), to: before) { try netlink.apply(operation) }
        let changed = rich.replacingOccurrences(of: "weight 3", with: "weight 7")
            .replacingOccurrences(of: "lb_algo wlc", with: "lb_algo lc")
        let after = DesiredTable.build(config(changed))
        let operations = IPVSDiff.operations(from: try netlink.table(), to: after)
        XCTAssertEqual(operations.count, 2, "\(operations)")
        let sent = netlink.requestCount
        for operation in operations { try netlink.apply(operation) }
        XCTAssertEqual(netlink.requestCount - sent, 2)
        XCTAssertEqual(try netlink.table(), after)
    }

    func testRemovingOurServicesLeavesForeignOnesAlone() throws {
        let foreign = IPVSServiceKey.address(.udp, IPAddress("203.0.113.9")!, port: 99)
        try netlink.apply(.addService(foreign, IPVSServiceSettings(scheduler: .rr)))
        let desired = DesiredTable.build(config(rich))
        for operation in IPVSDiff.operations(from: try netlink.table(), to: desired) { try netlink.apply(operation) }
        for operation in IPVSDiff.operations(from: try netlink.table(), to: IPVSTable(), managed: Set(desired.services.keys)) {
            try netlink.apply(operation)
        }
        XCTAssertEqual(Array(try netlink.table().services.keys), [foreign])
    }

    func testKernelErrorsAreTypedAndNamed() throws {
        let key = IPVSServiceKey.address(.tcp, IPAddress("192.0.2.99")!, port: 80)
        XCTAssertThrowsError(try netlink.apply(.deleteService(key))) { error in
            XCTAssertTrue("\(error)".contains("delete service [192.0.2.99]:tcp:80"), "\(error)")
        }
    }

    /// The daemon with -C: programs the table at start, removes exactly its services on SIGTERM.
    func testDaemonProgramsTheTableAndRemovesItOnSIGTERM() throws {
        let (binary, directory) = try daemonAndScratchFolder("ipvs")
        let configPath = directory.appendingPathComponent("keepalived.conf").path
        try rich.write(toFile: configPath, atomically: true, encoding: .utf8)
        let foreign = IPVSServiceKey.address(.udp, IPAddress("203.0.113.9")!, port: 99)
        try netlink.apply(.addService(foreign, IPVSServiceSettings(scheduler: .rr)))

        let daemon = Process()
        daemon.executableURL = binary
        daemon.arguments = ["-C", "-n", "-l", "-D", "-f", configPath, "-p", directory.appendingPathComponent("pid").path]
        let log = Pipe()
        daemon.standardOutput = log
        daemon.standardError = log
        try daemon.run()
        let desired = DesiredTable.build(config(rich))
        let deadline = Date().addingTimeInterval(10)
        var kernel = try netlink.table()
        while Date() < deadline && kernel.services.count < desired.services.count + 1 {
            Thread.sleep(forTimeInterval: 0.1)
            kernel = try netlink.table()
        }
        for (key, service) in desired.services { XCTAssertEqual(kernel.services[key], service, "\(key)") }
        XCTAssertNotNil(kernel.services[foreign])

        // SIGHUP with a changed weight: one destination edit, nothing else touched.
        try rich.replacingOccurrences(of: "weight 3", with: "weight 7").write(toFile: configPath, atomically: true, encoding: .utf8)
        kill(daemon.processIdentifier, SIGHUP)
        let changed = IPVSServiceKey.address(.tcp, IPAddress("192.0.2.10")!, port: 80)
        let destination = IPVSDestinationKey(address: IPAddress("198.51.100.2")!, port: 80)
        let reloadDeadline = Date().addingTimeInterval(5)
        while Date() < reloadDeadline, try netlink.table().services[changed]?.destinations[destination]?.weight != 7 {
            Thread.sleep(forTimeInterval: 0.05)
        }
        XCTAssertEqual(try netlink.table().services[changed]?.destinations[destination]?.weight, 7)

        // SIGHUP with a broken config: refused, the table stays as it is.
        let before = try netlink.table()
        try "virtual_server 192.0.2.10 80 {\n lb_kind DRR\n".write(toFile: configPath, atomically: true, encoding: .utf8)
        kill(daemon.processIdentifier, SIGHUP)
        Thread.sleep(forTimeInterval: 1)
        XCTAssertEqual(try netlink.table(), before)

        kill(daemon.processIdentifier, SIGTERM)
        daemon.waitUntilExit()
        XCTAssertEqual(daemon.terminationStatus, 0)
        let output = String(decoding: log.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        XCTAssertTrue(output.contains("Adding service [198.51.100.2]:tcp:80 to VS [192.0.2.10]:tcp:80"), output)
        XCTAssertTrue(output.contains("IPVS service [203.0.113.9]:udp:99 is not in the configuration; leaving it alone"), output)
        XCTAssertTrue(output.contains("Removing service [198.51.100.2]:tcp:80 from VS [192.0.2.10]:tcp:80"), output)
        XCTAssertTrue(output.contains("IPVS table reloaded: 1 operations"), output)
        XCTAssertTrue(output.contains("Changing weight from 3 to 7 for active service [198.51.100.2]:tcp:80 of VS [192.0.2.10]:tcp:80"), output)
        XCTAssertTrue(output.contains("unknown lb_kind 'DRR'") && output.contains("Reload refused"), output)
        XCTAssertEqual(Array(try netlink.table().services.keys), [foreign], "only the foreign service is left")
    }

    /// The same config run by Debian's `keepalived -C` and then by ours gives the same
    /// `ipvsadm -Ln --sort`, and each leaves an empty table behind on SIGTERM.
    func testSameTableAsKeepalived() throws {
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: "/usr/sbin/keepalived"), "keepalived is not installed")
        let directory = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("ipvs-compare-\(getpid())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let configPath = directory.appendingPathComponent("keepalived.conf").path
        try rich.write(toFile: configPath, atomically: true, encoding: .utf8)
        let expectedServices = DesiredTable.build(config(rich)).services.count
        let runs = checkerDaemons(config: configPath, directory: directory)
        var tables: [String] = []
        for (program, arguments) in runs {
            let daemon = try startQuietly(program, arguments)
            let deadline = Date().addingTimeInterval(10)
            while Date() < deadline, try netlink.table().services.count < expectedServices || destinationsMissing() {
                Thread.sleep(forTimeInterval: 0.1)
            }
            Thread.sleep(forTimeInterval: 0.5)
            tables.append(try ipvsadm())
            kill(daemon.processIdentifier, SIGTERM)
            daemon.waitUntilExit()
            XCTAssertEqual(try netlink.table().services.count, 0, "\(program) left services behind")
        }
        XCTAssertEqual(tables[1], tables[0], "ours (second) differs from keepalived (first)")
        XCTAssertTrue(tables[0].contains("persistent 50 mask 255.255.255.0"), tables[0])
    }

    /// Debian's keepalived, then ours, each running IPVS and the checkers alone (-C) on `config`.
    func checkerDaemons(config: String, directory: URL) -> [(program: String, arguments: [String])] {
        let ours = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("swiftkeepalived").path
        return [
            ("/usr/sbin/keepalived", ["-C", "-n", "-l", "-f", config, "-p", directory.appendingPathComponent("k.pid").path,
                                      "-c", directory.appendingPathComponent("c.pid").path]),
            (ours, ["-C", "-n", "-l", "-f", config, "-p", directory.appendingPathComponent("o.pid").path]),
        ]
    }

    private func startQuietly(_ program: String, _ arguments: [String]) throws -> Process {
        let daemon = Process()
        daemon.executableURL = URL(fileURLWithPath: program)
        daemon.arguments = arguments
        daemon.standardOutput = FileHandle.nullDevice
        daemon.standardError = FileHandle.nullDevice
        try daemon.run()
        return daemon
    }

    private func destinationsMissing() throws -> Bool {
        try netlink.table().services.values.contains { $0.destinations.isEmpty }
    }

    func ipvsadm() throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/sbin/ipvsadm")
        process.arguments = ["-Ln", "--sort"]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }

    /// A pool whose live weight is below `quorum` is replaced by its sorry server from the start.
    func testSorryServerStandsInWhileQuorumIsLost() throws {
        let configuration = config("""
        virtual_server 192.0.2.20 80 {
            protocol TCP
            lb_kind NAT
            quorum 10
            sorry_server 203.0.113.200 8080
            real_server 198.51.100.7 80 {
                weight 2
            }
            real_server 198.51.100.8 80 {
                weight 3
                inhibit_on_failure
            }
        }
        """)
        let runtime = try IPVSRuntime(configuration: configuration, logger: Logger(label: "test"))
        runtime.start()
        let service = try XCTUnwrap(try netlink.table().services[.address(.tcp, IPAddress("192.0.2.20")!, port: 80)])
        XCTAssertEqual(service.destinations.mapValues(\.weight), [
            IPVSDestinationKey(address: IPAddress("203.0.113.200")!, port: 8080): 1,
            IPVSDestinationKey(address: IPAddress("198.51.100.8")!, port: 80): 0,
        ])
        // What /metrics shows of it: the quorum lost, the live weight, and the kernel's counters
        // (no traffic here: present and zero) for the service and both destinations.
        let metrics = try XCTUnwrap(runtime.virtualServerMetrics.first)
        XCTAssertEqual(metrics.name, "[192.0.2.20]:tcp:80")
        XCTAssertTrue(metrics.quorumLost)
        XCTAssertEqual(metrics.liveWeight, 5)
        XCTAssertEqual(metrics.realServers.map(\.weight), [nil, 0])
        let statistics = try runtime.kernelStatistics()
        XCTAssertEqual(statistics.services.map(\.key), [.address(.tcp, IPAddress("192.0.2.20")!, port: 80)])
        XCTAssertEqual(statistics.services.first?.destinations.map(\.key), [
            IPVSDestinationKey(address: IPAddress("198.51.100.8")!, port: 80),
            IPVSDestinationKey(address: IPAddress("203.0.113.200")!, port: 8080),
        ])
        XCTAssertEqual(statistics.services.first?.counters, IPVSCounters())
        runtime.stop()
        XCTAssertEqual(try netlink.table().services.count, 0)
    }

    /// A batch sends everything before reading the answers, and still names what the kernel refused.
    func testBatchesApplyAllAndAttributeErrors() throws {
        let desired = DesiredTable.build(config(rich))
        let missing = IPVSServiceKey.address(.tcp, IPAddress("192.0.2.99")!, port: 80)
        var operations = IPVSDiff.operations(from: IPVSTable(), to: desired)
        operations.insert(.deleteService(missing), at: operations.count / 2)
        let failures = netlink.apply(batch: operations)
        XCTAssertEqual(failures.map(\.operation), [.deleteService(missing)])
        XCTAssertTrue("\(failures.first?.error as Any)".contains("delete service [192.0.2.99]:tcp:80"))
        XCTAssertEqual(try netlink.table(), desired)
    }

    /// Hundreds of requests travel in a few sends, and a refusal deep inside one of them, or the
    /// last request of a send, is still attributed to its own request.
    func testLargeBatchesArePackedAndStillAttributeErrors() throws {
        var operations: [IPVSOperation] = []
        let settings = IPVSServiceSettings(scheduler: .rr)
        let destination = IPVSDestinationSettings(forwarding: .dr, weight: 1)
        for index in 0..<300 {
            let key = IPVSServiceKey.address(.tcp, IPAddress("198.18.\(index / 200).\(index % 200 + 1)")!, port: 80)
            operations.append(.addService(key, settings))
            operations.append(.addDestination(key, IPVSDestinationKey(address: IPAddress("198.51.100.1")!, port: 80), destination))
        }
        let missing = IPVSServiceKey.address(.tcp, IPAddress("192.0.2.99")!, port: 80)
        operations.insert(.deleteService(missing), at: 100)
        operations.insert(.deleteService(missing), at: IPVSNetlink.requestsPerSend - 1)
        let sendsBefore = netlink.sendCount
        let failures = netlink.apply(batch: operations)
        XCTAssertEqual(failures.count, 2)
        XCTAssertEqual(Set(failures.map(\.operation)), [.deleteService(missing)])
        XCTAssertEqual(netlink.sendCount - sendsBefore, (operations.count + IPVSNetlink.requestsPerSend - 1) / IPVSNetlink.requestsPerSend)
        let table = try netlink.table()
        XCTAssertEqual(table.services.count, 300)
        XCTAssertEqual(table.services.values.map(\.destinations.count).reduce(0, +), 300)
        XCTAssertTrue(netlink.apply(batch: IPVSDiff.operations(from: table, to: IPVSTable(), managed: Set(table.services.keys))).isEmpty)
    }

    /// alpha holds a checked real server down until its first good check; the quorum follows
    /// health, runs quorum_up / quorum_down and swaps the sorry server; omega runs quorum_down
    /// on the way out.
    func testHealthQuorumScriptsAlphaAndOmega() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("quorum-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let record = directory.appendingPathComponent("events").path
        let configuration = config("""
        virtual_server 192.0.2.30 80 {
            lb_algo rr
            lb_kind NAT
            protocol TCP
            quorum 2
            alpha
            omega
            quorum_up "/bin/sh -c 'echo up >> \(record)'"
            quorum_down "/bin/sh -c 'echo down >> \(record)'"
            sorry_server 203.0.113.200 8080
            real_server 198.51.100.10 80 {
                weight 1
                TCP_CHECK {
                    connect_timeout 1
                }
            }
            real_server 198.51.100.11 80 {
                weight 1
            }
        }
        """)
        let loop = try EventLoop()
        let scripts = ScriptRunner(loop: loop, logger: Logger(label: "test"))
        let runtime = try IPVSRuntime(configuration: configuration, logger: Logger(label: "test"), scripts: scripts)
        let service = IPVSServiceKey.address(.tcp, IPAddress("192.0.2.30")!, port: 80)
        func destinations() throws -> Set<String> {
            Set(try netlink.table().services[service]?.destinations.keys.map(\.description) ?? [])
        }
        func events(_ expected: [String], _ message: String) {
            let deadline = Date().addingTimeInterval(5)
            var seen: [String] = []
            while Date() < deadline {
                seen = ((try? String(contentsOfFile: record, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
                if seen == expected { return }
                usleep(20_000)
            }
            XCTFail("\(message): scripts ran \(seen), expected \(expected)")
        }

        // The checked server starts down (alpha): one live weight of two, quorum lost.
        loop.queue.sync { runtime.start() }
        XCTAssertEqual(try destinations(), ["[203.0.113.200]:8080"])
        events(["down"], "start below quorum")

        loop.queue.sync { runtime.setHealth(of: DesiredTable.RealServerID(virtualServer: 0, realServer: 0), up: true) }
        XCTAssertEqual(try destinations(), ["[198.51.100.10]:80", "[198.51.100.11]:80"])
        events(["down", "up"], "quorum gained")

        loop.queue.sync { runtime.setHealth(of: DesiredTable.RealServerID(virtualServer: 0, realServer: 0), up: true) }
        events(["down", "up"], "a repeated verdict changes nothing")

        // MISC_CHECK's misc_dynamic weight replaces the configured one.
        loop.queue.sync { runtime.setWeight(of: DesiredTable.RealServerID(virtualServer: 0, realServer: 1), weight: 5) }
        XCTAssertEqual(try netlink.table().services[service]?.destinations[IPVSDestinationKey(address: IPAddress("198.51.100.11")!, port: 80)]?.weight, 5)

        loop.queue.sync { runtime.stop() }
        XCTAssertNil(try netlink.table().services[service])
        events(["down", "up", "down"], "omega at stop")
    }

    /// HTTP_GET checkers drive the kernel table: real servers leave it when they fail and come
    /// back when they pass, and the table matches what Debian's keepalived makes of the same
    /// config and the same servers. The servers (Tests/LabTests/check_servers.py) listen on
    /// addresses added to the VM's own loopback; nothing leaves the VM.
    func testTableFollowsHealthChecksAsKeepalivedsDoes() throws {
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: "/usr/sbin/keepalived"), "keepalived is not installed")
        let directory = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("checks-\(getpid())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let addresses = ["198.51.100.21", "198.51.100.22", "198.51.100.23"]
        for address in addresses { _ = run("/usr/sbin/ip", ["addr", "add", "\(address)/32", "dev", "lo"]) }
        defer { for address in addresses { _ = run("/usr/sbin/ip", ["addr", "del", "\(address)/32", "dev", "lo"]) } }
        _ = run("/usr/sbin/ip", ["link", "set", "lo", "up"])
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("LabTests/check_servers.py").path
        let servers = Process()
        servers.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        servers.arguments = [script, "--control", "127.0.0.1:9000", "198.51.100.21:80=http", "198.51.100.22:80=http,status=500"]
        let ready = Pipe()
        servers.standardOutput = ready
        try servers.run()
        defer { servers.terminate(); servers.waitUntilExit() }
        XCTAssertTrue(String(decoding: ready.fileHandleForReading.availableData, as: UTF8.self).contains("READY"))
        func control(_ line: String) {
            let result = run("/bin/bash", ["-c", "exec 3<>/dev/tcp/127.0.0.1/9000; echo '\(line)' >&3; read -r answer <&3; echo $answer"])
            XCTAssertEqual(result.trimmingCharacters(in: .whitespacesAndNewlines), "ok", line)
        }
        var text = "virtual_server 192.0.2.40 80 {\n delay_loop 1\n lb_algo rr\n lb_kind NAT\n protocol TCP\n"
        for address in addresses {
            text += " real_server \(address) 80 {\n weight 2\n HTTP_GET {\n url {\n path /\n }\n connect_timeout 1\n retry 0\n }\n }\n"
        }
        text += "}\n"
        let configPath = directory.appendingPathComponent("keepalived.conf").path
        try text.write(toFile: configPath, atomically: true, encoding: .utf8)
        let service = IPVSServiceKey.address(.tcp, IPAddress("192.0.2.40")!, port: 80)
        func live() -> Set<String> {
            Set((try? netlink.table().services[service]?.destinations.keys.map { "\($0.address)" }) ?? [])
        }
        func waitFor(_ expected: Set<String>, _ what: String) {
            // A debug build under software emulation, in a VM busy with the tests before.
            let deadline = Date().addingTimeInterval(15)
            while Date() < deadline && live() != expected { Thread.sleep(forTimeInterval: 0.1) }
            XCTAssertEqual(live(), expected, what)
        }
        let runs = checkerDaemons(config: configPath, directory: directory)
        var tables: [String] = []
        for (program, arguments) in runs {
            control("mode 198.51.100.21:80 http")
            control("mode 198.51.100.22:80 http,status=500")
            let daemon = try startQuietly(program, arguments)
            waitFor(["198.51.100.21"], "\(program): only the healthy server")
            Thread.sleep(forTimeInterval: 1.5)
            tables.append(try ipvsadm())
            control("mode 198.51.100.22:80 http")
            waitFor(["198.51.100.21", "198.51.100.22"], "\(program): the repaired server comes back")
            control("close 198.51.100.21:80")
            waitFor(["198.51.100.22"], "\(program): the stopped server leaves")
            control("open 198.51.100.21:80 http")
            waitFor(["198.51.100.21", "198.51.100.22"], "\(program): the restarted server comes back")
            kill(daemon.processIdentifier, SIGTERM)
            daemon.waitUntilExit()
            XCTAssertNil(try netlink.table().services[service], "\(program) left its service behind")
        }
        XCTAssertEqual(tables[1], tables[0], "ours (second) differs from keepalived (first)")
    }

    /// Our daemon (built beside these tests) and a folder of the test's own, removed after it.
    func daemonAndScratchFolder(_ name: String) throws -> (binary: URL, directory: URL) {
        let binary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("swiftkeepalived")
        let directory = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("\(name)-\(getpid())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: directory) }
        return (binary, directory)
    }

    /// Polls `condition` every 0.1 s for up to `timeout` s of the monotonic clock; a failure shows
    /// the kernel's table and the daemon's `log`.
    func waitFor(_ what: String, timeout: Double = 20, log: () -> String, _ condition: () throws -> Bool) rethrows {
        let deadline = ProcessInfo.processInfo.systemUptime + timeout
        while try !condition() && ProcessInfo.processInfo.systemUptime < deadline { Thread.sleep(forTimeInterval: 0.1) }
        XCTAssertTrue(try condition(), "\(what):\n\(run("/usr/sbin/ipvsadm", ["-Ln"]))\n\(log())")
    }

    @discardableResult
    func run(_ program: String, _ arguments: [String]) -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: program)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        guard (try? process.run()) != nil else { return "" }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }
}
