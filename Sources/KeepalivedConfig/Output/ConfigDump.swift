/// Prints a configuration back as keepalived.conf text: every block and value in a fixed order,
/// with `# default` after values the file did not set. The output parses back to the same model.
public enum ConfigDump {
    public static func render(_ configuration: KeepalivedConfiguration) -> String {
        var writer = DumpWriter()
        writer.rootKeywords(configuration.globalDefs.process)
        writer.globalDefs(configuration.globalDefs, sync: configuration.effectiveLVSSyncDaemon)
        writer.staticState(configuration)
        configuration.vrrpScripts.forEach { writer.script($0) }
        configuration.trackFiles.forEach { writer.trackFile($0) }
        configuration.trackProcesses.forEach { writer.trackProcess($0) }
        configuration.syncGroups.forEach { writer.syncGroup($0) }
        configuration.vrrpInstances.forEach { writer.instance($0, defs: configuration.globalDefs) }
        configuration.virtualServerGroups.forEach { writer.virtualServerGroup($0) }
        configuration.virtualServers.forEach { writer.virtualServer($0) }
        if let ssl = configuration.ssl { writer.ssl(ssl) }
        return writer.text
    }
}

struct DumpWriter {
    var text = ""
    private var depth = 0

    mutating func line(_ content: String) {
        text += String(repeating: "    ", count: depth) + content + "\n"
    }

    mutating func block(_ header: String, _ body: (inout DumpWriter) -> Void) {
        line(header + " {")
        depth += 1
        body(&self)
        depth -= 1
        line("}")
    }

    /// A value the file set, or the default it falls back to, marked as such.
    mutating func value(_ keyword: String, _ configured: String?, default fallback: String?) {
        if let configured {
            line("\(keyword) \(configured)")
        } else if let fallback {
            line("\(keyword) \(fallback)  # default")
        }
    }

    mutating func optional(_ keyword: String, _ configured: String?) {
        if let configured { line("\(keyword) \(configured)") }
    }

    mutating func flag(_ keyword: String, _ isSet: Bool?) {
        if isSet == true { line(keyword) }
    }

    mutating func boolean(_ keyword: String, _ configured: Bool?, default fallback: Bool) {
        value(keyword, configured.map { $0 ? "on" : "off" }, default: fallback ? "on" : "off")
    }

    mutating func script(_ keyword: String, _ command: ScriptCommand?) {
        guard let command else { return }
        line("\(keyword) \([quoted(command.command), command.user, command.group].compactMap { $0 }.joined(separator: " "))")
    }

    func quoted(_ word: String) -> String {
        let needsQuotes = word.isEmpty || word.contains { " \t#!{}\"'\\$".contains($0) }
        guard needsQuotes else { return word }
        var escaped = ""
        for character in word {
            if character == "\"" || character == "\\" { escaped.append("\\") }
            escaped.append(character)
        }
        return "\"" + escaped + "\""
    }

    // MARK: Blocks

