extension VRRPScript {
    static let keywords = KeywordTable<VRRPScript>("vrrp_script", [
        "script": .values(1, 3) { script, statement, context in script.script = context.script(statement) },
        "interval": .values(1, 1) { script, statement, context in
            script.interval = context.seconds(statement, in: 0.001...86400) ?? script.interval
        },
        "timeout": .values(1, 1) { script, statement, context in
            script.timeout = context.seconds(statement, in: 0.001...86400) ?? script.timeout
        },
        "weight": .values(1, 2) { script, statement, context in
            script.weight = context.integer(statement, in: -253...253, what: "vrrp_script weight") ?? script.weight
            if statement.arguments.count == 2 {
                guard statement.arguments[1] == "reverse" else {
                    context.error(statement.location, "weight takes 'reverse' after the number, not '\(statement.arguments[1])'")
                    return
                }
                script.weightReverse = true
            }
        },
        "rise": .values(1, 1) { script, statement, context in script.rise = context.integer(statement, in: 1...1000) ?? script.rise },
        "fall": .values(1, 1) { script, statement, context in script.fall = context.integer(statement, in: 1...1000) ?? script.fall },
        "user": .values(1, 2) { script, statement, _ in
            var command = script.script ?? ScriptCommand(command: "")
            command.user = statement.arguments[0]
            command.group = statement.arguments.count > 1 ? statement.arguments[1] : nil
            script.script = command
        },
        "init_fail": .flag { $0.initFail = true },
    ])
}

extension NotifyScripts {
    /// The notify keywords, shared by instances and sync groups.
    static func rules<Target>(_ path: WritableKeyPath<Target, NotifyScripts> & Sendable) -> [String: KeywordRule<Target>] {
        [
            "notify_master": .values(1, 3) { target, statement, context in target[keyPath: path].master = context.script(statement) },
            "notify_backup": .values(1, 3) { target, statement, context in target[keyPath: path].backup = context.script(statement) },
            "notify_fault": .values(1, 3) { target, statement, context in target[keyPath: path].fault = context.script(statement) },
            "notify_stop": .values(1, 3) { target, statement, context in target[keyPath: path].stop = context.script(statement) },
            "notify": .values(1, 3) { target, statement, context in target[keyPath: path].any = context.script(statement) },
        ]
    }
}

extension TrackedItem {
    /// `track_script { … }` / `track_interface { … }`: one `NAME [weight N [reverse]]` a line.
    /// `track_bfd { NAME [weight N [reverse]] }`: read and checked, but BFD sessions do not run
    /// here yet, so the instance goes on as if the list were empty (and says so).
    static func bfdRule<Target>() -> KeywordRule<Target> {
        .block { _, statement, context in
            context.warning(statement.location, "'track_bfd' is not supported yet in swiftkeepalived (no BFD sessions run); ignored")
            context.parseList(opener: statement) { entry, context in _ = context.trackedItem(entry, weights: -253...253) }
        }
    }

    static func listRule<Target>(_ path: WritableKeyPath<Target, [TrackedItem]> & Sendable, weights: ClosedRange<Int> = -253...253) -> KeywordRule<Target> {
        .block { target, statement, context in
            context.parseList(opener: statement) { entry, context in
                if let item = context.trackedItem(entry, weights: weights) { target[keyPath: path].append(item) }
            }
        }
    }
}

extension VRRPSyncGroup {
    static let keywords = KeywordTable<VRRPSyncGroup>("vrrp_sync_group", fallback: oldSyntaxMember, NotifyScripts.rules(\VRRPSyncGroup.notify), [
        "group": .block { group, statement, context in
            context.parseList(opener: statement) { entry, context in
                group.members.append(contentsOf: [entry.keyword] + entry.arguments)
            }
        },
        "smtp_alert": .values(0, 1) { group, statement, context in group.smtpAlert = context.boolean(statement) },
        "global_tracking": .flag { $0.globalTracking = true },
        "track_script": TrackedItem.listRule(\VRRPSyncGroup.trackScripts),
        "track_interface": TrackedItem.listRule(\VRRPSyncGroup.trackInterfaces),
        "track_file": TrackedItem.listRule(\VRRPSyncGroup.trackFiles, weights: -254...254),
        "track_process": TrackedItem.listRule(\VRRPSyncGroup.trackProcesses, weights: -254...254),
        "track_bfd": TrackedItem.bfdRule(),
    ], unimplementedKeywords)
}

