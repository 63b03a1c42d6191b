#if canImport(Glibc)
import Glibc
#endif
import CNetlinkGenl
import KeepalivedConfig

/// The bytes of IPVS generic-netlink requests: services and destinations as `<linux/ip_vs.h>`
/// lays out their attributes. Pure, so tests compare it with what libnl builds.
enum IPVSRequest {
    /// Appends the whole request for `operation`; `header.command` is set from the operation.
    static func encode(_ operation: IPVSOperation, header: NetlinkWriter.Header, into writer: inout NetlinkWriter) {
        var header = header
        header.command = UInt8(command(for: operation))
        writer.beginMessage(header)
        switch operation {
        case .addService(let key, let settings), .editService(let key, let settings):
            put(service: key, settings: settings, into: &writer)
        case .deleteService(let key):
            put(service: key, settings: nil, into: &writer)
        case .addDestination(let service, let key, let settings), .editDestination(let service, let key, let settings):
            put(service: service, settings: nil, into: &writer)
            put(destination: key, settings: settings, into: &writer)
        case .deleteDestination(let service, let key):
            put(service: service, settings: nil, into: &writer)
            put(destination: key, settings: nil, into: &writer)
        }
        writer.endMessage()
    }

    private static func command(for operation: IPVSOperation) -> Int {
        switch operation {
        case .addService: return IPVS_CMD_NEW_SERVICE
        case .editService: return IPVS_CMD_SET_SERVICE
        case .deleteService: return IPVS_CMD_DEL_SERVICE
        case .addDestination: return IPVS_CMD_NEW_DEST
        case .editDestination: return IPVS_CMD_SET_DEST
        case .deleteDestination: return IPVS_CMD_DEL_DEST
        }
    }

    private static func putAddress(_ address: IPAddress, attribute: Int32, into writer: inout NetlinkWriter) {
        address.withNetworkBytes(paddedTo16: true) { writer.put(attribute, raw: $0) }
    }

    private static func familyValue(_ family: AddressFamily) -> UInt16 { UInt16(family == .inet ? AF_INET : AF_INET6) }

    private static func protocolNumber(_ proto: LVSProtocol) -> UInt16 {
        switch proto {
        case .tcp: return UInt16(IPPROTO_TCP)
        case .udp: return UInt16(IPPROTO_UDP)
        case .sctp: return UInt16(IPPROTO_SCTP)
        }
    }

    /// The service attribute; with nil settings only the key, as destination requests and dumps want it.
    static func put(service key: IPVSServiceKey, settings: IPVSServiceSettings?, into writer: inout NetlinkWriter) {
        writer.beginNest(Int32(IPVS_CMD_ATTR_SERVICE))
        putServiceFields(key, settings: settings, into: &writer)
        writer.endNest()
    }

    private static func putServiceFields(_ key: IPVSServiceKey, settings: IPVSServiceSettings?, into writer: inout NetlinkWriter) {
        switch key {
        case .address(let proto, let address, let port):
            writer.put(Int32(IPVS_SVC_ATTR_AF), u16: familyValue(address.family))
            writer.put(Int32(IPVS_SVC_ATTR_PROTOCOL), u16: protocolNumber(proto))
            putAddress(address, attribute: Int32(IPVS_SVC_ATTR_ADDR), into: &writer)
            writer.put(Int32(IPVS_SVC_ATTR_PORT), u16: UInt16(port).bigEndian)
        case .fwmark(let mark, let family):
            writer.put(Int32(IPVS_SVC_ATTR_AF), u16: familyValue(family))
            writer.put(Int32(IPVS_SVC_ATTR_FWMARK), u32: mark)
        }
        if let settings {
            writer.put(Int32(IPVS_SVC_ATTR_SCHED_NAME), string: settings.scheduler.rawValue)
            let flags = ip_vs_flags(flags: flags(settings), mask: ~UInt32(0))
            withUnsafeBytes(of: flags) { writer.put(Int32(IPVS_SVC_ATTR_FLAGS), raw: $0) }
            writer.put(Int32(IPVS_SVC_ATTR_TIMEOUT), u32: UInt32(settings.persistenceTimeout ?? 0))
            let defaultMask: UInt32 = { if case .fwmark(_, .inet6) = key { return 128 }; if case .address(_, .v6, _) = key { return 128 }; return ~0 }()
            writer.put(Int32(IPVS_SVC_ATTR_NETMASK), u32: (settings.persistenceNetmask ?? defaultMask).bigEndianIfIPv4(key))
            if let engine = settings.persistenceEngine { writer.put(Int32(IPVS_SVC_ATTR_PE_NAME), string: engine) }
        }
    }

    static func flags(_ settings: IPVSServiceSettings) -> UInt32 {
        var flags: UInt32 = 0
        if settings.persistenceTimeout != nil { flags |= UInt32(IP_VS_SVC_F_PERSISTENT) }
        if settings.onePacketScheduling { flags |= UInt32(IP_VS_SVC_F_ONEPACKET) }
        for name in settings.schedulerFlags {
            switch name {
            case "sh-fallback", "mh-fallback", "flag-1": flags |= UInt32(IP_VS_SVC_F_SCHED1)
            case "sh-port", "mh-port", "flag-2": flags |= UInt32(IP_VS_SVC_F_SCHED2)
            case "flag-3": flags |= UInt32(IP_VS_SVC_F_SCHED3)
            default: break
            }
        }
        return flags
    }

    static func put(destination key: IPVSDestinationKey, settings: IPVSDestinationSettings?, into writer: inout NetlinkWriter) {
        writer.beginNest(Int32(IPVS_CMD_ATTR_DEST))
        putAddress(key.address, attribute: Int32(IPVS_DEST_ATTR_ADDR), into: &writer)
        writer.put(Int32(IPVS_DEST_ATTR_PORT), u16: UInt16(key.port).bigEndian)
        writer.put(Int32(IPVS_DEST_ATTR_ADDR_FAMILY), u16: familyValue(key.address.family))
        if let settings {
            let method: Int32
            switch settings.forwarding {
            case .nat: method = IP_VS_CONN_F_MASQ
            case .dr: method = IP_VS_CONN_F_DROUTE
            case .tun: method = IP_VS_CONN_F_TUNNEL
            }
            writer.put(Int32(IPVS_DEST_ATTR_FWD_METHOD), u32: UInt32(method))
            writer.put(Int32(IPVS_DEST_ATTR_WEIGHT), u32: UInt32(settings.weight))
            writer.put(Int32(IPVS_DEST_ATTR_U_THRESH), u32: UInt32(settings.upperThreshold))
            writer.put(Int32(IPVS_DEST_ATTR_L_THRESH), u32: UInt32(settings.lowerThreshold))
        }
        writer.endNest()
    }
}

extension UInt32 {
    /// The kernel takes an IPv4 persistence netmask in network order and an IPv6 one as a prefix length.
    func bigEndianIfIPv4(_ key: IPVSServiceKey) -> UInt32 {
        switch key {
        case .address(_, .v4, _), .fwmark(_, .inet): return bigEndian
        default: return self
        }
    }
}