    mutating func globalDefs(_ defs: GlobalDefinitions, sync: LVSSyncDaemon?) {
        block("global_defs") { w in
            w.optional("router_id", defs.routerID.map(w.quoted))
            if !defs.notificationEmail.isEmpty {
                w.block("notification_email") { w in defs.notificationEmail.forEach { w.line(w.quoted($0)) } }
            }
            w.optional("notification_email_from", defs.notificationEmailFrom.map(w.quoted))
            w.optional("smtp_server", defs.smtpServer.map { server in
                [server.host, server.port.map(String.init)].compactMap { $0 }.joined(separator: " ")
            })
            w.optional("smtp_helo_name", defs.smtpHeloName.map(w.quoted))
            w.value("smtp_connect_timeout", defs.smtpConnectTimeout.map(formatSeconds), default: formatSeconds(GlobalDefinitions.defaultSMTPConnectTimeout))
            w.optional("smtp_alert", defs.smtpAlert.map { $0 ? "on" : "off" })
            w.optional("smtp_alert_vrrp", defs.smtpAlertVRRP.map { $0 ? "on" : "off" })
            w.optional("smtp_alert_checker", defs.smtpAlertChecker.map { $0 ? "on" : "off" })
            w.boolean("vrrp_skip_check_adv_addr", defs.vrrpSkipCheckAdvAddr, default: false)
            w.boolean("vrrp_strict", defs.vrrpStrict, default: false)
            w.boolean("vrrp_check_unicast_src", defs.vrrpCheckUnicastSrc, default: false)
            w.value("vrrp_garp_interval", defs.vrrpGarpInterval.map(formatSeconds), default: "0")
            w.value("vrrp_gna_interval", defs.vrrpGnaInterval.map(formatSeconds), default: "0")
            w.value("vrrp_garp_master_delay", defs.vrrpGarpMasterDelay.map(formatSeconds), default: formatSeconds(GlobalDefinitions.defaultGarpMasterDelay))
            w.value("vrrp_garp_master_repeat", defs.vrrpGarpMasterRepeat.map(String.init), default: String(GlobalDefinitions.defaultGarpMasterRepeat))
            w.value("vrrp_garp_master_refresh", defs.vrrpGarpMasterRefresh.map(formatSeconds), default: "0")
            w.value("vrrp_garp_master_refresh_repeat", defs.vrrpGarpMasterRefreshRepeat.map(String.init), default: String(GlobalDefinitions.defaultGarpMasterRefreshRepeat))
            w.optional("vrrp_garp_lower_prio_delay", defs.vrrpGarpLowerPrioDelay.map(formatSeconds))
            w.optional("vrrp_garp_lower_prio_repeat", defs.vrrpGarpLowerPrioRepeat.map(String.init))
            w.value("vrrp_version", defs.vrrpVersion.map(String.init), default: String(GlobalDefinitions.defaultVRRPVersion))
            w.optional("v3_checksum_as_v2", defs.vrrpChecksumAsV2.map { $0 ? "on" : "off" })
            w.optional("vmac_prefix", defs.vmacPrefix)
            w.optional("vrrp_down_timer_adverts", defs.vrrpDownTimerAdverts.map(String.init))
            w.optional("vrrp_lower_prio_no_advert", defs.vrrpLowerPrioNoAdvert.map { $0 ? "on" : "off" })
            w.optional("vrrp_higher_prio_send_advert", defs.vrrpHigherPrioSendAdvert.map { $0 ? "on" : "off" })
            w.value("vrrp_mcast_group4", defs.vrrpMcastGroup4.map(\.description), default: GlobalDefinitions.defaultMcastGroup4.description)
            w.value("vrrp_mcast_group6", defs.vrrpMcastGroup6.map(\.description), default: GlobalDefinitions.defaultMcastGroup6.description)
            w.boolean("enable_script_security", defs.enableScriptSecurity, default: false)
            w.optional("script_user", defs.scriptUser.map { [$0.user, $0.group].compactMap { $0 }.joined(separator: " ") })
            w.boolean("dynamic_interfaces", defs.dynamicInterfaces, default: false)
            w.lvsSettings(defs, sync: sync)
            w.processSettings(defs.process)
        }
    }

    /// The sync daemon with its effective id (the instance's virtual_router_id when not written).
    mutating func lvsSettings(_ defs: GlobalDefinitions, sync: LVSSyncDaemon?) {
        if let sync {
            var words = [quoted(sync.interface)]
            if let instance = sync.instance { words += ["inst", quoted(instance)] }
            if let id = sync.syncID { words += ["id", String(id)] }
            if let length = sync.maxLength { words += ["maxlen", String(length)] }
            if let port = sync.port { words += ["port", String(port)] }
            if let ttl = sync.ttl { words += ["ttl", String(ttl)] }
            if let group = sync.group { words += ["group", group.description] }
            line("lvs_sync_daemon " + words.joined(separator: " "))
        }
        if let timeouts = defs.lvsTimeouts {
            let words = [("tcp", timeouts.tcp), ("tcpfin", timeouts.tcpFin), ("udp", timeouts.udp)].compactMap { name, value in value.map { "\(name) \($0)" } }
            if !words.isEmpty { line("lvs_timeouts " + words.joined(separator: " ")) }
        }
        optional("lvs_flush", defs.lvsFlush.map { $0 ? "on" : "off" })
        optional("announce_maintenance_file", defs.announceMaintenanceFile)
        switch defs.lvsFlushOnStop {
        case .wholeTable?: line("lvs_flush_on_stop")
        case .virtualServers?: line("lvs_flush_on_stop VS")
        case nil: break
        }
    }

