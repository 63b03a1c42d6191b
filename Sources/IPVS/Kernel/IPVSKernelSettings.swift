#if canImport(Glibc)
import Glibc
#endif
import CNetlinkGenl
import KeepalivedConfig

/// A sync daemon's role: the master sends its connection table, the backup receives one.
public enum IPVSSyncRole: String, Sendable, Hashable, CaseIterable, Codable {
    case master, backup

    var kernelState: UInt32 { UInt32(self == .master ? IP_VS_STATE_MASTER : IP_VS_STATE_BACKUP) }
}

/// One kernel sync daemon, as started or as the kernel reports it.
public struct IPVSSyncDaemonState: Sendable, Hashable, Codable {
    public var role: IPVSSyncRole
    public var interface: String
    public var syncID: Int
    /// The kernel's values where nothing was asked (it reports them when it has them).
    public var maxLength: Int?
    public var port: Int?
    public var ttl: Int?
    public var group: String?

    public init(role: IPVSSyncRole, interface: String, syncID: Int, maxLength: Int? = nil, port: Int? = nil, ttl: Int? = nil, group: String? = nil) {
        self.role = role
        self.interface = interface
        self.syncID = syncID
        self.maxLength = maxLength
        self.port = port
        self.ttl = ttl
        self.group = group
    }

    public init(role: IPVSSyncRole, _ settings: LVSSyncDaemon) {
        self.init(role: role, interface: settings.interface, syncID: settings.syncID ?? 0, maxLength: settings.maxLength,
                  port: settings.port, ttl: settings.ttl, group: settings.group?.description)
    }
}

/// The kernel's IPVS connection timeouts, in seconds.
public struct IPVSTimeouts: Sendable, Hashable, Codable {
    public var tcp: Int
    public var tcpFin: Int
    public var udp: Int

    public init(tcp: Int, tcpFin: Int, udp: Int) {
        self.tcp = tcp
        self.tcpFin = tcpFin
        self.udp = udp
    }
}

private let commandAttributeMax = Int(__IPVS_CMD_ATTR_MAX) - 1
private let daemonAttributeMax = Int(__IPVS_DAEMON_ATTR_MAX) - 1

/// The IPVS settings beyond services and destinations: sync daemons, timeouts, flushing.
extension IPVSNetlink {
    /// Sends one request and waits for the kernel's acknowledgement.
    private func request(_ command: Int, what: String, fill: (inout NetlinkWriter) -> Void) throws {
        var writer = NetlinkWriter()
        beginRequest(command, flags: NLM_F_ACK, into: &writer)
        fill(&writer)
        writer.endMessage()
        var result = send(writer)
        if result >= 0 { result = nl_wait_for_ack(rawSocket) }
        guard result >= 0 else { throw IPVSError(operation: what, code: result) }
    }

    public func startSyncDaemon(_ daemon: IPVSSyncDaemonState) throws {
        try request(IPVS_CMD_NEW_DAEMON, what: "start the \(daemon.role.rawValue) sync daemon on \(daemon.interface)") { writer in
            writer.beginNest(Int32(IPVS_CMD_ATTR_DAEMON))
            writer.put(Int32(IPVS_DAEMON_ATTR_STATE), u32: daemon.role.kernelState)
            writer.put(Int32(IPVS_DAEMON_ATTR_MCAST_IFN), string: daemon.interface)
            writer.put(Int32(IPVS_DAEMON_ATTR_SYNC_ID), u32: UInt32(daemon.syncID))
            if let length = daemon.maxLength { writer.put(Int32(IPVS_DAEMON_ATTR_SYNC_MAXLEN), u16: UInt16(length)) }
            if let port = daemon.port { writer.put(Int32(IPVS_DAEMON_ATTR_MCAST_PORT), u16: UInt16(port)) }
            if let ttl = daemon.ttl { withUnsafeBytes(of: UInt8(ttl)) { writer.put(Int32(IPVS_DAEMON_ATTR_MCAST_TTL), raw: $0) } }
            if let group = daemon.group.flatMap(IPAddress.init) {
                let attribute = group.family == .inet ? IPVS_DAEMON_ATTR_MCAST_GROUP : IPVS_DAEMON_ATTR_MCAST_GROUP6
                group.withNetworkBytes(paddedTo16: false) { writer.put(Int32(attribute), raw: $0) }
            }
            writer.endNest()
        }
    }

