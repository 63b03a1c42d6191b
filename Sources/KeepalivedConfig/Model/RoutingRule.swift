/// What a routing policy rule does with the packets it matches.
public enum RuleAction: Sendable, Hashable {
    /// `table N` / `lookup N`.
    case table(Int)
    /// `goto N`: continue at the rule with that preference.
    case goto(Int)
    case nop
    case blackhole
    case unreachable
    case prohibit
}

/// One line of `static_rules` or `virtual_rules`: an `ip rule`, in its words.
public struct RoutingRule: Sendable, Hashable {
    public var family: AddressFamily = .inet
    /// `not`: the rule matches what its selectors do not.
    public var invert = false
    /// `from`; nil is `from all`.
    public var from: IPPrefix?
    public var to: IPPrefix?
    /// `preference` / `priority` / `order` as written.
    public var preference: Int?
    /// The preference keepalived gives a rule written without one (16384 downwards, per family,
    /// in the order the rules are read), with a warning.
    public var assignedPreference: Int?
    public var tos: Int?
    public var fwmark: UInt32?
    public var fwmask: UInt32?
    /// `iif` / `dev`.
    public var inputInterface: String?
    public var outputInterface: String?
    /// `protocol` as written; it applies only with `no_track` (a tracked rule carries keepalived's 18).
    public var protocolNumber: Int?
    /// `ipproto`: the IP protocol number.
    public var ipProtocol: Int?
    public var sourcePorts: ClosedRange<Int>?
    public var destinationPorts: ClosedRange<Int>?
    public var uidRange: ClosedRange<UInt32>?
    public var suppressPrefixLength: Int?
    public var suppressInterfaceGroup: Int?
    /// `realms`: destination realm in the low 16 bits, source realm in the high 16.
    public var realms: UInt32?
    public var tunnelID: UInt64?
    public var l3mdev = false
    public var action: RuleAction
    public var noTrack = false
    public var location: SourceLocation

    public init(action: RuleAction, location: SourceLocation) {
        self.action = action
        self.location = location
    }

    /// The first preference keepalived hands out to rules written without one.
    public static let firstAssignedPreference = 16384

    public var effectivePreference: Int { preference ?? assignedPreference ?? Self.firstAssignedPreference }

    /// The protocol the kernel gets: 18 unless the rule is not tracked (then the one written, or none).
    public var effectiveProtocol: Int? { noTrack ? protocolNumber : VirtualRoute.keepalivedProtocol }
}