extension VRRPSyncGroup {
    /// Before `group { }`, keepalived read the instances as lines of the sync group itself, and
    /// it still does (keepalived.conf.vrrp.lvs_syncd among Debian's samples): a bare name is a member.
    @Sendable static func oldSyntaxMember(_ group: inout VRRPSyncGroup, _ statement: Statement, _ context: inout ParseContext) -> Bool {
        guard statement.arguments.isEmpty, !statement.opensBlock else { return false }
        if !group.usesOldSyntax {
            context.warning(statement.location, "vrrp_sync_group \(group.name) lists its instances without 'group { }' (the old syntax); read as group members, as keepalived does")
            group.usesOldSyntax = true
        }
        group.members.append(statement.keyword)
        return true
    }
}

extension VRRPInstance {
    static let keywords = KeywordTable<VRRPInstance>("vrrp_instance", NotifyScripts.rules(\VRRPInstance.notify), [
        "state": .values(1, 1) { instance, statement, context in
            instance.state = context.word(statement, as: VRRPInitialState.self) ?? instance.state
        },
        "interface": .values(1, 1) { instance, statement, _ in instance.interface = statement.arguments[0] },
        "lvs_sync_daemon_interface": .values(1, 1) { instance, statement, context in
            // keepalived's words, on two lines as it prints them.
            context.warning(statement.location, "(\(instance.name)) Specifying lvs_sync_daemon_interface against a vrrp is deprecated. Please use global lvs_sync_daemon")
            instance.lvsSyncDaemonInterface = statement.arguments[0]
        },
        "virtual_router_id": .values(1, 1) { instance, statement, context in
            instance.virtualRouterID = context.integer(statement, in: 1...255) ?? instance.virtualRouterID
        },
        "priority": .values(1, 1) { instance, statement, context in
            instance.priority = context.integer(statement, in: 1...255) ?? instance.priority
        },
        "advert_int": .values(1, 1) { instance, statement, context in
            instance.advertInterval = context.seconds(statement, in: 0.01...255) ?? instance.advertInterval
            instance.advertIntervalLocation = statement.location
        },
        "version": .values(1, 1) { instance, statement, context in
            instance.version = context.integer(statement, in: 2...3) ?? instance.version
        },
        "v3_checksum_as_v2": .values(0, 1) { instance, statement, context in instance.checksumAsV2 = context.boolean(statement) },
        "lower_prio_no_advert": .values(0, 1) { instance, statement, context in instance.lowerPrioNoAdvert = context.boolean(statement) },
        "higher_prio_send_advert": .values(0, 1) { instance, statement, context in instance.higherPrioSendAdvert = context.boolean(statement) },
        "down_timer_adverts": .values(1, 1) { instance, statement, context in
            instance.downTimerAdverts = context.integer(statement, in: 1...100) ?? instance.downTimerAdverts
        },
        "authentication": .block(once: true) { instance, statement, context in
            var authentication = instance.authentication ?? VRRPAuthentication(location: statement.location)
            context.parseBlock(opener: statement, into: &authentication, table: VRRPAuthentication.keywords)
            instance.authentication = authentication
        },
        "virtual_ipaddress": .block { instance, statement, context in
            context.parseList(opener: statement) { entry, context in
                if let address = context.virtualIPAddress(entry), context.isFirstListing(address, in: instance) {
                    instance.virtualIPAddresses.append(address)
                }
            }
        },
        "virtual_ipaddress_excluded": .block { instance, statement, context in
            context.parseList(opener: statement) { entry, context in
                if let address = context.virtualIPAddress(entry), context.isFirstListing(address, in: instance) {
                    instance.excludedIPAddresses.append(address)
                }
            }
        },
        "virtual_routes": .block { instance, statement, context in
            context.parseList(opener: statement) { entry, context in
                if let route = context.virtualRoute(entry) { instance.virtualRoutes.append(route) }
            }
        },
        "no_virtual_ipaddress": .flag { $0.allowsNoVirtualAddresses = true },
        "virtual_rules": .block { instance, statement, context in
            context.parseList(opener: statement) { entry, context in
                if let rule = context.routingRule(entry) { instance.virtualRules.append(rule) }
            }
        },
        "unicast_src_ip": .values(1, 1) { instance, statement, context in
            instance.unicastSourceIP = context.address(statement) ?? instance.unicastSourceIP
        },
        "mcast_src_ip": .values(1, 1) { instance, statement, context in
            instance.unicastSourceIP = context.address(statement) ?? instance.unicastSourceIP
        },
        "mcast_dst_ip": .values(1, 1) { instance, statement, context in
            guard let address = context.address(statement) else { return }
            guard address.isMulticast else {
                context.error(statement.location, "mcast_dst_ip must be a multicast address, not \(address)")
                return
            }
            instance.multicastDestination = address
        },
        "unicast_peer": .block { instance, statement, context in
            context.parseList(opener: statement) { entry, context in
                if let peer = context.unicastPeer(entry) { instance.unicastPeers.append(peer) }
            }
        },
        "nopreempt": .flag { $0.noPreempt = true },
        "no_preempt": .flag { $0.noPreempt = true },
        "preempt": .flag { $0.noPreempt = false },
        "preempt_delay": .values(1, 1) { instance, statement, context in
            instance.preemptDelay = context.seconds(statement, in: 0...1000) ?? instance.preemptDelay
        },
        "track_interface": TrackedItem.listRule(\VRRPInstance.trackInterfaces),
        "track_script": TrackedItem.listRule(\VRRPInstance.trackScripts),
        "track_file": TrackedItem.listRule(\VRRPInstance.trackFiles, weights: -254...254),
        "track_process": TrackedItem.listRule(\VRRPInstance.trackProcesses, weights: -254...254),
        "track_bfd": TrackedItem.bfdRule(),
        "dont_track_primary": .flag { $0.dontTrackPrimary = true },
        "use_vmac": .values(0, 1) { instance, statement, context in
            instance.useVMAC = true
            guard let name = statement.arguments.first else { return }
            if name.utf8.count > 15 || name.contains("/") {
                context.error(statement.location, "(\(instance.name)) use_vmac: '\(name)' is not a valid interface name (at most 15 characters, no '/')")
            } else {
                instance.vmacName = name
            }
        },
        "vmac_xmit_base": .flag { $0.vmacTransmitsOnBase = true },
        "use_ipvlan": .values(0, 3) { instance, statement, context in
            guard instance.ipvlan == nil else {
                return context.error(statement.location, "(\(instance.name)) use_ipvlan is already given")
            }
            var settings = IPVLANSettings()
            var modeGiven = false
            for word in statement.arguments {
                if let mode = IPVLANSettings.Mode(rawValue: word) {
                    guard !modeGiven else { return context.error(statement.location, "(\(instance.name)) use_ipvlan: more than one of bridge, private and vepa") }
                    settings.mode = mode
                    modeGiven = true
                } else if IPAddress(String(word.split(separator: "/")[0])) != nil {
                    guard settings.address == nil, let (address, length) = context.prefixedAddress(word, statement) else {
                        return context.error(statement.location, "(\(instance.name)) use_ipvlan: more than one address")
                    }
                    settings.address = VirtualIPAddress(address: address, prefixLength: length, location: statement.location)
                } else if settings.name == nil, word.utf8.count <= 15, !word.contains("/") {
                    settings.name = word
                } else {
                    return context.error(statement.location, "(\(instance.name)) use_ipvlan: '\(word)' is not an interface name (at most 15 characters, no '/'), an address or bridge, private, vepa")
                }
            }
            instance.ipvlan = settings
        },
        "smtp_alert": .values(0, 1) { instance, statement, context in instance.smtpAlert = context.boolean(statement) },
        "skip_check_adv_addr": .values(0, 1) { instance, statement, context in instance.skipCheckAdvAddr = context.boolean(statement) },
        "strict_mode": .values(0, 1) { instance, statement, context in instance.strictMode = context.boolean(statement) },
        "accept": .flag { $0.accept = true },
        "no_accept": .flag { $0.accept = false },
        "garp_master_delay": .values(1, 1) { instance, statement, context in
            instance.garpMasterDelay = context.seconds(statement, in: 0...3600) ?? instance.garpMasterDelay
        },
        "garp_master_repeat": .values(1, 1) { instance, statement, context in
            instance.garpMasterRepeat = context.integer(statement, in: 1...255) ?? instance.garpMasterRepeat
        },
        "garp_master_refresh": .values(1, 1) { instance, statement, context in
            instance.garpMasterRefresh = context.seconds(statement, in: 0...86400) ?? instance.garpMasterRefresh
        },
        "garp_master_refresh_repeat": .values(1, 1) { instance, statement, context in
            instance.garpMasterRefreshRepeat = context.integer(statement, in: 1...255) ?? instance.garpMasterRefreshRepeat
        },
        "garp_lower_prio_delay": .values(1, 1) { instance, statement, context in
            instance.garpLowerPrioDelay = context.seconds(statement, in: 0...3600) ?? instance.garpLowerPrioDelay
        },
        "garp_lower_prio_repeat": .values(1, 1) { instance, statement, context in
            instance.garpLowerPrioRepeat = context.integer(statement, in: 0...255) ?? instance.garpLowerPrioRepeat
        },
        "garp_interval": .values(1, 1) { instance, statement, context in
            instance.garpInterval = context.seconds(statement, in: 0...1) ?? instance.garpInterval
        },
        "gna_interval": .values(1, 1) { instance, statement, context in
            instance.gnaInterval = context.seconds(statement, in: 0...1) ?? instance.gnaInterval
        },
    ], unimplementedKeywords)
}