    /// keepalived reads these outside `global_defs` only, so that is where they go.
    mutating func rootKeywords(_ process: ProcessSettings) {
        optional("net_namespace", process.netNamespace.map(quoted))
        if let ipvs = process.netNamespaceIPVS { line(ipvs.isEmpty ? "net_namespace_ipvs" : "net_namespace_ipvs \(quoted(ipvs))") }
        flag("namespace_with_ipsets", process.namespaceWithIpsets)
    }

    mutating func processSettings(_ process: ProcessSettings) {
        optional("umask", process.umask.map(UmaskValue.format))
        script("startup_script", process.startupScript)
        if process.startupScript != nil || process.startupScriptTimeout != nil {
            value("startup_script_timeout", process.startupScriptTimeout.map(String.init), default: String(ProcessSettings.defaultScriptTimeout))
        }
        script("shutdown_script", process.shutdownScript)
        if process.shutdownScript != nil || process.shutdownScriptTimeout != nil {
            value("shutdown_script_timeout", process.shutdownScriptTimeout.map(String.init), default: String(ProcessSettings.defaultScriptTimeout))
        }
        for kind in NotifyFifoKind.allCases {
            let fifo = process.fifo(kind)
            if let path = fifo.path {
                line("\(kind.keyword) \([quoted(path), fifo.user, fifo.group].compactMap { $0 }.joined(separator: " "))")
            }
            script(kind.keyword + "_script", fifo.script)
        }
        flag("fifo_write_vrrp_states_on_reload", process.fifoWriteVRRPStatesOnReload)
    }

    mutating func script(_ script: VRRPScript) {
        block("vrrp_script \(script.name)") { w in
            if let command = script.script {
                w.line("script \(w.quoted(command.command))")
                w.optional("user", command.user.map { [$0, command.group].compactMap { $0 }.joined(separator: " ") })
            }
            w.value("interval", script.interval.map(formatSeconds), default: formatSeconds(VRRPScript.defaultInterval))
            w.optional("timeout", script.timeout.map(formatSeconds))
            w.value("weight", script.weight.map { "\($0)" + (script.weightReverse ? " reverse" : "") }, default: "0")
            w.value("rise", script.rise.map(String.init), default: String(VRRPScript.defaultRise))
            w.value("fall", script.fall.map(String.init), default: String(VRRPScript.defaultFall))
            w.flag("init_fail", script.initFail)
        }
    }

    mutating func trackFile(_ file: TrackFile) {
        block("track_file \(file.name)") { w in
            w.optional("file", file.path.map(w.quoted))
            w.value("weight", file.weight.map { "\($0)" + (file.weightReverse ? " reverse" : "") }, default: String(TrackFile.defaultWeight))
            if let value = file.initialValue { w.line("init_file \(value)" + (file.overwrite ? " overwrite" : "")) }
        }
    }

    mutating func trackProcess(_ tracked: TrackProcess) {
        block("vrrp_track_process \(tracked.name)") { w in
            w.optional("process", tracked.process.map { ([$0] + tracked.parameters).map(w.quoted).joined(separator: " ") })
            w.optional("param_match", tracked.paramMatch?.rawValue)
            w.flag("full_command", tracked.fullCommand)
            w.value("weight", tracked.weight.map { "\($0)" + (tracked.weightReverse ? " reverse" : "") }, default: "0")
            w.value("quorum", tracked.quorum.map(String.init), default: "1")
            w.optional("quorum_max", tracked.quorumMax.map(String.init))
            w.optional("fork_delay", tracked.forkDelay.map(formatSeconds))
            w.optional("terminate_delay", tracked.terminateDelay.map(formatSeconds))
        }
    }

    mutating func notify(_ notify: NotifyScripts) {
        script("notify_master", notify.master)
        script("notify_backup", notify.backup)
        script("notify_fault", notify.fault)
        script("notify_stop", notify.stop)
        script("notify", notify.any)
    }

    mutating func tracked(_ keyword: String, _ items: [TrackedItem]) {
        guard !items.isEmpty else { return }
        block(keyword) { w in
            for item in items {
                w.line([item.name, item.weight.map { "weight \($0)" }, item.reverse ? "reverse" : nil].compactMap { $0 }.joined(separator: " "))
            }
        }
    }

