/// Everything a keepalived.conf says, typed. Optional fields were not written in the file; their
/// `effective…` companions (or the documented defaults) say what applies instead.
public struct KeepalivedConfiguration: Sendable {
    public var globalDefs = GlobalDefinitions()
    public var vrrpScripts: [VRRPScript] = []
    public var trackFiles: [TrackFile] = []
    public var trackProcesses: [TrackProcess] = []
    public var syncGroups: [VRRPSyncGroup] = []
    public var vrrpInstances: [VRRPInstance] = []
    public var virtualServerGroups: [VirtualServerGroup] = []
    public var virtualServers: [VirtualServer] = []
    public var ssl: SSLSettings?
    /// `static_ipaddress`, `static_routes`, `static_rules`: set by the VRRP part for as long as it
    /// runs, whatever the instances' states.
    public var staticAddresses: [VirtualIPAddress] = []
    public var staticRoutes: [VirtualRoute] = []
    public var staticRules: [RoutingRule] = []

    public init() {}

    /// keepalived runs its VRRP process for instances and for static addresses, routes or rules.
    public var hasVRRPConfiguration: Bool {
        !vrrpInstances.isEmpty || !staticAddresses.isEmpty || !staticRoutes.isEmpty || !staticRules.isEmpty
    }

    /// `virtual_server group NAME` looks groups up by name; the first of a duplicated name wins.
    public var virtualServerGroupsByName: [String: VirtualServerGroup] {
        Dictionary(virtualServerGroups.map { ($0.name, $0) }) { first, _ in first }
    }
}

/// A command a script keyword names (`notify_master`, `misc_path`, `script`, `quorum_up`, …):
/// the command line as written and, optionally, the user and group to run it as.
public struct ScriptCommand: Sendable, Hashable {
    public var command: String
    public var user: String?
    public var group: String?

    public init(command: String, user: String? = nil, group: String? = nil) {
        self.command = command
        self.user = user
        self.group = group
    }
}

/// The global `SSL { }` block used by SSL_GET checkers.
public struct SSLSettings: Sendable, Hashable {
    public var location: SourceLocation
    public var password: String?
    public var ca: String?
    public var certificate: String?
    public var key: String?

    public init(location: SourceLocation) {
        self.location = location
    }
}