extension VRRPAuthentication {
    init(location: SourceLocation) {
        self.location = location
    }

    /// keepalived sends only the first eight bytes of a PASS password.
    public static let maximumPasswordLength = 8

    static let keywords = KeywordTable<VRRPAuthentication>("authentication", [
        "auth_type": .values(1, 1) { auth, statement, context in
            auth.type = context.word(statement, as: VRRPAuthenticationType.self) ?? auth.type
        },
        "auth_pass": .values(1, 1) { auth, statement, context in
            var password = statement.arguments[0]
            if password.utf8.count > maximumPasswordLength {
                let kept = String(decoding: password.utf8.prefix(maximumPasswordLength), as: UTF8.self)
                context.warning(statement.location, "auth_pass is longer than \(maximumPasswordLength) bytes; only '\(kept)' is used (as keepalived does), so peers must agree on those")
                password = kept
            }
            auth.password = password
        },
    ])
}

extension ParseContext {
    /// keepalived keeps the first listing of an address and drops the others (its sample
    /// keepalived.conf.vrrp lists one again with a label): a warning, not an error.
    mutating func isFirstListing(_ address: VirtualIPAddress, in instance: VRRPInstance) -> Bool {
        guard let first = (instance.virtualIPAddresses + instance.excludedIPAddresses).first(where: { $0.address == address.address }) else {
            return true
        }
        warning(address.location, "vrrp_instance \(instance.name): virtual address \(address.address) is listed twice (first at \(first.location)); this one is ignored, as keepalived does")
        return false
    }
}