    mutating func syncGroup(_ group: VRRPSyncGroup) {
        block("vrrp_sync_group \(group.name)") { w in
            w.block("group") { w in group.members.forEach { w.line($0) } }
            w.notify(group.notify)
            w.optional("smtp_alert", group.smtpAlert.map { $0 ? "on" : "off" })
            w.flag("global_tracking", group.globalTracking)
            w.tracked("track_interface", group.trackInterfaces)
            w.tracked("track_script", group.trackScripts)
            w.tracked("track_file", group.trackFiles)
            w.tracked("track_process", group.trackProcesses)
        }
    }

    func addressLine(_ vip: VirtualIPAddress) -> String {
        var words = [vip.prefixLength.map { "\(vip.address)/\($0)" } ?? "\(vip.address)"]
        if let broadcast = vip.broadcast { words += ["brd", "\(broadcast)"] }
        if let device = vip.device { words += ["dev", device] }
        if let scope = vip.scope { words += ["scope", scope.rawValue] }
        if let label = vip.label { words += ["label", label] }
        if let peer = vip.peer { words += ["peer", "\(peer)"] }
        if vip.noTrack { words.append("no_track") }
        return words.joined(separator: " ")
    }

    func routeLine(_ route: VirtualRoute) -> String {
        var words: [String] = []
        if route.type != .unicast { words.append(route.type.rawValue) }
        if let source = route.source { words += ["src", "\(source)"] }
        words.append(route.destination.length == 0 ? (route.destination.address.family == .inet6 ? "inet6 default" : "default")
                     : "\(route.destination)")
        if let via = route.via { words += ["via", "\(via)"] }
        if let device = route.device { words += ["dev", device] }
        if let scope = route.scope { words += ["scope", scope.rawValue] }
        if let table = route.table { words += ["table", "\(table)"] }
        if let metric = route.metric { words += ["metric", "\(metric)"] }
        if let tos = route.tos { words += ["tos", "\(tos)"] }
        if let number = route.protocolNumber { words += ["protocol", "\(number)"] }
        if route.onlink { words.append("onlink") }
        if route.noTrack { words.append("no_track") }
        for hop in route.nexthops {
            words.append("nexthop")
            if let via = hop.via { words += ["via", "\(via)"] }
            if let device = hop.device { words += ["dev", device] }
            if let weight = hop.weight { words += ["weight", "\(weight)"] }
            if hop.onlink { words.append("onlink") }
        }
        return words.joined(separator: " ")
    }

    /// A rule line; a preference keepalived assigned is written, marked as such.
    func ruleLine(_ rule: RoutingRule) -> String {
        var words: [String] = []
        if rule.family == .inet6 && rule.from == nil && rule.to == nil { words.append("inet6") }
        if rule.invert { words.append("not") }
        if let from = rule.from { words += ["from", "\(from)"] }
        if let to = rule.to { words += ["to", "\(to)"] }
        words += ["preference", "\(rule.effectivePreference)"]
        if let tos = rule.tos { words += ["tos", "\(tos)"] }
        if let mark = rule.fwmark { words += ["fwmark", rule.fwmask.map { "\(mark)/\($0)" } ?? "\(mark)"] }
        if let device = rule.inputInterface { words += ["iif", device] }
        if let device = rule.outputInterface { words += ["oif", device] }
        if let number = rule.ipProtocol { words += ["ipproto", "\(number)"] }
        if let ports = rule.sourcePorts { words += ["sport", "\(ports.lowerBound)-\(ports.upperBound)"] }
        if let ports = rule.destinationPorts { words += ["dport", "\(ports.lowerBound)-\(ports.upperBound)"] }
        if let range = rule.uidRange { words += ["uidrange", "\(range.lowerBound)-\(range.upperBound)"] }
        if let number = rule.protocolNumber { words += ["protocol", "\(number)"] }
        if let realms = rule.realms { words += ["realms", "\(realms >> 16)/\(realms & 0xFFFF)"] }
        if let length = rule.suppressPrefixLength { words += ["suppress_prefixlength", "\(length)"] }
        if let group = rule.suppressInterfaceGroup { words += ["suppress_ifgroup", "\(group)"] }
        if let tunnel = rule.tunnelID { words += ["tunnel-id", "\(tunnel)"] }
        switch rule.action {
        case .table(let table): words += rule.l3mdev ? ["l3mdev"] : ["table", "\(table)"]
        case .goto(let target): words += ["goto", "\(target)"]
        case .nop: words.append("nop")
        case .blackhole: words.append("blackhole")
        case .unreachable: words.append("unreachable")
        case .prohibit: words.append("prohibit")
        }
        if rule.noTrack { words.append("no_track") }
        let line = words.joined(separator: " ")
        return rule.preference == nil ? line + "  # preference assigned" : line
    }

