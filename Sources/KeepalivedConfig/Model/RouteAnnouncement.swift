/// `announce_route { }` in a virtual_server, a swiftkeepalived extension for several active
/// directors behind ECMP routers: while the virtual server can serve (it has its quorum, its tied
/// VRRP instance is MASTER, the director is not in maintenance), a host route for each of its
/// addresses is kept in `table` with route protocol `protocolNumber`, for BIRD or FRR to
/// announce over BGP. The daemon itself never speaks BGP.
public struct RouteAnnouncement: Sendable, Hashable {
    /// Routing table of the routes (main unless named).
    public var table: Int?
    /// Route protocol the routes carry, so the routing daemon can pick them (and a restart can
    /// find a killed predecessor's).
    public var protocolNumber: Int?
    /// The routes' interface; `lo` unless named (a dummy interface is the other usual choice).
    public var device: String?
    /// Also make each address local from start to stop (IPVS needs the VIP local, in DR and NAT):
    /// a `local` route in the local table on `device`, not an interface address, so the director
    /// answers no ARP for it and routing daemons do not see it as a connected route.
    public var holdAddress = false
    /// Announce only while this VRRP instance is MASTER.
    public var vrrpInstance: String?
    /// Seconds the virtual server must keep being able to serve before its routes come back:
    /// withdrawal is at once, announcement waits, so a flapping pool does not flap the routers.
    public var upDelay: Double?
    /// Prefixes to announce instead of the virtual server's own addresses (a fwmark service has none).
    public var prefixes: [IPPrefix] = []
    public var location: SourceLocation

    public init(location: SourceLocation) {
        self.location = location
    }

    /// No number of the kernel, iproute2 or another routing daemon: `ip route show proto 250`
    /// lists these routes and nothing else.
    public static let defaultProtocol = 250
    public static let defaultTable = 254
    public static let defaultDevice = "lo"
    public static let defaultUpDelay = 3.0

    public var effectiveTable: Int { table ?? Self.defaultTable }
    public var effectiveProtocol: Int { protocolNumber ?? Self.defaultProtocol }
    public var effectiveDevice: String { device ?? Self.defaultDevice }
    public var effectiveUpDelay: Double { upDelay ?? Self.defaultUpDelay }
}

extension VirtualServer {
    /// What `announce_route` announces: its `prefix` lines, else a host route (/32, /128) for
    /// each address of the virtual server or of its group (fwmark entries have none).
    public func announcedPrefixes(groups: [String: VirtualServerGroup]) -> [IPPrefix] {
        guard let announcement else { return [] }
        if !announcement.prefixes.isEmpty { return announcement.prefixes }
        func host(_ address: IPAddress) -> IPPrefix { IPPrefix(address: address, length: address.maximumPrefixLength) }
        switch key {
        case .address(let address, _): return [host(address)]
        case .fwmark: return []
        case .group(let name):
            var prefixes: [IPPrefix] = []
            for (entry, _) in groups[name]?.entries ?? [] {
                guard case .range(let first, let last, _) = entry, let count = first.distance(to: last) else { continue }
                for offset in 0...count { first.advanced(by: offset).map { prefixes.append(host($0)) } }
            }
            return prefixes
        }
    }
}

extension RouteAnnouncement {
    /// The kernel route that announces `prefix`: `prefix dev DEVICE table T proto P scope link`.
    public func route(for prefix: IPPrefix) -> VirtualRoute {
        var route = VirtualRoute(destination: prefix, location: location)
        route.device = effectiveDevice
        route.table = effectiveTable
        route.protocolNumber = effectiveProtocol
        // Not one of VRRP's tracked routes: it keeps the protocol written here.
        route.noTrack = true
        return route
    }

    /// Whether `hold_address` makes `prefix` local: host prefixes only (a wider one names a
    /// network, not an address the director answers on).
    public func holdsLocally(_ prefix: IPPrefix) -> Bool {
        holdAddress && prefix.length == prefix.address.maximumPrefixLength
    }
}
