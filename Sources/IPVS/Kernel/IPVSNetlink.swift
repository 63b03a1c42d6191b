#if canImport(Glibc)
import Glibc
#endif
import CNetlinkGenl
import KeepalivedConfig

/// A failed IPVS request: what was asked, and the libnl error (its code is the negated errno
/// class, e.g. NLE_EXIST).
public struct IPVSError: Error, Sendable, CustomStringConvertible {
    public let operation: String
    public let code: Int32
    public var detail: String { String(cString: nl_geterror(code)) }
    public var description: String { "\(operation): \(detail)" }
}

/// The kernel's IPVS table over generic netlink (libnl-genl-3): resolve the "IPVS" family, apply
/// operations, dump services and destinations. Every libnl pointer stays in this file.
public final class IPVSNetlink: @unchecked Sendable {
    private let socket: OpaquePointer
    private let family: Int32
    var rawSocket: OpaquePointer { socket }
    var familyID: Int32 { family }
    /// Requests sent, for tests and benchmarks that count the work done.
    public private(set) var requestCount = 0

    public init() throws {
        guard let socket = nl_socket_alloc() else { throw IPVSError(operation: "nl_socket_alloc", code: -NLE_NOMEM) }
        var result = genl_connect(socket)
        guard result >= 0 else {
            nl_socket_free(socket)
            throw IPVSError(operation: "genl_connect", code: result)
        }
        result = genl_ctrl_resolve(socket, IPVS_GENL_NAME)
        guard result >= 0 else {
            nl_socket_free(socket)
            throw IPVSError(operation: "resolve the IPVS netlink family (is the ip_vs module loaded?)", code: result)
        }
        // Batches have several requests in flight; their replies come back in order, but not
        // with the sequence number of the last one sent.
        nl_socket_disable_seq_check(socket)
        // Room for a window of acknowledgements, and a bound on waiting for one that never comes.
        _ = nl_socket_set_buffer_size(socket, 1 << 20, 1 << 20)
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(nl_socket_get_fd(socket), SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        self.socket = socket
        family = result
    }

    deinit {
        nl_socket_free(socket)
    }

    // MARK: Changes

    public func apply(_ operation: IPVSOperation) throws {
        try send(operation, waitForAck: true)
    }

    /// Sends a request and returns its sequence number; the caller collects the acknowledgement.
    func sendWithoutWaiting(_ operation: IPVSOperation) throws -> UInt32 {
        try send(operation, waitForAck: false)
    }

    @discardableResult
    private func send(_ operation: IPVSOperation, waitForAck: Bool) throws -> UInt32 {
        let fill = Self.filler(for: operation, netlink: self)
        return try send(Self.command(for: operation), operation, waitForAck: waitForAck, fill)
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

    private static func filler(for operation: IPVSOperation, netlink: IPVSNetlink) -> (OpaquePointer) -> Void {
        switch operation {
        case .addService(let key, let settings), .editService(let key, let settings):
            return { netlink.put(service: key, settings: settings, into: $0) }
        case .deleteService(let key):
            return { netlink.put(service: key, settings: nil, into: $0) }
        case .addDestination(let service, let key, let settings), .editDestination(let service, let key, let settings):
            return { netlink.put(service: service, settings: nil, into: $0); netlink.put(destination: key, settings: settings, into: $0) }
        case .deleteDestination(let service, let key):
            return { netlink.put(service: service, settings: nil, into: $0); netlink.put(destination: key, settings: nil, into: $0) }
        }
    }

    private func send(_ command: Int, _ operation: IPVSOperation, waitForAck: Bool, _ fill: (OpaquePointer) -> Void) throws -> UInt32 {
        guard let message = nlmsg_alloc() else { throw IPVSError(operation: "\(operation)", code: -NLE_NOMEM) }
        defer { nlmsg_free(message) }
        genlmsg_put(message, UInt32(NL_AUTO_PORT), UInt32(NL_AUTO_SEQ), family, 0, NLM_F_ACK, UInt8(command), UInt8(IPVS_GENL_VERSION))
        fill(message)
        requestCount += 1
        var result = nl_send_auto(socket, message)
        let sequence = nlmsg_hdr(message).pointee.nlmsg_seq
        if result >= 0 && waitForAck { result = nl_wait_for_ack(socket) }
        guard result >= 0 else { throw IPVSError(operation: "\(operation)", code: result) }
        return sequence
    }

    private static func addressBytes(_ address: IPAddress) -> [UInt8] {
        switch address {
        case .v4(let value): return [UInt8(value >> 24), UInt8(value >> 16 & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)] + [UInt8](repeating: 0, count: 12)
        case .v6: return address.v6Bytes
        }
    }

    private static func familyValue(_ family: AddressFamily) -> UInt16 { UInt16(family == .inet ? AF_INET : AF_INET6) }

    private static func protocolNumber(_ proto: LVSProtocol) -> UInt16 {
        switch proto {
        case .tcp: return UInt16(IPPROTO_TCP)
        case .udp: return UInt16(IPPROTO_UDP)
        case .sctp: return UInt16(IPPROTO_SCTP)
        }
    }

    func put(service key: IPVSServiceKey, settings: IPVSServiceSettings?, into message: OpaquePointer) {
        let nest = nla_nest_start(message, Int32(IPVS_CMD_ATTR_SERVICE))
        putServiceFields(key, settings: settings, into: message)
        nla_nest_end(message, nest)
    }

    /// The service attribute holding only the key, as destination dumps want it.
    func putServiceKey(_ key: IPVSServiceKey, into message: OpaquePointer) {
        put(service: key, settings: nil, into: message)
    }

    private func putServiceFields(_ key: IPVSServiceKey, settings: IPVSServiceSettings?, into message: OpaquePointer) {
        switch key {
        case .address(let proto, let address, let port):
            nla_put_u16(message, Int32(IPVS_SVC_ATTR_AF), Self.familyValue(address.family))
            nla_put_u16(message, Int32(IPVS_SVC_ATTR_PROTOCOL), Self.protocolNumber(proto))
            var bytes = Self.addressBytes(address)
            nla_put(message, Int32(IPVS_SVC_ATTR_ADDR), Int32(bytes.count), &bytes)
            nla_put_u16(message, Int32(IPVS_SVC_ATTR_PORT), UInt16(port).bigEndian)
        case .fwmark(let mark, let family):
            nla_put_u16(message, Int32(IPVS_SVC_ATTR_AF), Self.familyValue(family))
            nla_put_u32(message, Int32(IPVS_SVC_ATTR_FWMARK), mark)
        }
        if let settings {
            nla_put_string(message, Int32(IPVS_SVC_ATTR_SCHED_NAME), settings.scheduler.rawValue)
            var flags = ip_vs_flags(flags: Self.flags(settings), mask: ~UInt32(0))
            nla_put(message, Int32(IPVS_SVC_ATTR_FLAGS), Int32(MemoryLayout<ip_vs_flags>.size), &flags)
            nla_put_u32(message, Int32(IPVS_SVC_ATTR_TIMEOUT), UInt32(settings.persistenceTimeout ?? 0))
            let defaultMask: UInt32 = { if case .fwmark(_, .inet6) = key { return 128 }; if case .address(_, .v6, _) = key { return 128 }; return ~0 }()
            nla_put_u32(message, Int32(IPVS_SVC_ATTR_NETMASK), (settings.persistenceNetmask ?? defaultMask).bigEndianIfIPv4(key))
            if let engine = settings.persistenceEngine { nla_put_string(message, Int32(IPVS_SVC_ATTR_PE_NAME), engine) }
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

    func put(destination key: IPVSDestinationKey, settings: IPVSDestinationSettings?, into message: OpaquePointer) {
        let nest = nla_nest_start(message, Int32(IPVS_CMD_ATTR_DEST))
        var bytes = Self.addressBytes(key.address)
        nla_put(message, Int32(IPVS_DEST_ATTR_ADDR), Int32(bytes.count), &bytes)
        nla_put_u16(message, Int32(IPVS_DEST_ATTR_PORT), UInt16(key.port).bigEndian)
        nla_put_u16(message, Int32(IPVS_DEST_ATTR_ADDR_FAMILY), Self.familyValue(key.address.family))
        if let settings {
            let method: Int32
            switch settings.forwarding {
            case .nat: method = IP_VS_CONN_F_MASQ
            case .dr: method = IP_VS_CONN_F_DROUTE
            case .tun: method = IP_VS_CONN_F_TUNNEL
            }
            nla_put_u32(message, Int32(IPVS_DEST_ATTR_FWD_METHOD), UInt32(method))
            nla_put_u32(message, Int32(IPVS_DEST_ATTR_WEIGHT), UInt32(settings.weight))
            nla_put_u32(message, Int32(IPVS_DEST_ATTR_U_THRESH), UInt32(settings.upperThreshold))
            nla_put_u32(message, Int32(IPVS_DEST_ATTR_L_THRESH), UInt32(settings.lowerThreshold))
        }
        nla_nest_end(message, nest)
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