    mutating func staticState(_ configuration: KeepalivedConfiguration) {
        if !configuration.staticAddresses.isEmpty {
            block("static_ipaddress") { w in configuration.staticAddresses.forEach { w.line(w.addressLine($0)) } }
        }
        if !configuration.staticRoutes.isEmpty {
            block("static_routes") { w in configuration.staticRoutes.forEach { w.line(w.routeLine($0)) } }
        }
        if !configuration.staticRules.isEmpty {
            block("static_rules") { w in configuration.staticRules.forEach { w.line(w.ruleLine($0)) } }
        }
    }

    mutating func instance(_ instance: VRRPInstance, defs: GlobalDefinitions) {
        block("vrrp_instance \(instance.name)") { w in
            w.value("state", instance.state?.rawValue, default: VRRPInitialState.backup.rawValue)
            w.optional("interface", instance.interface)
            w.optional("virtual_router_id", instance.virtualRouterID.map(String.init))
            w.value("priority", instance.priority.map(String.init), default: String(VRRPInstance.defaultPriority))
            w.value("advert_int", instance.advertInterval.map(formatSeconds), default: formatSeconds(VRRPInstance.defaultAdvertInterval))
            w.value("version", instance.version.map(String.init), default: String(instance.effectiveVersion(defs)))
            w.optional("v3_checksum_as_v2", instance.checksumAsV2.map { $0 ? "on" : "off" })
            w.optional("down_timer_adverts", instance.downTimerAdverts.map(String.init))
            if instance.useVMAC { w.line(["use_vmac", instance.vmacName].compactMap { $0 }.joined(separator: " ")) }
            w.flag("vmac_xmit_base", instance.vmacTransmitsOnBase)
            if let ipvlan = instance.ipvlan {
                let address = ipvlan.address.map { vip in vip.prefixLength.map { "\(vip.address)/\($0)" } ?? "\(vip.address)" }
                w.line((["use_ipvlan", ipvlan.name, address, ipvlan.mode.rawValue] as [String?]).compactMap { $0 }.joined(separator: " "))
            }
            w.optional("lower_prio_no_advert", instance.lowerPrioNoAdvert.map { $0 ? "on" : "off" })
            w.optional("higher_prio_send_advert", instance.higherPrioSendAdvert.map { $0 ? "on" : "off" })
            if let auth = instance.authentication {
                w.block("authentication") { w in
                    w.optional("auth_type", auth.type?.rawValue)
                    w.optional("auth_pass", auth.password.map(w.quoted))
                }
            }
            w.optional("unicast_src_ip", instance.unicastSourceIP.map(\.description))
            if !instance.unicastPeers.isEmpty {
                w.block("unicast_peer") { w in
                    for peer in instance.unicastPeers {
                        w.line(["\(peer.address)", peer.minTTL.map { "min_ttl \($0)" }, peer.maxTTL.map { "max_ttl \($0)" }].compactMap { $0 }.joined(separator: " "))
                    }
                }
            }
            w.optional("mcast_dst_ip", instance.multicastDestination.map(\.description))
            if !instance.virtualIPAddresses.isEmpty {
                w.block("virtual_ipaddress") { w in instance.virtualIPAddresses.forEach { w.line(w.addressLine($0)) } }
            }
            if !instance.excludedIPAddresses.isEmpty {
                w.block("virtual_ipaddress_excluded") { w in instance.excludedIPAddresses.forEach { w.line(w.addressLine($0)) } }
            }
            w.flag("no_virtual_ipaddress", instance.allowsNoVirtualAddresses)
            if !instance.virtualRoutes.isEmpty {
                w.block("virtual_routes") { w in instance.virtualRoutes.forEach { w.line(w.routeLine($0)) } }
            }
            if !instance.virtualRules.isEmpty {
                w.block("virtual_rules") { w in instance.virtualRules.forEach { w.line(w.ruleLine($0)) } }
            }
            w.flag("nopreempt", instance.noPreempt)
            w.value("preempt_delay", instance.preemptDelay.map(formatSeconds), default: "0")
            w.tracked("track_interface", instance.trackInterfaces)
            w.tracked("track_script", instance.trackScripts)
            w.tracked("track_file", instance.trackFiles)
            w.tracked("track_process", instance.trackProcesses)
            w.flag("dont_track_primary", instance.dontTrackPrimary)
            w.notify(instance.notify)
            w.optional("smtp_alert", instance.smtpAlert.map { $0 ? "on" : "off" })
            w.boolean("skip_check_adv_addr", instance.skipCheckAdvAddr, default: defs.vrrpSkipCheckAdvAddr ?? false)
            w.boolean("strict_mode", instance.strictMode, default: defs.vrrpStrict ?? false)
            if let accept = instance.accept { w.line(accept ? "accept" : "no_accept") }
            w.value("garp_master_delay", instance.garpMasterDelay.map(formatSeconds),
                    default: formatSeconds(defs.vrrpGarpMasterDelay ?? GlobalDefinitions.defaultGarpMasterDelay))
            w.value("garp_master_repeat", instance.garpMasterRepeat.map(String.init),
                    default: String(defs.vrrpGarpMasterRepeat ?? GlobalDefinitions.defaultGarpMasterRepeat))
            w.value("garp_master_refresh", instance.garpMasterRefresh.map(formatSeconds),
                    default: formatSeconds(defs.vrrpGarpMasterRefresh ?? 0))
            w.value("garp_master_refresh_repeat", instance.garpMasterRefreshRepeat.map(String.init),
                    default: String(defs.vrrpGarpMasterRefreshRepeat ?? GlobalDefinitions.defaultGarpMasterRefreshRepeat))
            w.optional("garp_lower_prio_delay", instance.garpLowerPrioDelay.map(formatSeconds))
            w.optional("garp_lower_prio_repeat", instance.garpLowerPrioRepeat.map(String.init))
            w.value("garp_interval", instance.garpInterval.map(formatSeconds), default: formatSeconds(defs.vrrpGarpInterval ?? 0))
            w.value("gna_interval", instance.gnaInterval.map(formatSeconds), default: formatSeconds(defs.vrrpGnaInterval ?? 0))
        }
    }

