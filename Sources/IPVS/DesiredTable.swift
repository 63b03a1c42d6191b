import KeepalivedConfig

/// Turns the configuration, and the health of each real server, into the table the kernel should
/// hold. Pure: the same inputs give the same table.
public enum DesiredTable {
    /// Identifies a real server of a virtual server across reloads and health reports.
    public struct RealServerID: Sendable, Hashable {
        public var virtualServer: Int
        public var realServer: Int

        public init(virtualServer: Int, realServer: Int) {
            self.virtualServer = virtualServer
            self.realServer = realServer
        }
    }

    /// `isUp` says whether a real server currently passes its checks (every server, until the
    /// checkers say otherwise). `quorumLost` names the virtual servers whose quorum is lost.
    public static func build(_ configuration: KeepalivedConfiguration,
                             isUp: (RealServerID) -> Bool = { _ in true },
                             weight: (RealServerID) -> Int? = { _ in nil },
                             quorumLost: Set<Int> = []) -> IPVSTable {
        var table = IPVSTable()
        table.services.reserveCapacity(configuration.virtualServers.count)
        let groups = configuration.virtualServerGroupsByName
        for (index, server) in configuration.virtualServers.enumerated() {
            for (key, service) in services(of: server, index: index, groups: groups, isUp: isUp, weight: weight, quorumLost: quorumLost.contains(index)) {
                table.services[key] = service
            }
        }
        return table
    }

    /// The kernel services of one virtual server (several for a group), with their destinations.
    public static func services(of server: VirtualServer, index: Int, groups: [String: VirtualServerGroup],
                                isUp: (RealServerID) -> Bool, weight: (RealServerID) -> Int?,
                                quorumLost lost: Bool) -> [(IPVSServiceKey, IPVSService)] {
        let settings = serviceSettings(server)
        return serviceKeys(server, groups: groups).map { key, servicePort in
            var service = IPVSService(settings: settings)
            service.destinations.reserveCapacity(server.realServers.count + 1)
            for (realIndex, real) in server.realServers.enumerated() {
                let id = RealServerID(virtualServer: index, realServer: realIndex)
                let up = isUp(id) && !(lost && server.sorryServer != nil)
                let inhibit = real.effectiveInhibitOnFailure(in: server)
                guard up || inhibit else { continue }
                let destination = IPVSDestinationKey(address: real.address, port: real.effectivePort(in: server, servicePort: servicePort))
                service.destinations[destination] = IPVSDestinationSettings(
                    forwarding: real.effectiveForwardingMethod(in: server), weight: up ? (weight(id) ?? real.effectiveWeight) : 0,
                    upperThreshold: real.upperThreshold ?? 0, lowerThreshold: real.lowerThreshold ?? 0)
            }
            if let sorry = server.sorryServer, lost || server.sorryServerInhibit {
                let destination = IPVSDestinationKey(address: sorry.address, port: sorry.port ?? servicePort)
                service.destinations[destination] = IPVSDestinationSettings(
                    forwarding: server.sorryServerForwardingMethod ?? server.effectiveForwardingMethod, weight: lost ? 1 : 0)
            }
            return (key, service)
        }
    }

    static func serviceSettings(_ server: VirtualServer) -> IPVSServiceSettings {
        var netmask: UInt32?
        if let granularity = server.persistenceGranularity {
            if case .v4(let mask)? = IPAddress(granularity) { netmask = mask } else { netmask = UInt32(granularity) }
        }
        let timeout = server.persistenceTimeout.flatMap { $0 > 0 ? $0 : nil }
        return IPVSServiceSettings(scheduler: server.effectiveScheduler, persistenceTimeout: timeout,
                                   persistenceNetmask: timeout == nil ? nil : netmask, schedulerFlags: server.schedulerFlags,
                                   onePacketScheduling: server.onePacketScheduling, persistenceEngine: server.persistenceEngine)
    }

    /// Every kernel service a virtual server stands for, with the port real servers default to.
    public static func serviceKeys(_ server: VirtualServer, groups: [String: VirtualServerGroup]) -> [(IPVSServiceKey, Int)] {
        let proto = server.effectiveProtocol
        switch server.key {
        case .address(let address, let port):
            return [(.address(proto, address, port: port), port)]
        case .fwmark(let mark):
            let family = server.ipFamily ?? server.realServers.first?.address.family ?? .inet
            return [(.fwmark(mark, family), 0)]
        case .group(let name):
            var keys: [(IPVSServiceKey, Int)] = []
            for (entry, _) in groups[name]?.entries ?? [] {
                switch entry {
                case .range(let first, let last, let port):
                    let count = first.distance(to: last) ?? 0
                    for offset in 0...count {
                        guard let address = first.advanced(by: offset) else { break }
                        keys.append((.address(proto, address, port: port ?? 0), port ?? 0))
                    }
                case .fwmark(let mark, let family):
                    keys.append((.fwmark(mark, family ?? server.ipFamily ?? .inet), 0))
                }
            }
            return keys
        }
    }
}
