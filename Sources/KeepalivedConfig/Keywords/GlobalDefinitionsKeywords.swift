extension GlobalDefinitions {
    static let keywords = KeywordTable<GlobalDefinitions>("global_defs", deprecated: ["lvs_id": "router_id", "lvs_flush_onstop": "lvs_flush_on_stop"],
                                                      processKeywords, lvsKeywords, [
        "router_id": .values(1, 1) { defs, statement, _ in defs.routerID = statement.arguments[0] },
        "notification_email": .block { defs, statement, context in
            context.parseList(opener: statement) { entry, context in
                defs.notificationEmail.append(contentsOf: [entry.keyword] + entry.arguments)
            }
        },
        "notification_email_from": .values(1, 1) { defs, statement, _ in defs.notificationEmailFrom = statement.arguments[0] },
        "smtp_server": .values(1, 2) { defs, statement, context in
            var port: Int?
            if statement.arguments.count == 2 {
                guard let value = context.port(statement, at: 1, what: "smtp_server port") else { return }
                port = value
            }
            defs.smtpServer = SMTPServer(host: statement.arguments[0], port: port)
        },
        "smtp_helo_name": .values(1, 1) { defs, statement, _ in defs.smtpHeloName = statement.arguments[0] },
        "smtp_connect_timeout": .values(1, 1) { defs, statement, context in
            defs.smtpConnectTimeout = context.seconds(statement, in: 1...3600) ?? defs.smtpConnectTimeout
        },
        "smtp_alert": .values(0, 1) { defs, statement, context in defs.smtpAlert = context.boolean(statement) },
        "smtp_alert_vrrp": .values(0, 1) { defs, statement, context in defs.smtpAlertVRRP = context.boolean(statement) },
        "smtp_alert_checker": .values(0, 1) { defs, statement, context in defs.smtpAlertChecker = context.boolean(statement) },
        "vrrp_skip_check_adv_addr": .values(0, 1) { defs, statement, context in defs.vrrpSkipCheckAdvAddr = context.boolean(statement) },
        "vrrp_strict": .values(0, 1) { defs, statement, context in defs.vrrpStrict = context.boolean(statement) },
        "vrrp_check_unicast_src": .values(0, 1) { defs, statement, context in defs.vrrpCheckUnicastSrc = context.boolean(statement) },
        "vrrp_garp_interval": .values(1, 1) { defs, statement, context in
            defs.vrrpGarpInterval = context.seconds(statement, in: 0...1) ?? defs.vrrpGarpInterval
        },
        "vrrp_gna_interval": .values(1, 1) { defs, statement, context in
            defs.vrrpGnaInterval = context.seconds(statement, in: 0...1) ?? defs.vrrpGnaInterval
        },
        "vrrp_garp_master_delay": .values(1, 1) { defs, statement, context in
            defs.vrrpGarpMasterDelay = context.seconds(statement, in: 0...3600) ?? defs.vrrpGarpMasterDelay
        },
        "vrrp_garp_master_repeat": .values(1, 1) { defs, statement, context in
            defs.vrrpGarpMasterRepeat = context.integer(statement, in: 1...255) ?? defs.vrrpGarpMasterRepeat
        },
        "vrrp_garp_master_refresh": .values(1, 1) { defs, statement, context in
            defs.vrrpGarpMasterRefresh = context.seconds(statement, in: 0...86400) ?? defs.vrrpGarpMasterRefresh
        },
        "vrrp_garp_master_refresh_repeat": .values(1, 1) { defs, statement, context in
            defs.vrrpGarpMasterRefreshRepeat = context.integer(statement, in: 1...255) ?? defs.vrrpGarpMasterRefreshRepeat
        },
        "vrrp_garp_lower_prio_delay": .values(1, 1) { defs, statement, context in
            defs.vrrpGarpLowerPrioDelay = context.seconds(statement, in: 0...3600) ?? defs.vrrpGarpLowerPrioDelay
        },
        "vrrp_garp_lower_prio_repeat": .values(1, 1) { defs, statement, context in
            defs.vrrpGarpLowerPrioRepeat = context.integer(statement, in: 0...255) ?? defs.vrrpGarpLowerPrioRepeat
        },
        "vrrp_min_garp": .values(0, 1) { defs, statement, context in
            // One gratuitous ARP at once and no refresh, for the settings not written before it
            // (keepalived's rule; settings written after it win as usual).
            guard context.boolean(statement) == true else { return }
            defs.vrrpGarpMasterRepeat = defs.vrrpGarpMasterRepeat ?? 1
            defs.vrrpGarpMasterDelay = defs.vrrpGarpMasterDelay ?? 0
            defs.vrrpGarpMasterRefresh = defs.vrrpGarpMasterRefresh ?? 0
        },
        "v3_checksum_as_v2": .values(0, 1) { defs, statement, context in defs.vrrpChecksumAsV2 = context.boolean(statement) },
        "vmac_prefix": .values(1, 1) { defs, statement, _ in defs.vmacPrefix = statement.arguments[0] },
        "vrrp_lower_prio_no_advert": .values(0, 1) { defs, statement, context in defs.vrrpLowerPrioNoAdvert = context.boolean(statement) },
        "vrrp_higher_prio_send_advert": .values(0, 1) { defs, statement, context in defs.vrrpHigherPrioSendAdvert = context.boolean(statement) },
        "vrrp_down_timer_adverts": .values(1, 1) { defs, statement, context in
            defs.vrrpDownTimerAdverts = context.integer(statement, in: 1...100) ?? defs.vrrpDownTimerAdverts
        },
        "vrrp_version": .values(1, 1) { defs, statement, context in
            defs.vrrpVersion = context.integer(statement, in: 2...3) ?? defs.vrrpVersion
        },
        "vrrp_mcast_group4": .values(1, 1) { defs, statement, context in
            guard let address = context.address(statement) else { return }
            guard address.family == .inet, address.isMulticast else {
                context.error(statement.location, "vrrp_mcast_group4 must be an IPv4 multicast address, not \(address)")
                return
            }
            defs.vrrpMcastGroup4 = address
        },
        "vrrp_mcast_group6": .values(1, 1) { defs, statement, context in
            guard let address = context.address(statement) else { return }
            guard address.family == .inet6, address.isMulticast else {
                context.error(statement.location, "vrrp_mcast_group6 must be an IPv6 multicast address, not \(address)")
                return
            }
            defs.vrrpMcastGroup6 = address
        },
        "enable_script_security": .values(0, 1) { defs, statement, context in defs.enableScriptSecurity = context.boolean(statement) },
        "script_user": .values(1, 2) { defs, statement, _ in
            defs.scriptUser = ScriptCommand(command: "", user: statement.arguments[0],
                                            group: statement.arguments.count > 1 ? statement.arguments[1] : nil)
        },
        "dynamic_interfaces": .values(0, 1) { defs, statement, context in
            // keepalived's only option here is `allow_if_changes`; either way interfaces may come later.
            defs.dynamicInterfaces = statement.arguments.first == "allow_if_changes" ? true : context.boolean(statement)
        },
    ], unimplementedKeywords)
}
