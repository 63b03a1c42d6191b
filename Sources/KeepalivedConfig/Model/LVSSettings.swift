/// `lvs_sync_daemon` of global_defs (or the old `lvs_sync_daemon_interface` of an instance): the
/// kernel's IPVS connection sync daemons, which multicast the connection table of the master
/// director to the backups, so connections survive a failover.
public struct LVSSyncDaemon: Sendable, Hashable {
    /// Where the sync messages are multicast and received.
    public var interface: String
    /// The VRRP instance whose state picks the daemon's role: master while it is MASTER, backup
    /// otherwise. Without one, both daemons run all the time (keepalived's checker does that).
    public var instance: String?
    /// Tells apart the sync traffic of several director pairs on one link (keepalived's default:
    /// the instance's virtual_router_id, else 0).
    public var syncID: Int?
    public var maxLength: Int?
    public var port: Int?
    public var ttl: Int?
    public var group: IPAddress?

    public init(interface: String, instance: String? = nil) {
        self.interface = interface
        self.instance = instance
    }

    /// The kernel caps an interface name at IP_VS_IFNAME_MAXLEN (16) bytes with its NUL.
    public static let maximumInterfaceLength = 15
    public static let syncIDRange = 0...255
    /// A datagram's payload: 65535 less the IPv4 and UDP headers.
    public static let maxLengthRange = 1...(65535 - 20 - 8)
}

/// `lvs_timeouts`: the kernel's IPVS connection timeouts, in seconds; those not written keep the
/// kernel's values.
public struct LVSTimeouts: Sendable, Hashable {
    public var tcp: Int?
    public var tcpFin: Int?
    public var udp: Int?

    public init(tcp: Int? = nil, tcpFin: Int? = nil, udp: Int? = nil) {
        self.tcp = tcp
        self.tcpFin = tcpFin
        self.udp = udp
    }

    /// keepalived's limit: 31 days.
    public static let range = 1...(86400 * 31)
}

/// `lvs_flush_on_stop [VS]`: what stop removes instead of each real server one by one.
public enum LVSFlushOnStop: String, Sendable, Hashable {
    /// The whole IPVS table, ours or not (keepalived's plain `lvs_flush_on_stop`).
    case wholeTable
    /// Our virtual services, each with its real servers in one request (`lvs_flush_on_stop VS`).
    case virtualServers
}

extension KeepalivedConfiguration {
    /// An instance's old `lvs_sync_daemon_interface` becomes global_defs' `lvs_sync_daemon` for that
    /// instance. keepalived keeps the first of several and ignores the rest with a message; two
    /// sync daemon settings cannot both be meant, so here the second is an error.
    mutating func adoptInstanceSyncDaemon(_ diagnostics: inout Diagnostics) {
        for instance in vrrpInstances {
            guard let interface = instance.lvsSyncDaemonInterface else { continue }
            if let earlier = globalDefs.lvsSyncDaemonLocation {
                diagnostics.error(instance.location, "(\(instance.name)) lvs_sync_daemon_interface: the sync daemon is already set at \(earlier)")
                continue
            }
            globalDefs.lvsSyncDaemon = LVSSyncDaemon(interface: interface, instance: instance.name)
            globalDefs.lvsSyncDaemonLocation = instance.location
        }
    }

    /// The sync daemons' settings with keepalived's defaults filled in: the sync id is the
    /// instance's virtual_router_id unless written.
    public var effectiveLVSSyncDaemon: LVSSyncDaemon? {
        guard var sync = globalDefs.lvsSyncDaemon else { return nil }
        if sync.syncID == nil {
            sync.syncID = sync.instance.flatMap { name in vrrpInstances.first { $0.name == name }?.virtualRouterID } ?? 0
        }
        return sync
    }
}
