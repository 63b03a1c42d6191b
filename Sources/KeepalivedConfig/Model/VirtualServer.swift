public enum LVSScheduler: String, Sendable, CaseIterable {
    case rr, wrr, lc, wlc, lblc, lblcr, dh, sh, sed, nq, mh, fo, ovf, twos
}

public enum LVSForwardingMethod: String, Sendable, CaseIterable {
    case nat = "NAT"
    case dr = "DR"
    case tun = "TUN"
}

public enum LVSProtocol: String, Sendable, CaseIterable {
    case tcp = "TCP"
    case udp = "UDP"
    case sctp = "SCTP"
}

/// How a virtual server is named: by address and port, by firewall mark, or by a group.
public enum VirtualServerKey: Sendable, Hashable, CustomStringConvertible {
    case address(IPAddress, port: Int)
    case fwmark(UInt32)
    case group(String)

    public var description: String {
        switch self {
        case .address(let address, let port):
            return address.family == .inet6 ? "[\(address)]:\(port)" : "\(address):\(port)"
        case .fwmark(let mark): return "fwmark \(mark)"
        case .group(let name): return "group \(name)"
        }
    }
}

/// One line of a `virtual_server_group`: an address range with a port, or a firewall mark.
public enum VirtualServerGroupEntry: Sendable, Hashable {
    /// `first` through `last` inclusive (equal for a single address).
    case range(first: IPAddress, last: IPAddress, port: Int?)
    case fwmark(UInt32, family: AddressFamily?)
}

public struct VirtualServerGroup: Sendable {
    public var name: String
    public var location: SourceLocation
    public var entries: [(entry: VirtualServerGroupEntry, location: SourceLocation)] = []

    public init(name: String, location: SourceLocation) {
        self.name = name
        self.location = location
    }
}

/// Health-check timing, settable on a virtual server, a real server or a checker; each level
/// falls back to the one above, then to keepalived's defaults.
///
/// Stored as bit patterns with an "unset" sentinel rather than five optionals: a large config has
/// one of these per real server and per checker, and this halves their size.
public struct CheckTiming: Sendable, Hashable {
    private static let unset = UInt64.max
    private var delayLoopBits = unset
    private var connectTimeoutBits = unset
    private var delayBeforeRetryBits = unset
    private var warmupBits = unset
    private var retryValue: Int32 = -1

    public init() {}

    private static func get(_ bits: UInt64) -> Double? { bits == unset ? nil : Double(bitPattern: bits) }
    private static func bits(_ value: Double?) -> UInt64 { value.map(\.bitPattern) ?? unset }

    public var delayLoop: Double? {
        get { Self.get(delayLoopBits) }
        set { delayLoopBits = Self.bits(newValue) }
    }
    public var connectTimeout: Double? {
        get { Self.get(connectTimeoutBits) }
        set { connectTimeoutBits = Self.bits(newValue) }
    }
    public var delayBeforeRetry: Double? {
        get { Self.get(delayBeforeRetryBits) }
        set { delayBeforeRetryBits = Self.bits(newValue) }
    }
    public var warmup: Double? {
        get { Self.get(warmupBits) }
        set { warmupBits = Self.bits(newValue) }
    }
    /// Retries are at most 1000 (the parser's bound), so 32 bits hold them.
    public var retry: Int? {
        get { retryValue < 0 ? nil : Int(retryValue) }
        set { retryValue = newValue.map { Int32(clamping: $0) } ?? -1 }
    }

    /// Each field from `self`, else from `fallback`.
    public func overriding(_ fallback: CheckTiming) -> CheckTiming {
        var merged = self
        if delayLoopBits == Self.unset { merged.delayLoopBits = fallback.delayLoopBits }
        if connectTimeoutBits == Self.unset { merged.connectTimeoutBits = fallback.connectTimeoutBits }
        if delayBeforeRetryBits == Self.unset { merged.delayBeforeRetryBits = fallback.delayBeforeRetryBits }
        if warmupBits == Self.unset { merged.warmupBits = fallback.warmupBits }
        if retryValue < 0 { merged.retryValue = fallback.retryValue }
        return merged
    }
}

/// `real_server ADDRESS [PORT] { }`.
public struct RealServer: Sendable {
    public var address: IPAddress
    /// Nil when the port was left out: the virtual server's port applies.
    public var port: Int?
    public var location: SourceLocation
    public var weight: Int?
    public var forwardingMethod: LVSForwardingMethod?
    public var inhibitOnFailure: Bool?
    public var notifyUp: ScriptCommand?
    public var notifyDown: ScriptCommand?
    public var upperThreshold: Int?
    public var lowerThreshold: Int?
    public var smtpAlert: Bool?
    public var virtualhost: String?
    public var alpha: Bool?
    public var timing = CheckTiming()
    public var checkers: [HealthChecker] = []

    public static let defaultWeight = 1

    public init(address: IPAddress, port: Int?, location: SourceLocation) {
        self.address = address
        self.port = port
        self.location = location
    }

    public var effectiveWeight: Int { weight ?? Self.defaultWeight }
}

/// `virtual_server … { }`.
public struct VirtualServer: Sendable {
    public var key: VirtualServerKey
    public var location: SourceLocation
    public var scheduler: LVSScheduler?
    public var forwardingMethod: LVSForwardingMethod?
    public var protocolName: LVSProtocol?
    public var persistenceTimeout: Int?
    public var persistenceGranularity: String?
    public var persistenceEngine: String?
    public var ipFamily: AddressFamily?
    public var schedulerFlags: Set<String> = []
    public var onePacketScheduling = false
    public var haSuspend = false
    public var alpha = false
    public var omega = false
    public var quorum: Int?
    public var hysteresis: Int?
    public var quorumUp: ScriptCommand?
    public var quorumDown: ScriptCommand?
    public var virtualhost: String?
    public var smtpAlert: Bool?
    public var sorryServer: (address: IPAddress, port: Int?)?
    public var sorryServerInhibit = false
    public var sorryServerForwardingMethod: LVSForwardingMethod?
    public var inhibitOnFailure: Bool?
    public var timing = CheckTiming()
    public var realServers: [RealServer] = []
    /// swiftkeepalived's `announce_route` (nil: the virtual server announces nothing).
    public var announcement: RouteAnnouncement?

    public static let defaultScheduler = LVSScheduler.wlc
    public static let defaultForwardingMethod = LVSForwardingMethod.nat
    /// keepalived's choice when `protocol` is missing; see the README for why we keep it.
    public static let defaultProtocol = LVSProtocol.tcp
    public static let defaultPersistenceTimeout = 360
    public static let defaultQuorum = 1
    public static let defaultHysteresis = 0

    public init(key: VirtualServerKey, location: SourceLocation) {
        self.key = key
        self.location = location
    }

    public var effectiveScheduler: LVSScheduler { scheduler ?? Self.defaultScheduler }
    public var effectiveForwardingMethod: LVSForwardingMethod { forwardingMethod ?? Self.defaultForwardingMethod }
    public var effectiveProtocol: LVSProtocol { protocolName ?? Self.defaultProtocol }
}
