import KeepalivedConfig

/// A virtual server as /metrics shows it: quorum, live weight, and each real server's health
/// and kernel weight, named in keepalived's notation as the checkers name them.
public struct VirtualServerMetrics: Sendable, Equatable {
    public struct RealServer: Sendable, Equatable {
        /// `[198.51.100.2]:tcp:80` (`[198.51.100.2]:80` under a firewall mark).
        public let name: String
        public let isUp: Bool
        /// The weight in the kernel (0 when inhibited); nil when not in the kernel table.
        public let weight: Int?
    }

    /// `[192.0.2.1]:tcp:80`, `FWM 7` or `[GROUP]:0`.
    public let name: String
    public let quorum: Int
    public let quorumLost: Bool
    /// The weight of the real servers that are up, which the quorum is held against.
    public let liveWeight: Int
    public let realServers: [RealServer]
}

extension IPVSRuntime {
    /// Every virtual server, in config order. Call on the loop.
    public var virtualServerMetrics: [VirtualServerMetrics] {
        if let metricsReport { return metricsReport }
        let report = buildMetricsReport()
        metricsReport = report
        return report
    }

    private func buildMetricsReport() -> [VirtualServerMetrics] {
        let isUp = isUp
        return configuration.virtualServers.enumerated().map { index, server in
            let name = Self.notation(of: server)
            let keys = DesiredTable.serviceKeys(server, groups: groups)
            let reals = server.realServers.enumerated().map { realIndex, real in
                let port = real.effectivePort(in: server)
                let weight = keys.first.flatMap { applied.services[$0.0]?.destinations[IPVSDestinationKey(address: real.address, port: port)]?.weight }
                let realName: String
                if case .fwmark = server.key {
                    realName = "[\(real.address)]:\(port)"
                } else {
                    realName = "[\(real.address)]:\(server.effectiveProtocol.rawValue.lowercased()):\(port)"
                }
                return VirtualServerMetrics.RealServer(name: realName, isUp: isUp(DesiredTable.RealServerID(virtualServer: index, realServer: realIndex)),
                                                       weight: weight)
            }
            return VirtualServerMetrics(name: name, quorum: server.quorum ?? 1, quorumLost: quorumLost[VirtualServerName(server)] == true,
                                        liveWeight: Quorum.liveWeight(of: server, index: index, isUp: isUp), realServers: reals)
        }
    }

    /// keepalived's notation for a virtual server, as the checkers' log lines and FIFO lines give it.
    static func notation(of server: VirtualServer) -> String {
        switch server.key {
        case .address(let address, let port): return "[\(address)]:\(server.effectiveProtocol.rawValue.lowercased()):\(port)"
        case .fwmark(let mark): return "FWM \(mark)"
        case .group(let group): return "[\(group)]:0"
        }
    }

    /// The kernel's counters for every service (see `IPVSNetlink.statistics`).
    public func kernelStatistics() throws -> IPVSStatistics {
        try netlink.statistics()
    }
}
