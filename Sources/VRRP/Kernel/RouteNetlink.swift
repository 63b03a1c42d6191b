#if canImport(Glibc)
import Glibc
#endif
import CLinuxNet
import CNetlink
import KeepalivedConfig
import DaemonCore

/// Adds and removes addresses, routes and (in RuleNetlink.swift) rules through rtnetlink with
/// libnl-route-3. All libnl pointers stay inside this type; callers see typed model values and
/// `SystemError`s.
public final class RouteNetlink: @unchecked Sendable {
    let socket: OpaquePointer

    public init() throws {
        guard let socket = nl_socket_alloc() else { throw SystemError("nl_socket_alloc", errno: ENOMEM) }
        let result = nl_connect(socket, NETLINK_ROUTE)
        guard result >= 0 else {
            nl_socket_free(socket)
            throw Self.error("nl_connect(NETLINK_ROUTE)", result)
        }
        self.socket = socket
    }

    deinit {
        nl_socket_free(socket)
    }

    static func error(_ function: String, _ code: Int32) -> SystemError {
        SystemError(function, code: code, detail: String(cString: nl_geterror(code)))
    }

    /// True when the kernel answered "already exists".
    public static func isExists(_ error: Error) -> Bool {
        (error as? SystemError).map { -$0.code == NLE_EXIST } ?? false
    }

    /// True when the kernel answered "no such address or route".
    public static func isMissing(_ error: Error) -> Bool {
        (error as? SystemError).map { -$0.code == NLE_NOADDR || -$0.code == NLE_OBJ_NOTFOUND } ?? false
    }

    static func netlinkAddress(_ address: IPAddress, prefixLength: Int? = nil) -> OpaquePointer? {
        let family = address.family == .inet ? AF_INET : AF_INET6
        let result = address.withNetworkBytes { nl_addr_build(family, $0.baseAddress, $0.count) }
        if let result, let prefixLength { nl_addr_set_prefixlen(result, Int32(prefixLength)) }
        return result
    }

    private static func scopeValue(_ scope: AddressScope) -> Int32 {
        switch scope {
        case .global: return Int32(RT_SCOPE_UNIVERSE.rawValue)
        case .site: return Int32(RT_SCOPE_SITE.rawValue)
        case .link: return Int32(RT_SCOPE_LINK.rawValue)
        case .host: return Int32(RT_SCOPE_HOST.rawValue)
        case .nowhere: return Int32(RT_SCOPE_NOWHERE.rawValue)
        }
    }

    // MARK: Addresses

    public func addAddress(_ vip: VirtualIPAddress, interfaceIndex: Int32) throws {
        try changeAddress(vip, interfaceIndex: interfaceIndex, add: true)
    }

    public func removeAddress(_ vip: VirtualIPAddress, interfaceIndex: Int32) throws {
        try changeAddress(vip, interfaceIndex: interfaceIndex, add: false)
    }

    private func changeAddress(_ vip: VirtualIPAddress, interfaceIndex: Int32, add: Bool) throws {
        guard let address = rtnl_addr_alloc() else { throw SystemError("rtnl_addr_alloc", errno: ENOMEM) }
        defer { rtnl_addr_put(address) }
        guard let local = Self.netlinkAddress(vip.address, prefixLength: vip.effectivePrefixLength) else {
            throw SystemError("nl_addr_build(\(vip.address))", errno: EINVAL)
        }
        defer { nl_addr_put(local) }
        rtnl_addr_set_ifindex(address, interfaceIndex)
        rtnl_addr_set_family(address, vip.address.family == .inet ? AF_INET : AF_INET6)
        rtnl_addr_set_local(address, local)
        rtnl_addr_set_prefixlen(address, Int32(vip.effectivePrefixLength))
        if let scope = vip.scope { rtnl_addr_set_scope(address, Self.scopeValue(scope)) }
        // A VIP moves between routers: duplicate address detection would hold it back (keepalived adds them so too).
        if vip.address.family == .inet6 && add { rtnl_addr_set_flags(address, UInt32(IFA_F_NODAD)) }
        if let label = vip.label { _ = rtnl_addr_set_label(address, label) }
        var extras: [OpaquePointer] = []
        defer { extras.forEach { nl_addr_put($0) } }
        if let broadcast = vip.broadcast, let value = Self.netlinkAddress(broadcast) {
            extras.append(value)
            rtnl_addr_set_broadcast(address, value)
        }
        if let peer = vip.peer, let value = Self.netlinkAddress(peer, prefixLength: vip.effectivePrefixLength) {
            extras.append(value)
            rtnl_addr_set_peer(address, value)
        }
        let result = add ? rtnl_addr_add(socket, address, 0) : rtnl_addr_delete(socket, address, 0)
        guard result >= 0 else { throw Self.error(add ? "add address \(vip.address)" : "delete address \(vip.address)", result) }
    }

