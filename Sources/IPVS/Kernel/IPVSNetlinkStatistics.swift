#if canImport(Glibc)
import Glibc
#endif
import CNetlinkGenl

/// The kernel's counters for one service or one destination, as `ipvsadm -Ln --stats` shows them.
public struct IPVSCounters: Sendable, Equatable {
    public var connections: UInt64 = 0
    public var incomingPackets: UInt64 = 0
    public var outgoingPackets: UInt64 = 0
    public var incomingBytes: UInt64 = 0
    public var outgoingBytes: UInt64 = 0

    public init() {}
}

/// Every service's counters and its destinations' counters and connection gauges.
public struct IPVSStatistics: Sendable, Equatable {
    public struct Destination: Sendable, Equatable {
        public let key: IPVSDestinationKey
        public let counters: IPVSCounters
        public let activeConnections: UInt32
        public let inactiveConnections: UInt32
    }

    public struct Service: Sendable, Equatable {
        public let key: IPVSServiceKey
        public let counters: IPVSCounters
        public let destinations: [Destination]
    }

    public var services: [Service] = []

    public init(services: [Service] = []) {
        self.services = services
    }
}

extension IPVSNetlink {
    /// The counters of every service in the kernel's table and of its destinations, read when
    /// asked (one dump for the services, one per service for its destinations).
    public func statistics() throws -> IPVSStatistics {
        var services: [(IPVSServiceKey, IPVSCounters)] = []
        try dump(IPVS_CMD_GET_SERVICE, fill: { _ in }) { header in
            // The key and the counters only, with no array made per service: a scrape reads them all.
            let service = Self.withAttributes(header, nested: Int(IPVS_CMD_ATTR_SERVICE), maximum: Int(__IPVS_SVC_ATTR_MAX) - 1) { attrs in
                Self.serviceKey(attrs).map { ($0, Self.counters(attrs[Int(IPVS_SVC_ATTR_STATS64)], attrs[Int(IPVS_SVC_ATTR_STATS)])) }
            }
            if let service { services.append(service) }
        }
        var statistics = IPVSStatistics()
        for (key, counters) in services.sorted(by: { $0.0 < $1.0 }) {
            statistics.services.append(IPVSStatistics.Service(key: key, counters: counters, destinations: try destinationStatistics(of: key)))
        }
        return statistics
    }

    private func destinationStatistics(of service: IPVSServiceKey) throws -> [IPVSStatistics.Destination] {
        var destinations: [IPVSStatistics.Destination] = []
        try dump(IPVS_CMD_GET_DEST, fill: { IPVSRequest.put(service: service, settings: nil, into: &$0) }) { header in
            let destination = Self.withAttributes(header, nested: Int(IPVS_CMD_ATTR_DEST), maximum: Int(__IPVS_DEST_ATTR_MAX) - 1) { attrs in
                Self.destinationKey(attrs).map {
                    IPVSStatistics.Destination(key: $0, counters: Self.counters(attrs[Int(IPVS_DEST_ATTR_STATS64)], attrs[Int(IPVS_DEST_ATTR_STATS)]),
                                               activeConnections: Self.u32(attrs[Int(IPVS_DEST_ATTR_ACTIVE_CONNS)]) ?? 0,
                                               inactiveConnections: Self.u32(attrs[Int(IPVS_DEST_ATTR_INACT_CONNS)]) ?? 0)
                }
            }
            if let destination { destinations.append(destination) }
        }
        return destinations.sorted { $0.key < $1.key }
    }

    /// The 64-bit counters (kernels since 4.1), else the older set whose packet and connection
    /// counts are 32 bits wide.
    private static func counters(_ wide: UnsafeMutablePointer<nlattr>?, _ narrow: UnsafeMutablePointer<nlattr>?) -> IPVSCounters {
        let maximum = Int(__IPVS_STATS_ATTR_MAX) - 1
        return withUnsafeTemporaryAllocation(of: UnsafeMutablePointer<nlattr>?.self, capacity: maximum + 1) { inner in
            inner.initialize(repeating: nil)
            var counters = IPVSCounters()
            let isWide = wide != nil
            guard let nested = wide ?? narrow, nla_parse_nested(inner.baseAddress, Int32(maximum), nested, nil) >= 0 else { return counters }
            let u64 = { (index: Int) in inner[index].map { nla_get_u64($0) } ?? 0 }
            // The older set's connection and packet counts are 32 bits; its byte counts are not.
            let count = { (index: Int) in isWide ? u64(index) : UInt64(inner[index].map { nla_get_u32($0) } ?? 0) }
            counters.connections = count(Int(IPVS_STATS_ATTR_CONNS))
            counters.incomingPackets = count(Int(IPVS_STATS_ATTR_INPKTS))
            counters.outgoingPackets = count(Int(IPVS_STATS_ATTR_OUTPKTS))
            counters.incomingBytes = u64(Int(IPVS_STATS_ATTR_INBYTES))
            counters.outgoingBytes = u64(Int(IPVS_STATS_ATTR_OUTBYTES))
            return counters
        }
    }
}
