import Foundation
#if canImport(Glibc)
import Glibc
#endif
import IPVS
import KeepalivedConfig
import Logging
import XCTest

/// The kernel's sync daemons, timeouts and flushing over generic netlink, read back with the
/// kernel's answers and with ipvsadm. In the VM, with the other kernel tests.
extension IPVSKernelTests {
    /// ipvsadm's view of the sync daemons, one line each.
    private func ipvsadmDaemons() -> String {
        let pipe = Pipe()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/sbin/ipvsadm")
        process.arguments = ["-L", "--daemon"]
        process.standardOutput = pipe
        guard (try? process.run()) != nil else { return "ipvsadm did not run" }
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return output
    }

    /// Role, interface and sync id of each daemon running (the kernel fills in its defaults for
    /// the rest).
    private func running() throws -> [String] {
        try netlink.syncDaemons().map { "\($0.role.rawValue) \($0.interface) \($0.syncID)" }
    }

    private func stopEverySyncDaemon() {
        for role in IPVSSyncRole.allCases { try? netlink.stopSyncDaemon(role) }
    }

    func testSyncDaemonsStartWithEveryOptionReadBackAndStop() throws {
        stopEverySyncDaemon()
        defer { stopEverySyncDaemon() }
        let master = IPVSSyncDaemonState(role: .master, interface: "lo", syncID: 7, maxLength: 1400, port: 8849, ttl: 2, group: "239.1.2.3")
        try netlink.startSyncDaemon(master)
        let backup = IPVSSyncDaemonState(role: .backup, interface: "lo", syncID: 7)
        try netlink.startSyncDaemon(backup)
        let running = try netlink.syncDaemons()
        XCTAssertEqual(running.first { $0.role == .master }, master)
        XCTAssertEqual(running.first { $0.role == .backup }?.syncID, 7)
        let listed = ipvsadmDaemons()
        XCTAssertTrue(listed.contains("master sync daemon (mcast=lo, syncid=7, maxlen=1400, group=239.1.2.3, port=8849, ttl=2)"), listed)
        XCTAssertTrue(listed.contains("backup sync daemon (mcast=lo, syncid=7"), listed)
        XCTAssertThrowsError(try netlink.startSyncDaemon(master), "a second master daemon is refused")
        try netlink.stopSyncDaemon(.master)
        XCTAssertEqual(try netlink.syncDaemons().map(\.role), [.backup])
        try netlink.stopSyncDaemon(.backup)
        XCTAssertEqual(try netlink.syncDaemons(), [])
        XCTAssertEqual(ipvsadmDaemons().trimmingCharacters(in: .whitespacesAndNewlines), "")
    }

    /// Backup at start (a killed predecessor's daemons stopped first), master while the instance
    /// is MASTER, nothing restarted by a reload with the same settings, a restart with new ones,
    /// nothing left at stop.
    func testSyncDaemonsFollowTheInstanceAndReloads() throws {
        stopEverySyncDaemon()
        defer { stopEverySyncDaemon() }
        try netlink.startSyncDaemon(IPVSSyncDaemonState(role: .master, interface: "lo", syncID: 99))
        var settings = LVSSyncDaemon(interface: "lo", instance: "VI_1")
        settings.syncID = 5
        let lines = LogLines()
        let sync = try SyncDaemonRuntime(settings: settings, logger: Logger(label: "test") { _ in lines })
        sync.start()
        XCTAssertEqual(try running(), ["backup lo 5"])
        XCTAssertTrue(lines.text.contains("Stopping the IPVS master sync daemon left running on lo (syncid 99)"), lines.text)

        sync.instanceIsMaster(true)
        XCTAssertEqual(try netlink.syncDaemons().map(\.role), [.master])
        let before = lines.count
        sync.reload(settings)
        XCTAssertEqual(lines.count, before, "a reload with the same settings leaves the daemons alone: \(lines.text)")
        XCTAssertEqual(try running(), ["master lo 5"])

        settings.syncID = 6
        sync.reload(settings)
        XCTAssertEqual(try running(), ["master lo 6"])
        sync.instanceIsMaster(false)
        XCTAssertEqual(try netlink.syncDaemons().map(\.role), [.backup])
        XCTAssertTrue(ipvsadmDaemons().contains("backup sync daemon (mcast=lo, syncid=6"), ipvsadmDaemons())
        sync.stop()
        XCTAssertEqual(try netlink.syncDaemons(), [])
    }

    /// Without an instance both daemons run all the time, as keepalived's checker runs them.
    func testSyncDaemonsWithoutAnInstanceRunBoth() throws {
        stopEverySyncDaemon()
        defer { stopEverySyncDaemon() }
        let sync = try SyncDaemonRuntime(settings: LVSSyncDaemon(interface: "lo"), logger: Logger(label: "test"))
        sync.start()
        XCTAssertEqual(Set(try netlink.syncDaemons().map(\.role)), [.master, .backup])
        sync.instanceIsMaster(false)
        XCTAssertEqual(Set(try netlink.syncDaemons().map(\.role)), [.master, .backup])
        sync.stop()
        XCTAssertEqual(try netlink.syncDaemons(), [])
    }

