/// keepalived's keywords (v2.4.3) that swiftkeepalived accepts without acting on them, one table
/// part per kind of block. A keyword written here gets one warning saying why, and a block it
/// opens is skipped: a keepalived config is never answered with "unknown keyword".
/// A keyword implemented for real goes into the block's main table, which wins over this part.
extension UnimplementedKeyword {
    static let snmp = noEffect("there is no SNMP agent")
    static let bfd = notSupportedYet("BFD")
    static let vmac = notSupportedYet("VMAC and ipvlan interfaces")
    static let firewall = notSupportedYet("firewall rules for virtual addresses: iptables, ipsets, nftables")
    static let linkPolling = notSupportedYet("link state by polling; it comes from netlink")
    static let email = notSupportedYet("turning off some e-mail alerts")
    static let garpExtras = notSupportedYet("gratuitous ARPs on extra interfaces")
    static let ownerIgnoresAdverts = notSupportedYet("an address owner ignoring adverts")
    static let priorityNotifications = notSupportedYet("notifications of priority changes")
}

extension KeepalivedConfiguration {
    static let unimplementedKeywords: [String: KeywordRule<KeepalivedConfiguration>] = UnimplementedKeyword.rules([
        .bfd: ["bfd_instance"],
        .linkPolling: ["linkbeat_use_polling", "linkbeat_interfaces"],
        .notSupportedYet("IPVS in another network namespace"): ["net_namespace_ipvs"],
        .firewall: ["namespace_with_ipsets"],
        .notSupportedYet("instance names and pid folders; the pid file is the one --pid names"): ["instance", "use_pid_dir"],
        .noEffect("swiftkeepalived is one process, with no children to wait for"): ["child_wait_time"],
        .notSupportedYet("VRRP track groups"): ["track_group"],
        .notSupportedYet("gratuitous ARP groups"): ["garp_group"],
        .notSupportedYet("delays on interface up and down events"): ["interface_up_down_delays"],
    ])
}

extension GlobalDefinitions {
    static let unimplementedKeywords: [String: KeywordRule<GlobalDefinitions>] = UnimplementedKeyword.rules([
        .noEffect("process names; swiftkeepalived is one process"): [
            "process_names", "process_name", "vrrp_process_name", "checker_process_name", "lvs_process_name", "bfd_process_name",
        ],
        .noEffect("nice value; set it in the service manager"): ["vrrp_priority", "checker_priority", "bfd_priority"],
        .noEffect("memory locking; set it in the service manager"): ["vrrp_no_swap", "checker_no_swap", "bfd_no_swap"],
        .noEffect("realtime scheduling; set it in the service manager"): [
            "vrrp_rt_priority", "checker_rt_priority", "bfd_rt_priority", "max_auto_priority", "min_auto_priority_delay",
        ],
        .noEffect("CPU affinity; set it in the service manager"): ["vrrp_cpu_affinity", "checker_cpu_affinity", "bfd_cpu_affinity"],
        .noEffect("realtime CPU time limit; set it in the service manager"): [
            "vrrp_rlimit_rttime", "vrrp_rlimit_rtime", "checker_rlimit_rttime", "checker_rlimit_rtime", "bfd_rlimit_rttime", "bfd_rlimit_rtime",
        ],
        .snmp: [
            "snmp_socket", "enable_traps", "enable_snmp_vrrp", "enable_snmp_keepalived", "enable_snmp_rfc", "enable_snmp_rfcv2",
            "enable_snmp_rfcv3", "enable_snmp_checker", "snmp_vs_stats_update_interval", "snmp_rs_stats_update_interval",
        ],
        .noEffect("there is no D-Bus interface"): ["enable_dbus", "dbus_service_name", "dbus_no_interface_name"],
        .noEffect("one process reads the config; no copy is kept for child processes"): ["tmp_config_directory"],
        .noEffect("a reload always checks the new config first and keeps the running one if it has errors"): ["reload_check_config"],
        .noEffect("a fixed random seed, a testing aid of keepalived's"): ["random_seed"],
        .notSupportedYet("how script paths are checked under enable_script_security"): ["use_symlink_paths"],
        .notSupportedYet("a global default for log_all_failures; write it in each checker"): ["checker_log_all_failures"],
        .email: ["no_email_faults", "no_checker_emails"],
        .notSupportedYet("a default interface for VRRP instances"): ["default_interface"],
        .notSupportedYet("turning off IGMP reports"): ["disable_local_igmp"],
        .garpExtras: ["vrrp_garp_extra_if", "vrrp_vmac_garp_intvl"],
        .ownerIgnoresAdverts: ["vrrp_owner_ignore_adverts"],
        .firewall: [
            "vrrp_iptables", "vrrp_ipsets", "nftables", "nftables_priority", "nftables_ifindex", "nftables_ipvs",
            "nftables_ipvs_priority", "nftables_ipvs_start_fwmark", "nftables_counters",
        ],
        .priorityNotifications: ["vrrp_notify_priority_changes"],
        .notSupportedYet("VRRP states on the notify FIFO after a reload"): ["fifo_write_vrrp_states_on_reload"],
        .notSupportedYet("netlink receive buffer sizes"): [
            "vrrp_netlink_cmd_rcv_bufs", "vrrp_netlink_cmd_rcv_bufs_force", "vrrp_netlink_monitor_rcv_bufs",
            "vrrp_netlink_monitor_rcv_bufs_force", "process_monitor_rcv_bufs", "process_monitor_rcv_bufs_force",
            "lvs_netlink_cmd_rcv_bufs", "lvs_netlink_cmd_rcv_bufs_force", "lvs_netlink_monitor_rcv_bufs",
            "lvs_netlink_monitor_rcv_bufs_force",
        ],
        .notSupportedYet("notify scripts for real servers at start"): ["rs_init_notifies"],
        .notSupportedYet("VRRP receive buffer sizes"): ["vrrp_rx_bufs_policy", "vrrp_rx_bufs_multiplier"],
        .notSupportedYet("delaying VRRP at start"): ["vrrp_startup_delay", "vrrp_delay_after_boot"],
        .notSupportedYet("logging adverts for unknown VRIDs"): ["log_unknown_vrids"],
        .vmac: ["vmac_addr_prefix"],
        .notSupportedYet("scheduled reloads"): ["reload_time_file", "reload_repeat", "reload_file"],
        .notSupportedYet("checking included files on reload"): ["include_check"],
        .notSupportedYet("saving the config on reload"): ["config_save_dir"],
        .notSupportedYet("instance names in data file names"): ["data_use_instance"],
        .notSupportedYet("the JSON dump's format version"): ["json_version"],
        .notSupportedYet("names from iproute2's files; write numbers"): ["iproute_usr_dir", "iproute_etc_dir"],
        .notSupportedYet("dump file paths; the dumps go to /tmp/keepalived.data, .stats and .json"): [
            "state_dump_file", "stats_dump_file", "json_dump_file",
        ],
    ])
}