    mutating func virtualServerGroup(_ group: VirtualServerGroup) {
        block("virtual_server_group \(group.name)") { w in
            for (entry, _) in group.entries {
                switch entry {
                case .range(let first, let last, let port):
                    let range = first == last ? "\(first)" : "\(first)-\(last)"
                    w.line([range, port.map(String.init)].compactMap { $0 }.joined(separator: " "))
                case .fwmark(let mark, let family):
                    w.line(["fwmark", "\(mark)", family?.rawValue].compactMap { $0 }.joined(separator: " "))
                }
            }
        }
    }

    mutating func timing(_ configured: CheckTiming) {
        optional("delay_loop", configured.delayLoop.map(formatSeconds))
        optional("connect_timeout", configured.connectTimeout.map(formatSeconds))
        optional("retry", configured.retry.map(String.init))
        optional("delay_before_retry", configured.delayBeforeRetry.map(formatSeconds))
        optional("warmup", configured.warmup.map(formatSeconds))
    }

    mutating func virtualServer(_ server: VirtualServer) {
        let header: String
        switch server.key {
        case .address(let address, let port): header = port == 0 ? "\(address)" : "\(address) \(port)"
        case .fwmark(let mark): header = "fwmark \(mark)"
        case .group(let name): header = "group \(name)"
        }
        block("virtual_server \(header)") { w in
            w.value("lb_algo", server.scheduler?.rawValue, default: VirtualServer.defaultScheduler.rawValue)
            for flag in VirtualServer.schedulerFlags where server.schedulerFlags.contains(flag) { w.line(flag) }
            w.value("lb_kind", server.forwardingMethod?.rawValue, default: VirtualServer.defaultForwardingMethod.rawValue)
            if case .fwmark = server.key {} else {
                w.value("protocol", server.protocolName?.rawValue, default: VirtualServer.defaultProtocol.rawValue)
            }
            w.optional("persistence_timeout", server.persistenceTimeout.map(String.init))
            w.optional("persistence_granularity", server.persistenceGranularity)
            w.optional("persistence_engine", server.persistenceEngine)
            w.optional("ip_family", server.ipFamily?.rawValue)
            w.flag("ops", server.onePacketScheduling)
            w.flag("ha_suspend", server.haSuspend)
            w.flag("alpha", server.alpha)
            w.flag("omega", server.omega)
            w.value("quorum", server.quorum.map(String.init), default: String(VirtualServer.defaultQuorum))
            w.value("hysteresis", server.hysteresis.map(String.init), default: String(VirtualServer.defaultHysteresis))
            w.script("quorum_up", server.quorumUp)
            w.script("quorum_down", server.quorumDown)
            w.optional("virtualhost", server.virtualhost.map(w.quoted))
            w.optional("smtp_alert", server.smtpAlert.map { $0 ? "on" : "off" })
            if let sorry = server.sorryServer {
                w.line(["sorry_server", "\(sorry.address)", sorry.port.map(String.init)].compactMap { $0 }.joined(separator: " "))
            }
            w.flag("sorry_server_inhibit", server.sorryServerInhibit)
            w.optional("sorry_server_lvs_method", server.sorryServerForwardingMethod?.rawValue)
            w.optional("inhibit_on_failure", server.inhibitOnFailure.map { $0 ? "on" : "off" })
            w.timing(server.timing)
            if let announcement = server.announcement { w.announcement(announcement) }
            for real in server.realServers { w.realServer(real, in: server) }
        }
    }