    // MARK: Routes

    /// `interfaceIndex` is the route's `dev`, or the interface it goes to when it names none
    /// (nil: the kernel finds it from the gateway). Nexthops with their own `dev` use that.
    public func addRoute(_ route: VirtualRoute, interfaceIndex: Int32?) throws {
        try changeRoute(route, interfaceIndex: interfaceIndex, add: true)
    }

    public func removeRoute(_ route: VirtualRoute, interfaceIndex: Int32?) throws {
        try changeRoute(route, interfaceIndex: interfaceIndex, add: false)
    }

    /// The kernel's index of interface `name`.
    public static func interfaceIndex(_ name: String) throws -> Int32 {
        let index = if_nametoindex(name)
        guard index != 0 else { throw SystemError("if_nametoindex(\(name))", errno: errno) }
        return Int32(index)
    }

    private func changeRoute(_ model: VirtualRoute, interfaceIndex: Int32?, add: Bool) throws {
        guard let route = rtnl_route_alloc() else { throw SystemError("rtnl_route_alloc", errno: ENOMEM) }
        defer { rtnl_route_put(route) }
        let family = model.destination.address.family == .inet ? AF_INET : AF_INET6
        guard let destination = Self.netlinkAddress(model.destination.address, prefixLength: model.destination.length) else {
            throw SystemError("nl_addr_build(\(model.destination))", errno: EINVAL)
        }
        defer { nl_addr_put(destination) }
        _ = rtnl_route_set_family(route, UInt8(family))
        _ = rtnl_route_set_dst(route, destination)
        rtnl_route_set_table(route, UInt32(model.table ?? Int(RT_TABLE_MAIN.rawValue)))
        rtnl_route_set_protocol(route, UInt8(model.effectiveProtocol))
        if let metric = model.metric { rtnl_route_set_priority(route, UInt32(metric)) }
        if let tos = model.tos { rtnl_route_set_tos(route, UInt8(tos)) }
        if model.onlink { rtnl_route_set_flags(route, UInt32(RTNH_F_ONLINK)) }
        let type: UInt8
        switch model.type {
        case .unicast: type = UInt8(RTN_UNICAST)
        case .blackhole: type = UInt8(RTN_BLACKHOLE)
        case .unreachable: type = UInt8(RTN_UNREACHABLE)
        case .prohibit: type = UInt8(RTN_PROHIBIT)
        case .throw: type = UInt8(RTN_THROW)
        }
        _ = rtnl_route_set_type(route, type)
        if let scope = model.scope {
            rtnl_route_set_scope(route, UInt8(Self.scopeValue(scope)))
        } else {
            let linkScope = model.type == .unicast && model.via == nil && model.nexthops.allSatisfy { $0.via == nil }
            rtnl_route_set_scope(route, UInt8(linkScope ? RT_SCOPE_LINK.rawValue : RT_SCOPE_UNIVERSE.rawValue))
        }
        var extras: [OpaquePointer] = []
        defer { extras.forEach { nl_addr_put($0) } }
        if let source = model.source, let value = Self.netlinkAddress(source) {
            extras.append(value)
            _ = rtnl_route_set_pref_src(route, value)
        }
        guard model.type == .unicast else {
            return try send(route, add: add, what: "route \(model.destination)")
        }
        let hops = model.nexthops.isEmpty ? [RouteNexthop(via: model.via, device: model.device)] : model.nexthops
        for hop in hops {
            guard let next = rtnl_route_nh_alloc() else { throw SystemError("rtnl_route_nh_alloc", errno: ENOMEM) }
            // The route owns its nexthops once added (freed with it).
            rtnl_route_add_nexthop(route, next)
            let index = try hop.device.map(Self.interfaceIndex) ?? interfaceIndex
            if let index { rtnl_route_nh_set_ifindex(next, index) }
            if let via = hop.via, let gateway = Self.netlinkAddress(via) {
                extras.append(gateway)
                rtnl_route_nh_set_gateway(next, gateway)
            }
            // The kernel counts weights from 0 (`ip route` prints hops + 1).
            if let weight = hop.weight { rtnl_route_nh_set_weight(next, UInt8(weight - 1)) }
            if hop.onlink { rtnl_route_nh_set_flags(next, UInt32(RTNH_F_ONLINK)) }
        }
        try send(route, add: add, what: "route \(model.destination)")
    }

