#if canImport(Glibc)
import Glibc
#endif
import CNetlinkGenl
import KeepalivedConfig

/// The header's *_ATTR_MAX macros are expressions Swift does not import.
private let commandAttributeMax = Int(__IPVS_CMD_ATTR_MAX) - 1

/// Reading the kernel's table back: a dump of services, then a dump of each one's destinations.
extension IPVSNetlink {
    /// The kernel's table; destinations are read only for the services in `destinationsOf`
    /// (all when nil), since each service costs a dump of its own.
    public func table(destinationsOf wanted: Set<IPVSServiceKey>? = nil) throws -> IPVSTable {
        var table = IPVSTable()
        var services: [(IPVSServiceKey, IPVSServiceSettings)] = []
        try dump(IPVS_CMD_GET_SERVICE, fill: { _ in }) { header in
            if let service = Self.parseService(header) { services.append(service) }
        }
        for (key, settings) in services {
            if let wanted, !wanted.contains(key) {
                table.services[key] = IPVSService(settings: settings)
                continue
            }
            var destinations: [IPVSDestinationKey: IPVSDestinationSettings] = [:]
            try dump(IPVS_CMD_GET_DEST, fill: { IPVSRequest.put(service: key, settings: nil, into: &$0) }) { header in
                if let (destination, settings) = Self.parseDestination(header) { destinations[destination] = settings }
            }
            table.services[key] = IPVSService(settings: settings, destinations: destinations)
        }
        return table
    }

    /// Carries the Swift handler through libnl's C callback.
    private final class MessageHandler {
        let handle: (UnsafeMutablePointer<nlmsghdr>) -> Void
        init(_ handle: @escaping (UnsafeMutablePointer<nlmsghdr>) -> Void) { self.handle = handle }
    }

    /// A dump, or with `flags` 0 a single request whose one answer goes to `handle`.
    func dump(_ command: Int, flags: Int32 = NLM_F_DUMP, fill: (inout NetlinkWriter) -> Void,
              handle: @escaping (UnsafeMutablePointer<nlmsghdr>) -> Void) throws {
        var writer = NetlinkWriter()
        beginRequest(command, flags: flags, into: &writer)
        fill(&writer)
        writer.endMessage()
        let context = Unmanaged.passRetained(MessageHandler(handle))
        defer { context.release() }
        let callback: nl_recvmsg_msg_cb_t = { message, argument in
            guard let message, let argument, let header = nlmsg_hdr(message) else { return Int32(NL_SKIP.rawValue) }
            Unmanaged<MessageHandler>.fromOpaque(argument).takeUnretainedValue().handle(header)
            return Int32(NL_OK.rawValue)
        }
        nl_socket_modify_cb(rawSocket, NL_CB_VALID, NL_CB_CUSTOM, callback, context.toOpaque())
        var result = send(writer)
        if result >= 0 { result = nl_recvmsgs_default(rawSocket) }
        guard result >= 0 else { throw IPVSError(operation: "read the IPVS \(Self.commandName(command))", code: result) }
    }

    private static func commandName(_ command: Int) -> String {
        switch command {
        case IPVS_CMD_GET_DAEMON: return "sync daemons"
        case IPVS_CMD_GET_CONFIG: return "timeouts"
        default: return "table"
        }
    }

    static func attributes(_ header: UnsafeMutablePointer<nlmsghdr>, nested: Int, maximum: Int) -> [UnsafeMutablePointer<nlattr>?]? {
        var top = [UnsafeMutablePointer<nlattr>?](repeating: nil, count: commandAttributeMax + 1)
        guard genlmsg_parse(header, 0, &top, Int32(commandAttributeMax), nil) >= 0, let outer = top[nested] else { return nil }
        var inner = [UnsafeMutablePointer<nlattr>?](repeating: nil, count: maximum + 1)
        guard nla_parse_nested(&inner, Int32(maximum), outer, nil) >= 0 else { return nil }
        return inner
    }

