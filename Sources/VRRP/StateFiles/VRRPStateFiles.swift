import DaemonCore
import KeepalivedConfig

/// keepalived 2.2.7's VRRP state files, line for line where we have the value: keepalived.data
/// (SIGUSR1), keepalived.stats (SIGUSR2, STATS_CLEAR) and keepalived.json (SIGJSON). Exporters
/// such as keepalived-exporter parse them; lines about things we do not have (file descriptors,
/// the socket pool, the interface list) are left out.
public enum VRRPStateFiles {
    /// keepalived's state numbers (vrrp.h), used in keepalived.json.
    public static func stateNumber(_ state: String) -> Int {
        switch state {
        case "BACKUP": return 1
        case "MASTER": return 2
        case "FAULT": return 3
        case "STOP": return 98
        default: return 0
        }
    }

    // MARK: keepalived.data

    /// keepalived.data: the global definitions that concern VRRP, then the VRRP sections.
    public static func data(_ instances: [VRRPInstanceReport], scripts: [VRRPScriptReport],
                            syncGroups: [VRRPSyncGroupReport] = [], globals: GlobalDefinitions? = nil,
                            moreGlobalLines: [String] = []) -> String {
        var lines = globals.map(globalLines) ?? []
        // Lines of the section other parts know (the IPVS sync daemons and timeouts).
        if globals != nil { lines += moreGlobalLines }
        if !instances.isEmpty { lines.append("------< VRRP Topology >------") }
        for instance in instances { lines += dataLines(instance) }
        lines += socketPoolLines(instances)
        if !syncGroups.isEmpty {
            lines.append("------< VRRP Sync groups >------")
            for group in syncGroups { lines += dataLines(group) }
        }
        if !scripts.isEmpty {
            lines.append("------< VRRP Scripts >------")
            for script in scripts { lines += dataLines(script) }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The part of keepalived's Global definitions section we have values for, with
    /// keepalived's defaults where the config says nothing.
    static func globalLines(_ globals: GlobalDefinitions) -> [String] {
        let process = globals.process
        let delay = globals.vrrpGarpMasterDelay ?? GlobalDefinitions.defaultGarpMasterDelay
        let repeatCount = globals.vrrpGarpMasterRepeat ?? GlobalDefinitions.defaultGarpMasterRepeat
        let umask = String(process.effectiveUmask, radix: 8)
        return [
            "------< Global definitions >------",
            " Network namespace = \(process.netNamespace ?? "(default)")",
            " Router ID = \(globals.routerID ?? HostInfo.shortHostName)",
            " Dynamic interfaces = \(globals.dynamicInterfaces ?? false)",
            " FIFO write vrrp states on reload = \(process.fifoWriteVRRPStatesOnReload ?? false)",
            " VRRP IPv4 mcast group = \(globals.multicastGroup(.inet))",
            " VRRP IPv6 mcast group = \(globals.multicastGroup(.inet6))",
            " Gratuitous ARP delay = \(Int(delay))",
            " Gratuitous ARP repeat = \(repeatCount)",
            " Gratuitous ARP refresh timer = \(Int(globals.vrrpGarpMasterRefresh ?? 0))",
            " Gratuitous ARP refresh repeat = \(globals.vrrpGarpMasterRefreshRepeat ?? GlobalDefinitions.defaultGarpMasterRefreshRepeat)",
            " Gratuitous ARP lower priority delay = \(Int(globals.vrrpGarpLowerPrioDelay ?? delay))",
            " Gratuitous ARP lower priority repeat = \(globals.vrrpGarpLowerPrioRepeat ?? repeatCount)",
            " Num adverts before down = 3",
            " Send advert after receive lower priority advert = true",
            " Send advert after receive higher priority advert = false",
            " Gratuitous ARP interval = \(WallClock.timevalText(globals.vrrpGarpInterval ?? 0))",
            " Gratuitous NA interval = \(WallClock.timevalText(globals.vrrpGnaInterval ?? 0))",
            " VRRP default protocol version = \(globals.vrrpVersion ?? GlobalDefinitions.defaultVRRPVersion)",
            " VRRP check unicast_src = \(globals.vrrpCheckUnicastSrc ?? false)",
            " VRRP skip check advert addresses = \(globals.vrrpSkipCheckAdvAddr ?? false)",
            " VRRP strict mode = \(globals.vrrpStrict ?? false)",
            " Script security \(globals.enableScriptSecurity == true ? "enabled" : "disabled")",
            " umask = \(String(repeating: "0", count: max(0, 4 - umask.count)) + umask)",
        ]
    }

    static func dataLines(_ instance: VRRPInstanceReport) -> [String] {
        let details = instance.details
        var lines = [" VRRP Instance = \(instance.name)", "   VRRP Version = \(details.version)"]
        if let group = details.syncGroup { lines.append("   Sync group = \(group)") }
        lines.append("   State = \(instance.state)")
        if instance.state == "BACKUP" {
            lines.append("   Master router = \(details.masterRouter ?? "0.0.0.0")")
            lines.append("   Master priority = \(details.masterPriority)")
        }
        if details.multicastGroup == nil {
            lines += ["   Flags:", "     Using unicast"]
        } else {
            lines.append("   Flags: none")
        }
        lines.append("   Wantstate = \(details.wantState)")
        lines.append("   Number of config faults = 0")
        lines.append("   Number of interface and track script faults = \(instance.state == "FAULT" ? 1 : 0)")
        lines.append("   Number of track scripts init = 0")
        lines.append("   Last transition = \(timeText(details.lastTransition))")
        lines.append("   Read timeout = \(details.readTimeout.map(timeText) ?? "DISABLED")")
        lines.append("   Master down timer = \(details.masterDownTimerMicroseconds) usecs")
        lines.append("   Interface = \(instance.interface.isEmpty ? "not configured" : instance.interface)")
        if details.dontTrackPrimary { lines.append("   VRRP interface tracking disabled") }
        if details.skipCheckAdvertAddresses { lines.append("   Skip checking advert IP addresses") }
        if details.strict { lines.append("   Enforcing strict VRRP compliance") }
        lines.append("   Using src_ip = \(details.sourceAddress)\(details.sourceFromConfiguration ? " (from configuration)" : "")")
        if let group = details.multicastGroup { lines.append("   Multicast address \(group)") }
        lines += [
            "   Gratuitous ARP delay = \(Int(details.garpDelay))",
            "   Gratuitous ARP repeat = \(details.garpRepeat)",
            "   Gratuitous ARP refresh = \(Int(details.garpRefresh))",
            "   Gratuitous ARP refresh repeat = \(details.garpRefreshRepeat)",
            "   Gratuitous ARP lower priority delay = \(Int(details.garpLowerPriorityDelay))",
            "   Gratuitous ARP lower priority repeat = \(details.garpLowerPriorityRepeat)",
            "   Down timer adverts = \(details.downTimerAdverts)",
            "   Send advert after receive lower priority advert = \(!details.lowerPriorityNoAdvert)",
            "   Send advert after receive higher priority advert = \(details.higherPrioritySendAdvert)",
            "   Virtual Router ID = \(instance.virtualRouterID)",
            "   Priority = \(instance.configuredPriority)",
            "   Effective priority = \(instance.effectivePriority)",
            "   Total priority = \(instance.effectivePriority)",
            "   Advert interval = \(Int(details.advertInterval)) sec",
            "   Accept = \(details.accept ? "enabled" : "disabled")",
            "   Preempt = \(details.preempt ? "enabled" : "disabled")",
        ]
        if details.preemptDelay > 0 { lines.append("   Preempt delay = \(KeepalivedJSON.float(details.preemptDelay).text) secs") }
        lines.append("   Promote_secondaries = \(details.promoteSecondaries ? "enabled" : "disabled")")
        switch details.authenticationType {
        case 1:
            lines.append("   Authentication type = SIMPLE_PASSWORD")
            lines.append("   Password = \(details.password ?? "")")
        case 2: lines.append("   Authentication type = IPSEC_AH")
        default: lines.append("   Authentication type = none")
        }
        lines += list("Virtual IP (\(details.virtualAddresses.count)):", details.virtualAddresses)
        lines += list("Virtual IP Excluded :", details.excludedAddresses)
        if details.multicastGroup == nil {
            lines += ["   Check unicast src : no", "   Unicast Peer :"]
            lines += details.unicastPeers.map { "     \($0) min_ttl 0 max_ttl 255" }
        }
        if let socket = details.socketDescriptor {
            lines.append("   fd_in \(socket), fd_out \(socket)")
        } else {
            lines.append("   No sockets allocated")
        }
        lines += list("Virtual Routes :", details.virtualRoutes)
        lines += list("Virtual Rules :", details.virtualRules)
        lines += list("Tracked interfaces :", details.trackedInterfaces.map(\.dataFileEntry))
        lines += list("Tracked scripts :", details.trackedScripts.map(\.dataFileEntry))
        lines.append("   Using smtp notification = \(details.smtpAlert ? "yes" : "no")")
        lines.append("   Notify deleted = Fault")
        lines += details.notifyScripts.map { "   \($0.kind) state transition script = \($0.command), uid:gid 0:0" }
        lines.append("   Notify priority changes = false")
        return lines
    }

    /// keepalived's list in a data file: its header, then an indented line per entry; nothing at
    /// all for an empty list.
    static func list(_ header: String, _ entries: [String]) -> [String] {
        entries.isEmpty ? [] : ["   \(header)"] + entries.map { "     \($0)" }
    }

    /// The sockets and the instances on each, by VRID.
    static func socketPoolLines(_ instances: [VRRPInstanceReport]) -> [String] {
        var lines: [String] = []
        var seen: Set<Int> = []
        for instance in instances {
            guard let socket = instance.details.socketDescriptor, seen.insert(socket).inserted else { continue }
            if lines.isEmpty { lines.append("------< VRRP Sockpool >------") }
            let sharing = instances.filter { $0.details.socketDescriptor == socket }.sorted { $0.virtualRouterID < $1.virtualRouterID }
            lines += [" fd_in \(socket) fd_out = \(socket)", "   Interface = \(instance.interface)", "   Family = IPv4",
                      "   Protocol = VRRP", "   Type = \(instance.details.multicastGroup == nil ? "Unicast" : "Multicast")",
                      "   Rx buf size = 0", "   VRRP instances"]
            lines += sharing.map { "     \($0.name) vrid \($0.virtualRouterID)" }
        }
        return lines
    }

    static func dataLines(_ group: VRRPSyncGroupReport) -> [String] {
        var lines = [" VRRP Sync Group = \(group.name), \(group.state)",
                     "   Num member fault \(group.faultyMembers), num member init 0"]
        lines += list("VRRP member instances :", group.members)
        lines.append("   Using smtp notification = \(group.smtpAlert ? "yes" : "no")")
        lines += list("Tracked interfaces :", group.trackedInterfaces.map(\.dataFileEntry))
        lines += list("Tracked scripts :", group.trackedScripts.map(\.dataFileEntry))
        lines += group.notifyScripts.map { "   \($0.kind) state transition script = \($0.command), uid:gid 0:0" }
        return lines
    }

    static func dataLines(_ script: VRRPScriptReport) -> [String] {
        var lines = [
            " VRRP Script = \(script.name)",
            "   Command = \(script.command)",
            "   Interval = \(Int(script.interval)) sec",
            "   Timeout = \(Int(script.timeout)) sec",
            "   Weight = \(script.weight)\(script.weightReverse ? " reverse" : "")",
            "   Rise = \(script.rise)",
            "   Fall = \(script.fall)",
            // keepalived's result climbs to rise on success and falls below it on failure.
            "   Result = \(script.good ? script.rise : max(0, script.rise - 1))",
            "   Insecure = no",
            "   Init state = unknown",
            "   Status = \(script.good ? "GOOD" : "BAD")",
            "   Script uid:gid = 0:0",
            "   VRRP instances :",
            "   Tracking instances :",
        ]
        lines += script.trackingInstances.map { "     \($0.name), weight \($0.weight)\($0.reverse ? " reverse" : "")" }
        lines.append("   State = \(script.running ? "running" : "idle")")
        return lines
    }

    private static func timeText(_ time: Double) -> String {
        "\(WallClock.timevalText(time)) (\(WallClock.ctimeText(time)))"
    }

    // MARK: keepalived.stats

    /// keepalived.stats, exactly keepalived's layout.
    public static func stats(_ instances: [VRRPInstanceReport]) -> String {
        var text = ""
        for instance in instances {
            let counters = instance.counters
            text += """
            VRRP Instance: \(instance.name)
              Advertisements:
                Received: \(counters.advertisementsReceived)
                Sent: \(counters.advertisementsSent)
              Became master: \(counters.becameMaster)
              Released master: \(counters.releasedMaster)
              Packet Errors:
                Length: \(counters.packetLengthErrors)
                TTL: \(counters.ttlErrors)
                Invalid Type: \(counters.invalidTypeReceived)
                Advertisement Interval: \(counters.advertisementIntervalErrors)
                Address List: \(counters.addressListErrors)
              Authentication Errors:
                Invalid Type: \(counters.invalidAuthenticationType)
                Type Mismatch: \(counters.authenticationTypeMismatch)
                Failure: \(counters.authenticationFailures)
              Priority Zero:
                Received: \(counters.priorityZeroReceived)
                Sent: \(counters.priorityZeroSent)

            """
        }
        return text
    }

    // MARK: keepalived.json

    /// keepalived.json: an array with one {"data": …, "stats": …} per instance.
    public static func json(_ instances: [VRRPInstanceReport]) -> String {
        KeepalivedJSON.array(instances.map { instance in
            .object([("data", jsonData(instance)),
                      ("stats", .object(instance.counters.keepalivedFields.map { ($0.name, .integer($0.value)) }))])
        }).text
    }

    static func jsonData(_ instance: VRRPInstanceReport) -> KeepalivedJSON {
        let details = instance.details
        var fields: [(String, KeepalivedJSON)] = [
            ("iname", .string(instance.name)),
            ("dont_track_primary", .integer(details.dontTrackPrimary ? 1 : 0)),
            ("skip_check_adv_addr", .integer(details.skipCheckAdvertAddresses ? 1 : 0)),
            ("strict_mode", .integer(details.strict ? 1 : 0)),
            ("vmac_ifname", .string("")),
        ]
        if !instance.interface.isEmpty { fields.append(("ifp_ifname", .string(instance.interface))) }
        fields += [
            ("master_priority", .integer(details.masterPriority)),
            ("last_transition", .number(WallClock.timevalText(details.lastTransition))),
            ("garp_delay", .float(details.garpDelay)),
            ("garp_refresh", .integer(Int(details.garpRefresh))),
            ("garp_rep", .integer(details.garpRepeat)),
            ("garp_refresh_rep", .integer(details.garpRefreshRepeat)),
            ("garp_lower_prio_delay", .integer(Int(details.garpLowerPriorityDelay))),
            ("garp_lower_prio_rep", .integer(details.garpLowerPriorityRepeat)),
            ("lower_prio_no_advert", .integer(details.lowerPriorityNoAdvert ? 1 : 0)),
            ("higher_prio_send_advert", .integer(details.higherPrioritySendAdvert ? 1 : 0)),
            ("vrid", .integer(instance.virtualRouterID)),
            ("base_priority", .integer(instance.configuredPriority)),
            ("effective_priority", .integer(instance.effectivePriority)),
            ("vipset", .bool(details.addressesSet)),
            ("promote_secondaries", .bool(details.promoteSecondaries)),
            ("adver_int", .float(details.advertInterval)),
            ("master_adver_int", .float(details.advertInterval)),
            ("accept", .integer(details.accept ? 1 : 0)),
            ("nopreempt", .bool(!details.preempt)),
            ("preempt_delay", .integer(Int(details.preemptDelay))),
            ("state", .integer(stateNumber(instance.state))),
            ("wantstate", .integer(stateNumber(details.wantState))),
            ("version", .integer(details.version)),
            ("smtp_alert", .bool(details.smtpAlert)),
            ("notify_deleted", .bool(false)),
        ]
        for key in ["script_backup", "script_master", "script_fault", "script_stop", "script"] {
            if let notify = details.notifyScripts.first(where: { $0.jsonKey == key }) { fields.append((key, .string(notify.command))) }
        }
        let lists: [(String, [String])] = [
            ("vips", details.virtualAddresses), ("evips", details.excludedAddresses),
            ("vroutes", details.virtualRoutes), ("vrules", details.virtualRules),
            ("track_ifp", details.trackedInterfaces.map(\.name)), ("track_script", details.trackedScripts.map(\.command)),
        ]
        for (key, values) in lists where !values.isEmpty { fields.append((key, .array(values.map { .string($0) }))) }
        fields.append(("auth_type", .integer(details.authenticationType)))
        if details.authenticationType != 0 { fields.append(("auth_data", .string(details.password ?? ""))) }
        return .object(fields)
    }
}

extension VRRPInstanceDetails.Tracked {
    /// A tracked interface or script as keepalived.data lists it.
    fileprivate var dataFileEntry: String { "\(name) weight \(weight)\(reverse ? " reverse" : "")" }
}
