import KeepalivedConfig

/// One instance as the state dumps (SIGUSR1, SIGUSR2, SIGJSON) show it.
public struct VRRPInstanceReport: Sendable, Codable {
    public let name: String
    public let state: String
    public let interface: String
    public let virtualRouterID: Int
    public let configuredPriority: Int
    public let effectivePriority: Int
    public let virtualAddresses: [String]
    public let advertisementsReceived: Int
    public let advertisementsSent: Int
    public let priorityZeroReceived: Int
    public let priorityZeroSent: Int
    public let gratuitousARPsSent: Int
    public let sendErrors: Int
    /// Adverts refused, by reason (TTL, authentication, interval, address list…).
    public let rejected: [String: Int]
}

extension VRRPRuntime {
    /// Every instance, in config order. Call on the loop.
    public var report: [VRRPInstanceReport] {
        instanceRuntimes.map { instance in
            let statistics = instance.statistics
            return VRRPInstanceReport(
                name: instance.config.name, state: instance.machine.state.rawValue, interface: instance.config.interface ?? "",
                virtualRouterID: Int(instance.virtualRouterID), configuredPriority: instance.config.effectivePriority,
                effectivePriority: instance.machine.priority,
                virtualAddresses: instance.config.virtualIPAddresses.map { "\($0.address)" + ($0.prefixLength.map { "/\($0)" } ?? "") },
                advertisementsReceived: statistics.advertisementsReceived, advertisementsSent: statistics.advertisementsSent,
                priorityZeroReceived: statistics.priorityZeroReceived, priorityZeroSent: statistics.priorityZeroSent,
                gratuitousARPsSent: statistics.gratuitousARPsSent, sendErrors: statistics.sendErrors, rejected: statistics.rejected)
        }
    }
}