    /// `attributes` without an array made per message, for reads of thousands of them: the
    /// tables live on the stack for the time of `body`.
    static func withAttributes<Result>(_ header: UnsafeMutablePointer<nlmsghdr>, nested: Int, maximum: Int,
                                       _ body: (UnsafeMutableBufferPointer<UnsafeMutablePointer<nlattr>?>) -> Result?) -> Result? {
        withUnsafeTemporaryAllocation(of: UnsafeMutablePointer<nlattr>?.self, capacity: commandAttributeMax + 1) { top in
            top.initialize(repeating: nil)
            guard genlmsg_parse(header, 0, top.baseAddress, Int32(commandAttributeMax), nil) >= 0, let outer = top[nested] else { return nil }
            return withUnsafeTemporaryAllocation(of: UnsafeMutablePointer<nlattr>?.self, capacity: maximum + 1) { inner in
                inner.initialize(repeating: nil)
                guard nla_parse_nested(inner.baseAddress, Int32(maximum), outer, nil) >= 0 else { return nil }
                return body(inner)
            }
        }
    }

    static func u16(_ attribute: UnsafeMutablePointer<nlattr>?) -> UInt16? { attribute.map { nla_get_u16($0) } }
    static func u32(_ attribute: UnsafeMutablePointer<nlattr>?) -> UInt32? { attribute.map { nla_get_u32($0) } }

    private static func address(_ attribute: UnsafeMutablePointer<nlattr>?, family: UInt16) -> IPAddress? {
        guard let attribute, let data = nla_data(attribute) else { return nil }
        let length = Int(nla_len(attribute))
        if family == UInt16(AF_INET6) {
            return length >= 16 ? IPAddress(v6Bytes: Array(UnsafeRawBufferPointer(start: data, count: 16))) : nil
        }
        guard length >= 4 else { return nil }
        return .v4(UInt32(bigEndian: data.loadUnaligned(as: UInt32.self)))
    }

    static func parseService(_ header: UnsafeMutablePointer<nlmsghdr>) -> (IPVSServiceKey, IPVSServiceSettings)? {
        guard let attrs = attributes(header, nested: Int(IPVS_CMD_ATTR_SERVICE), maximum: Int(__IPVS_SVC_ATTR_MAX) - 1),
              let key = serviceKey(attrs) else { return nil }
        let schedulerName = attrs[Int(IPVS_SVC_ATTR_SCHED_NAME)].flatMap { nla_get_string($0) }.map { String(cString: $0) } ?? "wlc"
        var flags: UInt32 = 0
        if let attribute = attrs[Int(IPVS_SVC_ATTR_FLAGS)], let data = nla_data(attribute) {
            flags = data.loadUnaligned(as: ip_vs_flags.self).flags
        }
        var schedulerFlags: Set<String> = []
        let scheduler = LVSScheduler(rawValue: schedulerName) ?? .wlc
        let prefix = scheduler == .mh ? "mh" : "sh"
        if flags & UInt32(IP_VS_SVC_F_SCHED1) != 0 { schedulerFlags.insert(scheduler == .sh || scheduler == .mh ? "\(prefix)-fallback" : "flag-1") }
        if flags & UInt32(IP_VS_SVC_F_SCHED2) != 0 { schedulerFlags.insert(scheduler == .sh || scheduler == .mh ? "\(prefix)-port" : "flag-2") }
        if flags & UInt32(IP_VS_SVC_F_SCHED3) != 0 { schedulerFlags.insert("flag-3") }
        let persistent = flags & UInt32(IP_VS_SVC_F_PERSISTENT) != 0
        let timeout = u32(attrs[Int(IPVS_SVC_ATTR_TIMEOUT)])
        var netmask = u32(attrs[Int(IPVS_SVC_ATTR_NETMASK)])
        if case .address(_, .v4, _) = key { netmask = netmask.map { UInt32(bigEndian: $0) } }
        if case .fwmark(_, .inet) = key { netmask = netmask.map { UInt32(bigEndian: $0) } }
        let defaultMask: UInt32 = { if case .address(_, .v6, _) = key { return 128 }; if case .fwmark(_, .inet6) = key { return 128 }; return ~0 }()
        let engine = attrs[Int(IPVS_SVC_ATTR_PE_NAME)].flatMap { nla_get_string($0) }.map { String(cString: $0) }
        let settings = IPVSServiceSettings(
            scheduler: scheduler, persistenceTimeout: persistent ? timeout.map(Int.init) : nil,
            persistenceNetmask: persistent && netmask != defaultMask ? netmask : nil, schedulerFlags: schedulerFlags,
            onePacketScheduling: flags & UInt32(IP_VS_SVC_F_ONEPACKET) != 0, persistenceEngine: engine)
        return (key, settings)
    }