    public func stopSyncDaemon(_ role: IPVSSyncRole) throws {
        try request(IPVS_CMD_DEL_DAEMON, what: "stop the \(role.rawValue) sync daemon") { writer in
            writer.beginNest(Int32(IPVS_CMD_ATTR_DAEMON))
            writer.put(Int32(IPVS_DAEMON_ATTR_STATE), u32: role.kernelState)
            writer.endNest()
        }
    }

    /// The sync daemons running in this network namespace.
    public func syncDaemons() throws -> [IPVSSyncDaemonState] {
        var daemons: [IPVSSyncDaemonState] = []
        try dump(IPVS_CMD_GET_DAEMON, fill: { _ in }) { header in
            if let daemon = Self.parseDaemon(header) { daemons.append(daemon) }
        }
        return daemons.sorted { $0.role.rawValue > $1.role.rawValue }
    }

    static func parseDaemon(_ header: UnsafeMutablePointer<nlmsghdr>) -> IPVSSyncDaemonState? {
        guard let attrs = attributes(header, nested: Int(IPVS_CMD_ATTR_DAEMON), maximum: daemonAttributeMax),
              let state = u32(attrs[Int(IPVS_DAEMON_ATTR_STATE)]),
              let name = attrs[Int(IPVS_DAEMON_ATTR_MCAST_IFN)].flatMap({ nla_get_string($0) }) else { return nil }
        let role: IPVSSyncRole = state & UInt32(IP_VS_STATE_MASTER) != 0 ? .master : .backup
        var group: String?
        if let attribute = attrs[Int(IPVS_DAEMON_ATTR_MCAST_GROUP)], let data = nla_data(attribute), nla_len(attribute) >= 4 {
            let bytes = Array(UnsafeRawBufferPointer(start: data, count: 4))
            group = bytes.map(String.init).joined(separator: ".")
        } else if let attribute = attrs[Int(IPVS_DAEMON_ATTR_MCAST_GROUP6)], let data = nla_data(attribute), nla_len(attribute) >= 16 {
            group = IPAddress(v6Bytes: Array(UnsafeRawBufferPointer(start: data, count: 16))).description
        }
        let ttl = attrs[Int(IPVS_DAEMON_ATTR_MCAST_TTL)].map { Int(nla_get_u8($0)) }
        return IPVSSyncDaemonState(
            role: role, interface: String(cString: name), syncID: Int(u32(attrs[Int(IPVS_DAEMON_ATTR_SYNC_ID)]) ?? 0),
            maxLength: u16(attrs[Int(IPVS_DAEMON_ATTR_SYNC_MAXLEN)]).map(Int.init),
            port: u16(attrs[Int(IPVS_DAEMON_ATTR_MCAST_PORT)]).map(Int.init), ttl: ttl, group: group)
    }

    public func timeouts() throws -> IPVSTimeouts {
        var found: IPVSTimeouts?
        try dump(IPVS_CMD_GET_CONFIG, flags: 0, fill: { _ in }) { header in
            var top = [UnsafeMutablePointer<nlattr>?](repeating: nil, count: commandAttributeMax + 1)
            guard genlmsg_parse(header, 0, &top, Int32(commandAttributeMax), nil) >= 0 else { return }
            found = IPVSTimeouts(tcp: Int(Self.u32(top[Int(IPVS_CMD_ATTR_TIMEOUT_TCP)]) ?? 0),
                                 tcpFin: Int(Self.u32(top[Int(IPVS_CMD_ATTR_TIMEOUT_TCP_FIN)]) ?? 0),
                                 udp: Int(Self.u32(top[Int(IPVS_CMD_ATTR_TIMEOUT_UDP)]) ?? 0))
        }
        guard let found else { throw IPVSError(operation: "read the IPVS timeouts", code: -NLE_MSG_TRUNC) }
        return found
    }

    /// The kernel changes only the timeouts given as more than 0.
    public func setTimeouts(_ timeouts: IPVSTimeouts) throws {
        try request(IPVS_CMD_SET_CONFIG, what: "set the IPVS timeouts") { writer in
            writer.put(Int32(IPVS_CMD_ATTR_TIMEOUT_TCP), u32: UInt32(timeouts.tcp))
            writer.put(Int32(IPVS_CMD_ATTR_TIMEOUT_TCP_FIN), u32: UInt32(timeouts.tcpFin))
            writer.put(Int32(IPVS_CMD_ATTR_TIMEOUT_UDP), u32: UInt32(timeouts.udp))
        }
    }

    /// Removes every service of this network namespace, ours or not.
    public func flush() throws {
        try request(IPVS_CMD_FLUSH, what: "flush the IPVS table") { _ in }
    }
}
