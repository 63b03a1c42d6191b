/// `vrrp_script NAME { }`: a command whose exit status moves priority or causes FAULT.
public struct VRRPScript: Sendable, Hashable {
    public var name: String
    public var location: SourceLocation
    public var script: ScriptCommand?
    public var interval: Double?
    public var timeout: Double?
    public var weight: Int?
    public var weightReverse = false
    public var rise: Int?
    public var fall: Int?
    public var initFail = false

    public static let defaultInterval = 1.0
    public static let defaultRise = 1
    public static let defaultFall = 1

    public init(name: String, location: SourceLocation) {
        self.name = name
        self.location = location
    }
}

/// An entry of `track_script`, `track_interface`: a name and the weight that overrides the default.
public struct TrackedItem: Sendable, Hashable {
    public var name: String
    public var weight: Int?
    public var reverse = false
    public var location: SourceLocation

    public init(name: String, weight: Int? = nil, reverse: Bool = false, location: SourceLocation) {
        self.name = name
        self.weight = weight
        self.reverse = reverse
        self.location = location
    }
}

/// The notify hooks shared by instances and sync groups.
public struct NotifyScripts: Sendable, Hashable {
    public var master: ScriptCommand?
    public var backup: ScriptCommand?
    public var fault: ScriptCommand?
    public var stop: ScriptCommand?
    public var any: ScriptCommand?

    public init() {}
}

/// `vrrp_sync_group NAME { group { … } }`: instances that change state together.
public struct VRRPSyncGroup: Sendable, Hashable {
    public var name: String
    public var location: SourceLocation
    public var members: [String] = []
    public var notify = NotifyScripts()
    public var smtpAlert: Bool?
    public var globalTracking = false
    public var trackScripts: [TrackedItem] = []
    public var trackInterfaces: [TrackedItem] = []
    public var trackFiles: [TrackedItem] = []
    public var trackProcesses: [TrackedItem] = []
    /// Written without `group { }` (the old syntax): warned about once.
    public var usesOldSyntax = false

    public init(name: String, location: SourceLocation) {
        self.name = name
        self.location = location
    }
}

public enum VRRPInitialState: String, Sendable, CaseIterable {
    case master = "MASTER"
    case backup = "BACKUP"
}

public enum VRRPAuthenticationType: String, Sendable, CaseIterable {
    case pass = "PASS"
    case ah = "AH"
}

public struct VRRPAuthentication: Sendable, Hashable {
    public var type: VRRPAuthenticationType?
    public var password: String?
    public var location: SourceLocation
}

public enum AddressScope: String, Sendable, CaseIterable {
    case global, site, link, host, nowhere
}

/// `use_ipvlan`'s settings.
public struct IPVLANSettings: Sendable, Hashable {
    /// IFLA_IPVLAN_FLAGS: bridge (0) lets the ipvlans of one interface talk to each other.
    public enum Mode: String, Sendable, CaseIterable {
        case bridge, `private`, vepa
    }

    public var name: String?
    /// Added to the ipvlan, and the adverts' source unless `unicast_src_ip` says otherwise.
    public var address: VirtualIPAddress?
    public var mode = Mode.bridge

    public init() {}
}

/// One line of `virtual_ipaddress` / `virtual_ipaddress_excluded`.
public struct VirtualIPAddress: Sendable, Hashable {
    public var address: IPAddress
    /// Nil when written without `/prefix`; the address is then added as a host address.
    public var prefixLength: Int?
    public var broadcast: IPAddress?
    public var device: String?
    public var label: String?
    public var scope: AddressScope?
    public var peer: IPAddress?
    public var noTrack = false
    public var location: SourceLocation

    public var effectivePrefixLength: Int { prefixLength ?? address.maximumPrefixLength }

    public init(address: IPAddress, prefixLength: Int? = nil, location: SourceLocation) {
        self.address = address
        self.prefixLength = prefixLength
        self.location = location
    }
}

public enum RouteType: String, Sendable, CaseIterable {
    case unicast, blackhole, unreachable, prohibit, `throw`
}

/// One gateway of a multipath route: a `nexthop` entry, or one of the two gateways of `via A or B`.
public struct RouteNexthop: Sendable, Hashable {
    public var via: IPAddress?
    public var device: String?
    /// 1-256, as `ip route` takes it; nil is the kernel's 1.
    public var weight: Int?
    public var onlink = false

    public init(via: IPAddress? = nil, device: String? = nil, weight: Int? = nil, onlink: Bool = false) {
        self.via = via
        self.device = device
        self.weight = weight
        self.onlink = onlink
    }
}

/// One line of `virtual_routes` or `static_routes`.
public struct VirtualRoute: Sendable, Hashable {
    public var type: RouteType = .unicast
    public var destination: IPPrefix
    /// The preferred source (`src`).
    public var source: IPAddress?
    public var via: IPAddress?
    public var device: String?
    public var scope: AddressScope?
    public var table: Int?
    public var metric: Int?
    public var tos: Int?
    /// `protocol` as written; it applies only with `no_track` (a tracked route carries keepalived's 18).
    public var protocolNumber: Int?
    public var onlink = false
    /// Multipath: `nexthop …` entries, or the two gateways of `via A or B`. Empty for one path.
    public var nexthops: [RouteNexthop] = []
    public var noTrack = false
    public var location: SourceLocation

    /// keepalived marks the routes it tracks with protocol 18 ("keepalived" in rt_protos).
    public static let keepalivedProtocol = 18

