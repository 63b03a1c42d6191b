public struct SMTPServer: Sendable, Hashable {
    public var host: String
    public var port: Int?

    public init(host: String, port: Int? = nil) {
        self.host = host
        self.port = port
    }

    public static let defaultPort = 25
}

/// The `global_defs { }` block.
public struct GlobalDefinitions: Sendable {
    public var location: SourceLocation?
    public var routerID: String?
    public var notificationEmail: [String] = []
    public var notificationEmailFrom: String?
    public var smtpServer: SMTPServer?
    public var smtpHeloName: String?
    public var smtpConnectTimeout: Double?
    public var smtpAlert: Bool?
    public var smtpAlertVRRP: Bool?
    public var smtpAlertChecker: Bool?
    public var vrrpSkipCheckAdvAddr: Bool?
    public var vrrpStrict: Bool?
    public var vrrpCheckUnicastSrc: Bool?
    public var vrrpGarpInterval: Double?
    public var vrrpGnaInterval: Double?
    public var vrrpGarpMasterDelay: Double?
    public var vrrpGarpMasterRepeat: Int?
    public var vrrpGarpMasterRefresh: Double?
    public var vrrpGarpMasterRefreshRepeat: Int?
    public var vrrpGarpLowerPrioDelay: Double?
    public var vrrpGarpLowerPrioRepeat: Int?
    public var vrrpVersion: Int?
    /// `v3_checksum_as_v2`: every VRRPv3 IPv4 instance's default.
    public var vrrpChecksumAsV2: Bool?
    /// `vmac_prefix`: the start of use_vmac's interface names (default "vrrp").
    public var vmacPrefix: String?
    /// `vrrp_lower_prio_no_advert` and `vrrp_higher_prio_send_advert`: every instance's defaults.
    public var vrrpLowerPrioNoAdvert: Bool?
    public var vrrpHigherPrioSendAdvert: Bool?
    /// `vrrp_down_timer_adverts`: every instance's default; 3 when unset.
    public var vrrpDownTimerAdverts: Int?
    public var vrrpMcastGroup4: IPAddress?
    public var vrrpMcastGroup6: IPAddress?
    public var enableScriptSecurity: Bool?
    public var scriptUser: ScriptCommand?
    public var dynamicInterfaces: Bool?
    /// Also set by an instance's old `lvs_sync_daemon_interface`.
    public var lvsSyncDaemon: LVSSyncDaemon?
    /// Where `lvs_sync_daemon` (or `lvs_sync_daemon_interface`) was written, for errors that
    /// need the whole file (its instance must exist).
    public var lvsSyncDaemonLocation: SourceLocation?
    public var lvsTimeouts: LVSTimeouts?
    /// `lvs_flush`: empty the whole IPVS table at start (not at a reload).
    public var lvsFlush: Bool?
    public var lvsFlushOnStop: LVSFlushOnStop?
    /// swiftkeepalived: while this file exists, every `announce_route` is withdrawn (maintenance).
    public var announceMaintenanceFile: String?
    /// Namespace, umask, start-up and shutdown scripts, notify FIFOs.
    public var process = ProcessSettings()

    public static let defaultSMTPConnectTimeout = 30.0
    public static let defaultGarpMasterDelay = 5.0
    public static let defaultGarpMasterRepeat = 5
    public static let defaultGarpMasterRefreshRepeat = 1
    public static let defaultVRRPVersion = 2
    public static let defaultMcastGroup4 = IPAddress("224.0.0.18")!
    public static let defaultMcastGroup6 = IPAddress("ff02::12")!

    /// The VRRP multicast group of `family`: vrrp_mcast_group4 or vrrp_mcast_group6, or its default.
    public func multicastGroup(_ family: AddressFamily) -> IPAddress {
        family == .inet6 ? vrrpMcastGroup6 ?? Self.defaultMcastGroup6 : vrrpMcastGroup4 ?? Self.defaultMcastGroup4
    }

    public init() {}
}
