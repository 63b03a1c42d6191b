import KeepalivedConfig

/// An instance as /metrics shows it: the state dump's report, and what keepalived's data dump
/// adds that the exporter's labels and values come from.
public struct VRRPInstanceMetrics: Sendable {
    /// A virtual address as keepalived writes it: the address, `/prefix` unless a host address,
    /// and the interface it goes on.
    public struct Address: Sendable, Equatable {
        public let address: String
        public let device: String
    }

    public let report: VRRPInstanceReport
    /// keepalived's number for the state: 0 INIT, 1 BACKUP, 2 MASTER, 3 FAULT, 98 STOP.
    public let stateNumber: Int
    public let virtualAddresses: [Address]
    public let excludedAddresses: [Address]
    /// `garp_master_delay` in force, in seconds.
    public let garpDelay: Double
}

/// A `vrrp_script` as /metrics shows it.
public struct TrackedScriptMetrics: Sendable, Equatable {
    public let name: String
    public let isOK: Bool
    public let isRunning: Bool
}

extension VRRPState {
    /// keepalived's VRRP_STATE_* numbers, as its JSON dump and the exporter give them.
    public var keepalivedNumber: Int {
        switch self {
        case .initialize: return 0
        case .backup: return 1
        case .master: return 2
        case .fault: return 3
        case .stopped: return 98
        }
    }
}

extension VRRPRuntime {
    /// Every instance, in config order, and every tracked script, by name. Call on the loop.
    public var metricsReport: (instances: [VRRPInstanceMetrics], scripts: [TrackedScriptMetrics]) {
        let instances = zip(instanceRuntimes, report).map { instance, report in
            let device = instance.config.interface ?? ""
            let addresses = { (list: [VirtualIPAddress]) in
                list.map { vip in
                    let prefix = vip.effectivePrefixLength == vip.address.maximumPrefixLength ? "" : "/\(vip.effectivePrefixLength)"
                    return VRRPInstanceMetrics.Address(address: "\(vip.address)\(prefix)", device: vip.device ?? device)
                }
            }
            return VRRPInstanceMetrics(report: report, stateNumber: instance.machine.state.keepalivedNumber,
                                       virtualAddresses: addresses(instance.config.virtualIPAddresses),
                                       excludedAddresses: addresses(instance.config.excludedIPAddresses),
                                       garpDelay: instance.garp.delay)
        }
        let scripts = trackedScripts.values.sorted { $0.config.name < $1.config.name }.map {
            TrackedScriptMetrics(name: $0.config.name, isOK: $0.isOK, isRunning: $0.isRunning)
        }
        return (instances, scripts)
    }
}