    /// The protocol the kernel gets: 18 unless the route is not tracked and names another.
    public var effectiveProtocol: Int { noTrack ? (protocolNumber ?? Self.keepalivedProtocol) : Self.keepalivedProtocol }
}

public struct UnicastPeer: Sendable, Hashable {
    public var address: IPAddress
    public var minTTL: Int?
    public var maxTTL: Int?
    public var location: SourceLocation
}

/// `vrrp_instance NAME { }`.
public struct VRRPInstance: Sendable, Hashable {
    public var name: String
    public var location: SourceLocation
    public var state: VRRPInitialState?
    public var interface: String?
    public var virtualRouterID: Int?
    public var priority: Int?
    public var advertInterval: Double?
    /// Where `advert_int` was written, for errors about its value that need the whole instance.
    public var advertIntervalLocation: SourceLocation?
    public var version: Int?
    /// `v3_checksum_as_v2`: VRRPv3 IPv4 checksums without the pseudo-header.
    public var checksumAsV2: Bool?
    /// `down_timer_adverts`: adverts missed before a backup takes over.
    public var downTimerAdverts: Int?
    public var authentication: VRRPAuthentication?
    public var virtualIPAddresses: [VirtualIPAddress] = []
    public var excludedIPAddresses: [VirtualIPAddress] = []
    public var virtualRoutes: [VirtualRoute] = []
    public var virtualRules: [RoutingRule] = []
    public var unicastSourceIP: IPAddress?
    public var unicastPeers: [UnicastPeer] = []
    public var multicastDestination: IPAddress?
    public var noPreempt = false
    public var preemptDelay: Double?
    public var trackInterfaces: [TrackedItem] = []
    public var trackScripts: [TrackedItem] = []
    public var trackFiles: [TrackedItem] = []
    public var trackProcesses: [TrackedItem] = []
    public var dontTrackPrimary = false
    /// keepalived's old way to ask for the IPVS sync daemons, tied to this instance; the loader
    /// moves it to global_defs' `lvsSyncDaemon`.
    public var lvsSyncDaemonInterface: String?
    /// `no_virtual_ipaddress`: an instance without addresses is meant (no warning; not under strict mode).
    public var allowsNoVirtualAddresses = false
    public var notify = NotifyScripts()
    public var smtpAlert: Bool?
    public var skipCheckAdvAddr: Bool?
    public var strictMode: Bool?
    public var accept: Bool?
    public var garpMasterDelay: Double?
    public var garpMasterRepeat: Int?
    public var garpMasterRefresh: Double?
    public var garpMasterRefreshRepeat: Int?
    /// `lower_prio_no_advert`: a master does not answer a lower priority's advert (RFC behaviour).
    public var lowerPrioNoAdvert: Bool?
    /// `use_vmac [NAME]`: the VIPs live on a macvlan with the virtual router's MAC. The name is
    /// NAME, or vmac_prefix (default "vrrp") + "." + the VRID.
    public var useVMAC = false
    public var vmacName: String?
    /// `vmac_xmit_base`: adverts leave from the base interface, not the macvlan.
    public var vmacTransmitsOnBase = false
    /// `use_ipvlan [NAME] [ADDRESS[/PREFIX]] [bridge|private|vepa]`: the VIPs live on an ipvlan
    /// (L2 mode) of the interface, named as use_vmac's macvlan is.
    public var ipvlan: IPVLANSettings?
    /// `higher_prio_send_advert`: a master sends one advert before yielding to a higher priority.
    public var higherPrioSendAdvert: Bool?
    public var garpLowerPrioDelay: Double?
    public var garpLowerPrioRepeat: Int?
    public var garpInterval: Double?
    public var gnaInterval: Double?

    public static let defaultPriority = 100
    public static let defaultAdvertInterval = 1.0

    public init(name: String, location: SourceLocation) {
        self.name = name
        self.location = location
    }

    public var effectivePriority: Int { priority ?? Self.defaultPriority }
    public var effectiveAdvertInterval: Double { advertInterval ?? Self.defaultAdvertInterval }

    /// use_vmac's or use_ipvlan's interface name, or nil without either.
    public func virtualMACInterface(_ globals: GlobalDefinitions) -> String? {
        guard useVMAC || ipvlan != nil else { return nil }
        if let name = useVMAC ? vmacName : ipvlan?.name { return name }
        let suffix = ".\(virtualRouterID ?? 0)"
        // keepalived shortens the prefix to fit IFNAMSIZ (15 characters).
        return String((globals.vmacPrefix ?? "vrrp").prefix(15 - suffix.count)) + suffix
    }

    /// Where multicast adverts go: `mcast_dst_ip`, else the family's global group (224.0.0.18, ff02::12).
    public func multicastGroup(_ globals: GlobalDefinitions) -> IPAddress {
        multicastDestination ?? globals.multicastGroup(family)
    }

    /// The VRRP version spoken: always 3 for IPv6, else the instance's, the global one, or 2.
    public func effectiveVersion(_ globals: GlobalDefinitions) -> Int {
        if family == .inet6 { return 3 }
        return version ?? globals.vrrpVersion ?? GlobalDefinitions.defaultVRRPVersion
    }

    /// The family the instance speaks, decided by its first virtual address (keepalived's rule),
    /// then by its unicast source, IPv4 otherwise.
    public var family: AddressFamily {
        virtualIPAddresses.first?.address.family ?? unicastSourceIP?.family ?? .inet
    }
}
