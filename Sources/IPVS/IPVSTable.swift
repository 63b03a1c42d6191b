import KeepalivedConfig

/// A kernel IPVS virtual service, keyed as the kernel keys it: protocol, address and port, or a
/// firewall mark and family.
public enum IPVSServiceKey: Sendable, Hashable, Comparable, CustomStringConvertible {
    case address(LVSProtocol, IPAddress, port: Int)
    case fwmark(UInt32, AddressFamily)

    /// keepalived's notation: `[10.0.0.1]:tcp:80`, `FWM 7`.
    public var description: String {
        switch self {
        case .address(let proto, let address, let port): return "[\(address)]:\(proto.rawValue.lowercased()):\(port)"
        case .fwmark(let mark, _): return "FWM \(mark)"
        }
    }

    public static func < (lhs: IPVSServiceKey, rhs: IPVSServiceKey) -> Bool {
        switch (lhs, rhs) {
        case (.address(let p1, let a1, let port1), .address(let p2, let a2, let port2)):
            return (a1, port1, p1.rawValue) < (a2, port2, p2.rawValue)
        case (.address, .fwmark): return true
        case (.fwmark, .address): return false
        case (.fwmark(let m1, let f1), .fwmark(let m2, let f2)): return (m1, f1.rawValue) < (m2, f2.rawValue)
        }
    }
}

/// What a service is configured with, apart from its destinations.
public struct IPVSServiceSettings: Sendable, Hashable {
    public var scheduler: LVSScheduler
    /// Persistence timeout in seconds; nil when not persistent.
    public var persistenceTimeout: Int?
    /// ipvsadm -M: an IPv4 netmask as a number, or an IPv6 prefix length.
    public var persistenceNetmask: UInt32?
    public var schedulerFlags: Set<String>
    public var onePacketScheduling: Bool
    public var persistenceEngine: String?

    public init(scheduler: LVSScheduler, persistenceTimeout: Int? = nil, persistenceNetmask: UInt32? = nil,
                schedulerFlags: Set<String> = [], onePacketScheduling: Bool = false, persistenceEngine: String? = nil) {
        self.scheduler = scheduler
        self.persistenceTimeout = persistenceTimeout
        self.persistenceNetmask = persistenceNetmask
        self.schedulerFlags = schedulerFlags
        self.onePacketScheduling = onePacketScheduling
        self.persistenceEngine = persistenceEngine
    }
}

/// A real server of a service, keyed by address and port.
public struct IPVSDestinationKey: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var address: IPAddress
    public var port: Int

    public init(address: IPAddress, port: Int) {
        self.address = address
        self.port = port
    }

    public var description: String { "[\(address)]:\(port)" }

    public static func < (lhs: IPVSDestinationKey, rhs: IPVSDestinationKey) -> Bool { (lhs.address, lhs.port) < (rhs.address, rhs.port) }
}

public struct IPVSDestinationSettings: Sendable, Hashable {
    public var forwarding: LVSForwardingMethod
    public var weight: Int
    public var upperThreshold: Int
    public var lowerThreshold: Int

    public init(forwarding: LVSForwardingMethod, weight: Int, upperThreshold: Int = 0, lowerThreshold: Int = 0) {
        self.forwarding = forwarding
        self.weight = weight
        self.upperThreshold = upperThreshold
        self.lowerThreshold = lowerThreshold
    }
}

public struct IPVSService: Sendable, Hashable {
    public var settings: IPVSServiceSettings
    public var destinations: [IPVSDestinationKey: IPVSDestinationSettings]

    public init(settings: IPVSServiceSettings, destinations: [IPVSDestinationKey: IPVSDestinationSettings] = [:]) {
        self.settings = settings
        self.destinations = destinations
    }
}

/// A whole IPVS table: what the kernel holds, or what the configuration and health want it to hold.
public struct IPVSTable: Sendable, Hashable {
    public var services: [IPVSServiceKey: IPVSService]

    public init(services: [IPVSServiceKey: IPVSService] = [:]) {
        self.services = services
    }
}