    mutating func announcement(_ announcement: RouteAnnouncement) {
        block("announce_route") { w in
            w.value("table", announcement.table.map(String.init), default: String(RouteAnnouncement.defaultTable))
            w.value("protocol", announcement.protocolNumber.map(String.init), default: String(RouteAnnouncement.defaultProtocol))
            w.value("device", announcement.device, default: RouteAnnouncement.defaultDevice)
            w.flag("hold_address", announcement.holdAddress)
            w.optional("vrrp_instance", announcement.vrrpInstance)
            w.value("up_delay", announcement.upDelay.map(formatSeconds), default: formatSeconds(RouteAnnouncement.defaultUpDelay))
            for prefix in announcement.prefixes { w.line("prefix \(prefix)") }
        }
    }

    mutating func realServer(_ real: RealServer, in server: VirtualServer) {
        let port = real.effectivePort(in: server)
        block("real_server \(real.address)" + (port == 0 ? "" : " \(port)")) { w in
            w.value("weight", real.weight.map(String.init), default: String(RealServer.defaultWeight))
            w.optional("lb_kind", real.forwardingMethod?.rawValue)
            w.optional("inhibit_on_failure", real.inhibitOnFailure.map { $0 ? "on" : "off" })
            w.script("notify_up", real.notifyUp)
            w.script("notify_down", real.notifyDown)
            w.optional("uthreshold", real.upperThreshold.map(String.init))
            w.optional("lthreshold", real.lowerThreshold.map(String.init))
            w.optional("smtp_alert", real.smtpAlert.map { $0 ? "on" : "off" })
            w.optional("virtualhost", real.virtualhost.map(w.quoted))
            w.optional("alpha", real.alpha.map { $0 ? "on" : "off" })
            w.timing(real.timing)
            for checker in real.checkers { w.checker(checker, real: real, server: server) }
        }
    }

