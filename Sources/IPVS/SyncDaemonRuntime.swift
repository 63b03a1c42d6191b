#if canImport(Glibc)
import Glibc
#endif
import CNetlinkGenl
import KeepalivedConfig
import Logging

/// The kernel's IPVS connection sync daemons, as `lvs_sync_daemon` asks: the master daemon
/// multicasts the connection table while the named VRRP instance is MASTER, the backup daemon
/// receives it otherwise, so the director that takes over already knows every connection (and
/// persistence template) and forwards them to the same real servers. Without an instance both run
/// all the time, as keepalived's checker process does. Call every method on the event loop.
public final class SyncDaemonRuntime: @unchecked Sendable {
    private var settings: LVSSyncDaemon
    private let logger: Logger
    private let netlink: IPVSNetlink
    /// The daemons we started and that are running now, by role.
    private var running: [IPVSSyncRole: IPVSSyncDaemonState] = [:]
    /// What the instance asks for; nil before start and after stop.
    private var wantsMaster: Bool?

    /// `settings` with its sync id filled in (`KeepalivedConfiguration.effectiveLVSSyncDaemon`).
    public init(settings: LVSSyncDaemon, logger: Logger) throws {
        self.settings = settings
        self.logger = logger
        netlink = try IPVSNetlink.connect(logger: logger)
    }

    /// The settings the daemons run with, for the state dumps.
    public var settingsInForce: LVSSyncDaemon { settings }

    /// The instance this follows, if any.
    public var instance: String? { settings.instance }

    /// At start: daemons a killed predecessor left behind are stopped first (the kernel keeps
    /// them running after their process is gone), then the backup daemon starts, or both
    /// without an instance.
    public func start() {
        for leftover in (try? netlink.syncDaemons()) ?? [] {
            logger.info("Stopping the IPVS \(leftover.role.rawValue) sync daemon left running on \(leftover.interface) (syncid \(leftover.syncID))")
            stopDaemon(leftover.role)
        }
        wantsMaster = false
        if settings.instance == nil {
            startDaemon(.master)
        }
        startDaemon(.backup)
    }

    /// The instance entered MASTER (`true`) or left it: the roles swap, backup stopped before
    /// master starts and the other way round, as keepalived does.
    public func instanceIsMaster(_ isMaster: Bool) {
        guard settings.instance != nil, let wanted = wantsMaster, wanted != isMaster else { return }
        wantsMaster = isMaster
        stopDaemon(isMaster ? .backup : .master)
        startDaemon(isMaster ? .master : .backup)
    }

    /// SIGHUP. Unchanged settings leave the daemons alone, so sync goes on without a gap; changed
    /// ones restart the running daemons with the new settings (the kernel cannot change a
    /// running daemon).
    public func reload(_ newSettings: LVSSyncDaemon) {
        settings = newSettings
        guard wantsMaster != nil else { return }
        // Without an instance before, `wantsMaster` stayed false: a newly named instance counts
        // as BACKUP until the daemon tells its state, and the master daemon stops below.
        let roles = Set(running.keys)
        let wanted: Set<IPVSSyncRole> = newSettings.instance == nil ? [.master, .backup] : [wantsMaster == true ? .master : .backup]
        for role in IPVSSyncRole.allCases {
            let fresh = IPVSSyncDaemonState(role: role, newSettings)
            if roles.contains(role) && (!wanted.contains(role) || running[role] != fresh) {
                stopDaemon(role)
            }
            if wanted.contains(role) && running[role] == nil {
                startDaemon(role)
            }
        }
    }

    /// SIGTERM, or lvs_sync_daemon gone from the config at a reload.
    public func stop() {
        for role in IPVSSyncRole.allCases where running[role] != nil { stopDaemon(role) }
        wantsMaster = nil
    }

    /// What we started, for the state dumps.
    public var daemons: [IPVSSyncDaemonState] {
        IPVSSyncRole.allCases.compactMap { running[$0] }
    }

    /// What the kernel says runs in this namespace (a read over netlink).
    public func kernelDaemons() throws -> [IPVSSyncDaemonState] { try netlink.syncDaemons() }

    private func startDaemon(_ role: IPVSSyncRole) {
        let daemon = IPVSSyncDaemonState(role: role, settings)
        do {
            try netlink.startSyncDaemon(daemon)
            running[role] = daemon
            logger.info("Starting IPVS sync daemon in \(role.rawValue) state on \(daemon.interface) (syncid \(daemon.syncID))")
        } catch {
            logger.error("IPVS: cannot start the \(role.rawValue) sync daemon on \(daemon.interface): \(error.detail)")
        }
    }

    private func stopDaemon(_ role: IPVSSyncRole) {
        do {
            try netlink.stopSyncDaemon(role)
            if running[role] != nil { logger.info("Stopping IPVS sync daemon in \(role.rawValue) state") }
        } catch {
            // Not running (ESRCH) is what stop wanted.
            if error.code != -NLE_OBJ_NOTFOUND { logger.error("IPVS: cannot stop the \(role.rawValue) sync daemon: \(error.detail)") }
        }
        running[role] = nil
    }
}

extension Error {
    fileprivate var detail: String { (self as? IPVSError)?.detail ?? "\(self)" }
    fileprivate var code: Int32 { (self as? IPVSError)?.code ?? 0 }
}