    func testTimeoutsAreSetChangedOnReloadAndPutBackAtStop() throws {
        let original = try netlink.timeouts()
        defer { try? netlink.setTimeouts(original) }
        let configuration = ConfigLoader.load(text: "global_defs {\n lvs_timeouts tcp 7200 udp 60\n}\n").configuration
        let runtime = try IPVSRuntime(configuration: configuration, logger: Logger(label: "test"))
        runtime.start()
        XCTAssertEqual(try netlink.timeouts(), IPVSTimeouts(tcp: 7200, tcpFin: original.tcpFin, udp: 60))
        runtime.reload(ConfigLoader.load(text: "global_defs {\n lvs_timeouts tcpfin 30\n}\n").configuration)
        XCTAssertEqual(try netlink.timeouts(), IPVSTimeouts(tcp: original.tcp, tcpFin: 30, udp: original.udp))
        runtime.stop()
        XCTAssertEqual(try netlink.timeouts(), original)
    }

    func testFlushAtStartAndStop() throws {
        let foreign = IPVSServiceKey.address(.udp, IPAddress("203.0.113.9")!, port: 99)
        try netlink.apply(.addService(foreign, IPVSServiceSettings(scheduler: .rr)))
        let text = """
        global_defs {
            lvs_flush
            lvs_flush_on_stop
        }
        virtual_server 192.0.2.10 80 {
            protocol TCP
            real_server 198.51.100.1 80 {
            }
        }
        """
        let runtime = try IPVSRuntime(configuration: ConfigLoader.load(text: text).configuration, logger: Logger(label: "test"))
        runtime.start()
        XCTAssertEqual(Array(try netlink.table().services.keys), [.address(.tcp, IPAddress("192.0.2.10")!, port: 80)],
                       "lvs_flush removed the foreign service before ours was added")
        try netlink.apply(.addService(foreign, IPVSServiceSettings(scheduler: .rr)))
        runtime.stop()
        XCTAssertEqual(try netlink.table().services.count, 0, "lvs_flush_on_stop empties the whole table")
    }
}

/// Log lines kept for assertions.
final class LogLines: LogHandler, @unchecked Sendable {
    private let lock = NSLock()
    private var lines: [String] = []
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        lock.lock()
        lines.append("\(event.message)")
        lock.unlock()
    }

    var count: Int { lock.lock(); defer { lock.unlock() }; return lines.count }
    var text: String { lock.lock(); defer { lock.unlock() }; return lines.joined(separator: "\n") }
}

extension IPVSKernelTests {
    /// The daemon itself: SIGHUP with the same lvs_sync_daemon leaves the kernel's daemons running,
    /// SIGHUP with another sync id restarts them with it, SIGTERM stops them.
    func testDaemonKeepsSyncDaemonsAcrossReloads() throws {
        for role in IPVSSyncRole.allCases { try? netlink.stopSyncDaemon(role) }
        let (binary, directory) = try daemonAndScratchFolder("sync")
        let configPath = directory.appendingPathComponent("keepalived.conf").path
        func write(id: Int) throws {
            try """
            global_defs {
                lvs_sync_daemon lo id \(id)
            }
            virtual_server 192.0.2.10 80 {
                protocol TCP
                real_server 198.51.100.1 80 {
                }
            }
            """.write(toFile: configPath, atomically: true, encoding: .utf8)
        }
        try write(id: 3)
        let daemon = Process()
        daemon.executableURL = binary
        daemon.arguments = ["-C", "-n", "-l", "-f", configPath, "-p", directory.appendingPathComponent("pid").path]
        let log = Pipe()
        daemon.standardOutput = log
        daemon.standardError = log
        try daemon.run()
        func waitFor(_ wanted: Set<String>) -> Set<String> {
            let deadline = Date().addingTimeInterval(10)
            var now: Set<String> = []
            while Date() < deadline {
                now = Set(((try? netlink.syncDaemons()) ?? []).map { "\($0.role.rawValue) \($0.syncID)" })
                if now == wanted { break }
                Thread.sleep(forTimeInterval: 0.1)
            }
            return now
        }
        XCTAssertEqual(waitFor(["master 3", "backup 3"]), ["master 3", "backup 3"])
        kill(daemon.processIdentifier, SIGHUP)
        Thread.sleep(forTimeInterval: 1.5)
        XCTAssertEqual(waitFor(["master 3", "backup 3"]), ["master 3", "backup 3"])
        try write(id: 4)
        kill(daemon.processIdentifier, SIGHUP)
        XCTAssertEqual(waitFor(["master 4", "backup 4"]), ["master 4", "backup 4"])
        kill(daemon.processIdentifier, SIGTERM)
        daemon.waitUntilExit()
        XCTAssertEqual(daemon.terminationStatus, 0)
        XCTAssertEqual(try netlink.syncDaemons(), [], "SIGTERM stops the sync daemons")
        let output = String(decoding: log.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let stops = output.components(separatedBy: "\n").filter { $0.contains("Stopping IPVS sync daemon") }
        // Two at the reload that changed the id, two at SIGTERM; none at the reload that did not.
        XCTAssertEqual(stops.count, 4, output)
        XCTAssertTrue(output.contains("Starting IPVS sync daemon in master state on lo (syncid 4)"), output)
    }
}