    mutating func checker(_ checker: HealthChecker, real: RealServer, server: VirtualServer) {
        block(checker.kind.keyword) { w in
            w.optional("connect_ip", checker.connectIP.map(\.description))
            w.optional("connect_port", checker.connectPort.map(String.init))
            w.optional("bindto", checker.bindTo.map(\.description))
            w.optional("bind_port", checker.bindPort.map(String.init))
            w.optional("bind_if", checker.bindInterface)
            w.optional("fwmark", checker.fwmark.map(String.init))
            w.optional("alpha", checker.alpha.map { $0 ? "on" : "off" })
            w.optional("log_all_failures", checker.logAllFailures.map { $0 ? "on" : "off" })
            let effective = checker.effectiveTiming(realServer: real, virtualServer: server)
            let configured = checker.timing
            let inherited = real.timing.overriding(server.timing)
            func show(_ keyword: String, _ mine: String?, _ above: String?, _ resolved: String?) {
                if let mine { w.line("\(keyword) \(mine)") }
                else if let above { w.line("\(keyword) \(above)  # inherited") }
                else if let resolved { w.line("\(keyword) \(resolved)  # default") }
            }
            if case .fileCheck(let file) = checker.kind {
                w.optional("track_file", file.trackFile)
                w.optional("weight", file.weight.map { "\($0)" + (file.reverse ? " reverse" : "") })
                return
            }
            if case .miscCheck = checker.kind {} else {
                show("connect_timeout", configured.connectTimeout.map(formatSeconds), inherited.connectTimeout.map(formatSeconds), effective.connectTimeout.map(formatSeconds))
            }
            show("delay_loop", configured.delayLoop.map(formatSeconds), inherited.delayLoop.map(formatSeconds), effective.delayLoop.map(formatSeconds))
            show("retry", configured.retry.map(String.init), inherited.retry.map(String.init), effective.retry.map(String.init))
            show("delay_before_retry", configured.delayBeforeRetry.map(formatSeconds), inherited.delayBeforeRetry.map(formatSeconds), effective.delayBeforeRetry.map(formatSeconds))
            show("warmup", configured.warmup.map(formatSeconds), inherited.warmup.map(formatSeconds), effective.warmup.map(formatSeconds))
            switch checker.kind {
            case .httpGet(let http), .sslGet(let http):
                w.value("http_protocol", http.httpProtocol?.rawValue, default: HTTPCheck.defaultProtocol.rawValue)
                w.optional("virtualhost", http.virtualhost.map(w.quoted))
                w.optional("fast_recovery", http.fastRecovery.map { $0 ? "on" : "off" })
                w.flag("enable_sni", http.enableSNI)
                w.optional("tls_compliant", http.tlsCompliant.map { $0 ? "on" : "off" })
                for url in http.urls {
                    w.block("url") { w in
                        w.optional("path", url.path.map(w.quoted))
                        w.optional("digest", url.digest?.description)
                        if url.statusCodes.isEmpty && url.digest == nil {
                            w.line("status_code \(CheckedURL.defaultStatusCodes.map(\.description).joined(separator: " "))  # default")
                        } else if !url.statusCodes.isEmpty {
                            w.line("status_code \(url.statusCodes.map(\.description).joined(separator: " "))")
                        }
                        w.optional("virtualhost", url.virtualhost.map(w.quoted))
                        w.optional("tls_compliant", url.tlsCompliant.map { $0 ? "on" : "off" })
                        if let regex = url.regex {
                            w.optional("regex", regex.pattern.map(w.quoted))
                            w.flag("regex_no_match", regex.noMatch)
                            if !regex.options.isEmpty { w.line("regex_options \(regex.options.joined(separator: " "))") }
                            w.optional("regex_min_offset", regex.minOffset.map(String.init))
                            w.optional("regex_max_offset", regex.maxOffset.map(String.init))
                            w.optional("regex_stack", regex.stack.map { "\($0.start) \($0.max)" })
                        }
                    }
                }
            case .miscCheck(let misc):
                if let path = misc.path {
                    w.optional("misc_path", path.command.isEmpty ? nil : w.quoted(path.command))
                    w.optional("user", path.user.map { [$0, path.group].compactMap { $0 }.joined(separator: " ") })
                }
                w.optional("misc_timeout", misc.timeout.map(formatSeconds))
                w.flag("misc_dynamic", misc.dynamic)
            case .tcpCheck, .pingCheck, .fileCheck:
                break
            case .dnsCheck(let dns):
                w.value("type", dns.type?.rawValue, default: DNSCheck.defaultType.rawValue)
                w.value("name", dns.name.map(w.quoted), default: w.quoted(DNSCheck.defaultName))
            case .udpCheck(let udp):
                w.optional("payload", udp.payload.map { $0.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined() })
                if udp.requireReply { w.line(["require_reply", udp.replyPattern?.description].compactMap { $0 }.joined(separator: " ")) }
                w.optional("min_reply_length", udp.minReplyLength.map(String.init))
                w.optional("max_reply_length", udp.maxReplyLength.map(String.init))
            case .smtpCheck(let smtp):
                w.value("helo_name", smtp.heloName.map(w.quoted), default: SMTPCheck.defaultHeloName)
            }
        }
    }

    mutating func ssl(_ ssl: SSLSettings) {
        block("SSL") { w in
            w.optional("password", ssl.password.map(w.quoted))
            w.optional("ca", ssl.ca.map(w.quoted))
            w.optional("certificate", ssl.certificate.map(w.quoted))
            w.optional("key", ssl.key.map(w.quoted))
        }
    }
}