extension VRRPSyncGroup {
    static let unimplementedKeywords: [String: KeywordRule<VRRPSyncGroup>] = UnimplementedKeyword.rules([
        .notSupportedYet("tracking weights in sync groups"): ["sync_group_tracking_weight"],
        .priorityNotifications: ["notify_priority_changes"],
    ])
}

extension VRRPInstance {
    static let unimplementedKeywords: [String: KeywordRule<VRRPInstance>] = UnimplementedKeyword.rules([
        .vmac: ["use_vmac_addr"],
        .notSupportedYet("FAULT without unicast peers"): ["unicast_fault_no_peer"],
        .notSupportedYet("checking advert sources against the unicast peers"): ["check_unicast_src"],
        .notSupportedYet("pre-2.0 unicast checksums"): ["old_unicast_checksum"],
        .notSupportedYet("IPv6 instances without IPv6 addresses"): ["native_ipv6"],
        .notSupportedYet("VRF"): ["vrf"],
        .notSupportedYet("following changes of the source address"): ["track_src_ip"],
        .notSupportedYet("the TTL of unicast adverts"): ["unicast_ttl"],
        .notSupportedYet("setting promote_secondaries on the interface"): ["promote_secondaries"],
        .linkPolling: ["linkbeat_use_polling"],
        .noEffect("keepalived only shows it in its data dump"): ["debug"],
        .notSupportedYet("notify scripts for deleted instances"): ["notify_deleted"],
        .notSupportedYet("notify scripts for adverts of lower priority"): ["notify_master_rx_lower_pri"],
        .priorityNotifications: ["notify_priority_changes"],
        .notSupportedYet("going to BACKUP after a late timer under nopreempt"): ["timer_expired_backup", "thread_timer_expired"],
        .garpExtras: ["garp_extra_if", "vmac_garp_intvl"],
        .ownerIgnoresAdverts: ["owner_ignore_adverts"],
        .notSupportedYet("the receive buffer size"): ["kernel_rx_buf_size"],
        .notSupportedYet("HMAC authentication"): ["auth_hmac"],
    ])
}

extension VirtualServer {
    static let unimplementedKeywords: [String: KeywordRule<VirtualServer>] = UnimplementedKeyword.rules([
        .noEffect("IPVS hashes every service; keepalived ignores it too"): ["hashed"],
        .snmp: ["snmp_name"],
        .notSupportedYet("a default weight for real servers; write weight in each real_server"): ["weight"],
    ])
}

extension RealServer {
    static let unimplementedKeywords: [String: KeywordRule<RealServer>] = UnimplementedKeyword.rules([
        .snmp: ["snmp_name"],
        .bfd: ["BFD_CHECK"],
    ])
}

extension CheckerDraft {
    static let unimplementedHTTPKeywords: [String: KeywordRule<CheckerDraft>] = UnimplementedKeyword.rules([
        .noEffect("SNI is part of TLS, which HTTP_GET does not use"): ["enable_sni"],
    ])
}