    /// Makes `address` local (or stops doing so) without putting it on an interface: a `local`
    /// route in the local table, as `ip route add local ADDRESS dev DEVICE table local proto P`.
    public func setLocalRoute(_ address: IPAddress, interfaceIndex: Int32, protocolNumber: Int, present: Bool) throws {
        guard let route = rtnl_route_alloc() else { throw SystemError("rtnl_route_alloc", errno: ENOMEM) }
        defer { rtnl_route_put(route) }
        guard let destination = Self.netlinkAddress(address, prefixLength: address.maximumPrefixLength) else {
            throw SystemError("nl_addr_build(\(address))", errno: EINVAL)
        }
        defer { nl_addr_put(destination) }
        _ = rtnl_route_set_family(route, UInt8(address.family == .inet ? AF_INET : AF_INET6))
        _ = rtnl_route_set_dst(route, destination)
        rtnl_route_set_table(route, UInt32(RT_TABLE_LOCAL.rawValue))
        rtnl_route_set_protocol(route, UInt8(protocolNumber))
        _ = rtnl_route_set_type(route, UInt8(RTN_LOCAL))
        rtnl_route_set_scope(route, UInt8(RT_SCOPE_HOST.rawValue))
        guard let next = rtnl_route_nh_alloc() else { throw SystemError("rtnl_route_nh_alloc", errno: ENOMEM) }
        rtnl_route_add_nexthop(route, next)
        rtnl_route_nh_set_ifindex(next, interfaceIndex)
        try send(route, add: present, what: "local route \(address)")
    }

    /// Removes every route of `table` that carries route protocol `protocolNumber` (IPv4 and
    /// IPv6) and returns each as `ip route` prints its destination: what a killed predecessor left.
    public func removeRoutes(table: Int, protocolNumber: Int) throws -> [String] {
        var cache: OpaquePointer?
        let result = rtnl_route_alloc_cache(socket, AF_UNSPEC, 0, &cache)
        guard result >= 0, let cache else { throw Self.error("dump routes", result) }
        defer { nl_cache_free(cache) }
        var removed: [String] = []
        var object = nl_cache_get_first(cache)
        while let route = object {
            object = nl_cache_get_next(route)
            guard rtnl_route_get_table(route) == UInt32(table), Int(rtnl_route_get_protocol(route)) == protocolNumber else { continue }
            let destination = Self.text(rtnl_route_get_dst(route))
            let deleted = rtnl_route_delete(socket, route, 0)
            guard deleted >= 0 else { throw Self.error("delete route \(destination)", deleted) }
            removed.append(destination)
        }
        return removed
    }

    /// `10.0.0.1/32`, as libnl prints an address with its prefix length.
    private static func text(_ address: OpaquePointer?) -> String {
        guard let address else { return "?" }
        var buffer = [CChar](repeating: 0, count: 128)
        return buffer.withUnsafeMutableBufferPointer { String(cString: nl_addr2str(address, $0.baseAddress, $0.count)) }
    }

    private func send(_ route: OpaquePointer, add: Bool, what: String) throws {
        let result = add ? rtnl_route_add(socket, route, NLM_F_CREATE) : rtnl_route_delete(socket, route, 0)
        guard result >= 0 else { throw Self.error(add ? "add \(what)" : "delete \(what)", result) }
    }
}