    /// The service's key from its parsed attributes.
    static func serviceKey<Table: RandomAccessCollection<UnsafeMutablePointer<nlattr>?>>(_ attrs: Table) -> IPVSServiceKey? where Table.Index == Int {
        guard let familyAttribute = attrs[Int(IPVS_SVC_ATTR_AF)] else { return nil }
        let family = nla_get_u16(familyAttribute)
        if let mark = u32(attrs[Int(IPVS_SVC_ATTR_FWMARK)]), mark != 0 {
            return .fwmark(mark, family == UInt16(AF_INET6) ? .inet6 : .inet)
        }
        guard let address = address(attrs[Int(IPVS_SVC_ATTR_ADDR)], family: family),
              let proto = u16(attrs[Int(IPVS_SVC_ATTR_PROTOCOL)]),
              let port = u16(attrs[Int(IPVS_SVC_ATTR_PORT)]) else { return nil }
        let lvsProtocol: LVSProtocol = proto == UInt16(IPPROTO_UDP) ? .udp : proto == UInt16(IPPROTO_SCTP) ? .sctp : .tcp
        return .address(lvsProtocol, address, port: Int(UInt16(bigEndian: port)))
    }

    static func parseDestination(_ header: UnsafeMutablePointer<nlmsghdr>) -> (IPVSDestinationKey, IPVSDestinationSettings)? {
        guard let attrs = attributes(header, nested: Int(IPVS_CMD_ATTR_DEST), maximum: Int(__IPVS_DEST_ATTR_MAX) - 1),
              let key = destinationKey(attrs) else { return nil }
        let method = u32(attrs[Int(IPVS_DEST_ATTR_FWD_METHOD)]) ?? 0
        let forwarding: LVSForwardingMethod = method & 0x7 == UInt32(IP_VS_CONN_F_DROUTE) ? .dr
            : method & 0x7 == UInt32(IP_VS_CONN_F_TUNNEL) ? .tun : .nat
        let settings = IPVSDestinationSettings(
            forwarding: forwarding, weight: Int(u32(attrs[Int(IPVS_DEST_ATTR_WEIGHT)]) ?? 0),
            upperThreshold: Int(u32(attrs[Int(IPVS_DEST_ATTR_U_THRESH)]) ?? 0),
            lowerThreshold: Int(u32(attrs[Int(IPVS_DEST_ATTR_L_THRESH)]) ?? 0))
        return (key, settings)
    }

    /// The destination's key from its parsed attributes.
    static func destinationKey<Table: RandomAccessCollection<UnsafeMutablePointer<nlattr>?>>(_ attrs: Table) -> IPVSDestinationKey? where Table.Index == Int {
        let family = u16(attrs[Int(IPVS_DEST_ATTR_ADDR_FAMILY)]) ?? UInt16(AF_INET)
        guard let address = address(attrs[Int(IPVS_DEST_ATTR_ADDR)], family: family),
              let port = u16(attrs[Int(IPVS_DEST_ATTR_PORT)]) else { return nil }
        return IPVSDestinationKey(address: address, port: Int(UInt16(bigEndian: port)))
    }
}
