import Foundation
import KeepalivedConfig
import XCTest

/// Every keyword keepalived registers is known to us: acted on, or accepted with one warning
/// saying it has no effect here. The list is keepalived's own keyword tree
/// (Data/keepalived-2.4.3-keywords.txt; its header names the source).
final class KeepalivedKeywordCoverageTests: XCTestCase {
    /// Keywords being implemented on other branches while this test was written: skipped here.
    /// The merge of those branches is to empty this list. An entry covers its path and every
    /// path below it.
    static let implementedElsewhere: [String] = [
    ]

    /// How each block keyword opens, by its path: the keyword with valid arguments.
    static let blockOpeners: [String: String] = [
        "global_defs": "global_defs",
        "global_defs notification_email": "notification_email",
        "track_group": "track_group TG_1",
        "track_group group": "group",
        "static_ipaddress": "static_ipaddress",
        "static_routes": "static_routes",
        "static_rules": "static_rules",
        "vrrp_sync_group": "vrrp_sync_group SG_1",
        "vrrp_sync_group group": "group",
        "vrrp_sync_group track_interface": "track_interface",
        "vrrp_sync_group track_script": "track_script",
        "vrrp_sync_group track_file": "track_file",
        "vrrp_sync_group track_process": "track_process",
        "vrrp_sync_group track_bfd": "track_bfd",
        "garp_group": "garp_group",
        "garp_group interfaces": "interfaces",
        "linkbeat_interfaces": "linkbeat_interfaces",
        "interface_up_down_delays": "interface_up_down_delays",
        "vrrp_instance": "vrrp_instance VI_1",
        "vrrp_instance unicast_peer": "unicast_peer",
        "vrrp_instance track_interface": "track_interface",
        "vrrp_instance track_script": "track_script",
        "vrrp_instance track_file": "track_file",
        "vrrp_instance track_process": "track_process",
        "vrrp_instance track_bfd": "track_bfd",
        "vrrp_instance virtual_ipaddress": "virtual_ipaddress",
        "vrrp_instance virtual_ipaddress_excluded": "virtual_ipaddress_excluded",
        "vrrp_instance virtual_routes": "virtual_routes",
        "vrrp_instance virtual_rules": "virtual_rules",
        "vrrp_instance authentication": "authentication",
        "vrrp_instance auth_hmac": "auth_hmac",
        "vrrp_script": "vrrp_script SCRIPT_1",
        "vrrp_track_process": "vrrp_track_process PROCESS_1",
        "SSL": "SSL",
        "virtual_server_group": "virtual_server_group VSG_1",
        "virtual_server": "virtual_server 192.0.2.1 80",
        "virtual_server real_server": "real_server 198.51.100.1 80",
        "virtual_server real_server MISC_CHECK": "MISC_CHECK",
        "virtual_server real_server SMTP_CHECK": "SMTP_CHECK",
        "virtual_server real_server SMTP_CHECK host": "host",
        "virtual_server real_server TCP_CHECK": "TCP_CHECK",
        "virtual_server real_server PING_CHECK": "PING_CHECK",
        "virtual_server real_server UDP_CHECK": "UDP_CHECK",
        "virtual_server real_server HTTP_GET": "HTTP_GET",
        "virtual_server real_server HTTP_GET url": "url",
        "virtual_server real_server SSL_GET": "SSL_GET",
        "virtual_server real_server SSL_GET url": "url",
        "virtual_server real_server DNS_CHECK": "DNS_CHECK",
        "virtual_server real_server FILE_CHECK": "FILE_CHECK",
        "virtual_server real_server BFD_CHECK": "BFD_CHECK",
        "bfd_instance": "bfd_instance BFD_1",
        "track_file": "track_file FILE_1",
        "vrrp_track_file": "vrrp_track_file FILE_1",
    ]

    /// A plausible value for a keyword written on one line, by keyword; none when not listed.
    static let values: [String: String] = [
        "net_namespace": "blue", "instance": "lb1", "child_wait_time": "5",
        "process_name": "keepalived", "vrrp_process_name": "vrrp", "checker_process_name": "checker",
        "lvs_process_name": "checker", "bfd_process_name": "bfd", "router_id": "LVS_1",
        "notification_email_from": "lvs@example.org", "smtp_server": "192.0.2.25", "smtp_helo_name": "lvs.example.org",
        "smtp_connect_timeout": "30", "startup_script": "/bin/true", "startup_script_timeout": "10",
        "shutdown_script": "/bin/true", "shutdown_script_timeout": "10", "max_auto_priority": "50",
        "min_auto_priority_delay": "1000", "default_interface": "eth0", "lvs_timeouts": "tcp 900 tcpfin 120 udp 300",
        "lvs_sync_daemon": "eth0 VI_1 id 1", "vrrp_mcast_group4": "224.0.0.18", "vrrp_mcast_group6": "ff02::12",
        "vrrp_garp_master_delay": "5", "vrrp_garp_master_repeat": "5", "vrrp_garp_master_refresh": "60",
        "vrrp_garp_master_refresh_repeat": "2", "vrrp_garp_lower_prio_delay": "5", "vrrp_garp_lower_prio_repeat": "5",
        "vrrp_down_timer_adverts": "3", "vrrp_garp_interval": "0.001", "vrrp_gna_interval": "0.001", "vrrp_min_garp": "true",
        "vrrp_garp_extra_if": "60", "vrrp_vmac_garp_intvl": "60", "vrrp_version": "2", "vrrp_iptables": "INPUT OUTPUT",
        "vrrp_ipsets": "keepalived", "nftables": "keepalived", "nftables_priority": "-1", "nftables_ipvs_priority": "-1",
        "nftables_ipvs_start_fwmark": "1000", "vrrp_priority": "-20", "vrrp_rt_priority": "50", "vrrp_cpu_affinity": "0",
        "vrrp_rlimit_rttime": "10000", "vrrp_rlimit_rtime": "10000", "checker_priority": "-20", "checker_rt_priority": "50",
        "checker_cpu_affinity": "0", "checker_rlimit_rttime": "10000", "checker_rlimit_rtime": "10000",
        "bfd_priority": "-20", "bfd_rt_priority": "50", "bfd_cpu_affinity": "0", "bfd_rlimit_rttime": "10000",
        "bfd_rlimit_rtime": "10000", "notify_fifo": "/run/keepalived.fifo", "notify_fifo_script": "/bin/true",
        "vrrp_notify_fifo": "/run/vrrp.fifo", "vrrp_notify_fifo_script": "/bin/true", "lvs_notify_fifo": "/run/lvs.fifo",
        "lvs_notify_fifo_script": "/bin/true", "snmp_socket": "udp:localhost:705", "snmp_vs_stats_update_interval": "5",
        "snmp_rs_stats_update_interval": "5", "dbus_service_name": "org.keepalived.Vrrp1", "script_user": "keepalived_script",
        "vrrp_netlink_cmd_rcv_bufs": "1048576", "vrrp_netlink_monitor_rcv_bufs": "1048576",
        "process_monitor_rcv_bufs": "1048576", "lvs_netlink_cmd_rcv_bufs": "1048576", "lvs_netlink_monitor_rcv_bufs": "1048576",
        "rs_init_notifies": "true", "vrrp_rx_bufs_policy": "MTU", "vrrp_rx_bufs_multiplier": "3", "vrrp_startup_delay": "5",
        "vrrp_delay_after_boot": "60", "vmac_prefix": "vrrp", "vmac_addr_prefix": "vrrp", "umask": "0077",
        "random_seed": "1", "reload_time_file": "/run/keepalived.reload", "reload_repeat": "true",
        "reload_file": "/run/keepalived.reload", "include_check": "/etc/keepalived", "config_save_dir": "/tmp",
        "tmp_config_directory": "/tmp", "json_version": "2", "iproute_usr_dir": "/usr/share/iproute2",
        "iproute_etc_dir": "/etc/iproute2", "state_dump_file": "/tmp/keepalived.data", "stats_dump_file": "/tmp/keepalived.stats",
        "json_dump_file": "/tmp/keepalived.json", "notify_master": "/bin/true", "notify_backup": "/bin/true",
        "notify_fault": "/bin/true", "notify_stop": "/bin/true", "notify_deleted": "/bin/true", "notify": "/bin/true",
        "notify_master_rx_lower_pri": "/bin/true", "sync_group_tracking_weight": "", "garp_interval": "0.001",
        "gna_interval": "0.001", "interface": "eth0", "use_vmac": "vrrp.51", "vmac_xmit_base": "", "use_ipvlan": "ipvlan0",
        "check_unicast_src": "", "state": "BACKUP", "vrf": "vrf-blue", "mcast_src_ip": "192.0.2.10",
        "unicast_src_ip": "192.0.2.10", "mcast_dst_ip": "224.0.0.18", "track_src_ip": "", "virtual_router_id": "51",
        "unicast_ttl": "255", "version": "2", "priority": "100", "advert_int": "1", "preempt_delay": "10", "debug": "1",
        "lvs_sync_daemon_interface": "eth0", "garp_master_delay": "5", "garp_master_refresh": "60", "garp_master_repeat": "5",
        "garp_master_refresh_repeat": "2", "garp_lower_prio_delay": "5", "garp_lower_prio_repeat": "5",
        "down_timer_adverts": "3", "garp_extra_if": "60", "vmac_garp_intvl": "60", "kernel_rx_buf_size": "65536",
        "auth_type": "PASS", "auth_pass": "secret", "key": "/etc/keepalived/key.pem", "active_key": "1", "time_window": "10",
        "anti_replay": "", "mode": "sha256", "script": "/bin/true", "interval": "2", "timeout": "5", "weight": "10",
        "rise": "2", "fall": "2", "user": "nobody", "process": "haproxy", "param_match": "initial", "quorum": "1",
        "quorum_max": "3", "delay": "2", "terminate_delay": "2", "fork_delay": "2", "password": "secret",
        "ca": "/etc/keepalived/ca.pem", "certificate": "/etc/keepalived/cert.pem", "ip_family": "inet", "retry": "3",
        "delay_before_retry": "3", "warmup": "5", "connect_timeout": "5", "delay_loop": "6", "lb_algo": "rr",
        "lvs_sched": "rr", "lb_kind": "NAT", "lvs_method": "NAT", "persistence_engine": "sip", "persistence_timeout": "50",
        "persistence_granularity": "255.255.255.0", "protocol": "TCP", "virtualhost": "www.example.org",
        "snmp_name": "web", "quorum_up": "/bin/true", "quorum_down": "/bin/true", "hysteresis": "0",
        "sorry_server": "198.51.100.99 80", "sorry_server_lvs_method": "NAT", "uthreshold": "100", "lthreshold": "10",
        "notify_up": "/bin/true", "notify_down": "/bin/true", "misc_path": "/bin/true", "misc_timeout": "5",
        "helo_name": "lvs.example.org", "connect_ip": "198.51.100.1", "connect_port": "80", "bindto": "192.0.2.10",
        "bind_port": "40000", "bind_if": "eth0", "fwmark": "5", "payload": "0a0b", "require_reply": "0a0b",
        "min_reply_length": "2", "max_reply_length": "100", "nb_get_retry": "3", "http_protocol": "1.1",
        "path": "/", "digest": "9b3a0c85a887a256d6939da88aabd8cd", "status_code": "200", "regex": "OK",
        "regex_options": "caseless", "regex_min_offset": "0", "regex_max_offset": "100", "regex_stack": "32768",
        "type": "A", "name": "example.org", "track_file": "FILE_1", "source_ip": "192.0.2.10",
        "neighbor_ip": "192.0.2.20", "neighbour_ip": "192.0.2.20", "min_rx": "10", "min_tx": "10", "idle_tx": "1000",
        "multiplier": "5", "ttl": "255", "hoplimit": "255", "max_hops": "1", "file": "/run/track", "init_file": "0",
    ]

    static let keywordPaths: [[String]] = {
        let data = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("Data/keepalived-2.4.3-keywords.txt")
        let text = (try? String(contentsOf: data, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").filter { !$0.hasPrefix("#") }
            .map { $0.split(separator: " ").map(String.init) }
    }()

    private static func isImplementedElsewhere(_ path: String) -> Bool {
        implementedElsewhere.contains { path == $0 || path.hasPrefix($0 + " ") }
    }

    /// A config that opens the blocks around `path`'s keyword and writes `keyword` there, with a
    /// value, or as an empty block when keepalived's keyword opens one.
    private static func config(for path: [String], keyword: String? = nil) -> String {
        var lines: [String] = []
        for depth in 1..<path.count {
            let enclosing = path[..<depth].joined(separator: " ")
            lines.append("\(blockOpeners[enclosing] ?? enclosing) {")
        }
        let fullPath = path.joined(separator: " ")
        if let keyword {
            lines.append(keyword)
        } else if let opener = blockOpeners[fullPath] {
            lines.append("\(opener) {")
            lines.append("}")
        } else {
            lines.append([path.last!, values[path.last!] ?? ""].joined(separator: " "))
        }
        lines.append(contentsOf: repeatElement("}", count: path.count - 1))
        return lines.joined(separator: "\n") + "\n"
    }

    /// "unknown keyword", or a keyword taken for a member of a sync group in keepalived's old
    /// syntax (which reads any bare word it does not know as an instance name).
    private static func unknownKeywordMessages(_ result: LoadedConfiguration) -> [String] {
        result.diagnostics.all.map(\.message).filter { $0.contains("unknown keyword") || $0.contains("(the old syntax)") }
    }

    private static func isIgnoredMessage(_ message: String, for keyword: String) -> Bool {
        message.hasPrefix("'\(keyword)' has no effect in swiftkeepalived (") || message.hasPrefix("'\(keyword)' is not supported yet in swiftkeepalived (")
    }

    /// Inside a block we accept and skip (bfd_instance, auth_hmac, …) every keyword is accepted
    /// with it: the block's one warning covers them.
    private static func anEnclosingBlockIsIgnored(_ path: [String], _ result: LoadedConfiguration) -> Bool {
        path.dropLast().contains { block in result.diagnostics.warnings.contains { isIgnoredMessage($0.message, for: block) } }
    }

    func testTheKeywordListIsThere() {
        XCTAssertEqual(Self.keywordPaths.count, 528, "Data/keepalived-2.4.3-keywords.txt holds keepalived 2.4.3's 528 keyword paths")
        let all = Set(Self.keywordPaths.map { $0.joined(separator: " ") })
        XCTAssertEqual(Self.implementedElsewhere.filter { !all.contains($0) }, [], "allow-list entries that are no keepalived keyword path")
    }

    func testEveryKeepalivedKeywordIsKnown() {
        var unknown: [String] = []
        var unreached: [String] = []
        var noisy: [String] = []
        for path in Self.keywordPaths {
            let name = path.joined(separator: " ")
            guard !Self.isImplementedElsewhere(name) else { continue }
            let result = parse(Self.config(for: path))
            let messages = Self.unknownKeywordMessages(result)
            if !messages.isEmpty { unknown.append("\(name): \(messages.joined(separator: " | "))") }
            // A keyword accepted without effect says so in one line, and nothing else.
            let line = path.count
            let atKeyword = result.diagnostics.all.filter { $0.location.line == line }
            if atKeyword.contains(where: { Self.isIgnoredMessage($0.message, for: path.last!) }), atKeyword.count != 1 {
                noisy.append("\(name): \(atKeyword.map(\.message).joined(separator: " | "))")
            }
            // The same place with a made-up keyword must be reported: otherwise the enclosing
            // blocks were skipped and the check above proved nothing.
            let control = parse(Self.config(for: path, keyword: "no_such_keyword 1"))
            if !Self.unknownKeywordMessages(control).contains(where: { $0.contains("'no_such_keyword'") }),
               !Self.anEnclosingBlockIsIgnored(path, control) {
                unreached.append(name)
            }
        }
        XCTAssertEqual(unknown.count, 0, "keepalived keywords we call unknown:\n" + unknown.joined(separator: "\n"))
        XCTAssertEqual(noisy.count, 0, "keywords accepted without effect that say more than one line:\n" + noisy.joined(separator: "\n"))
        XCTAssertEqual(unreached.count, 0, "keyword paths this test could not reach (its enclosing blocks were refused):\n"
                           + unreached.joined(separator: "\n"))
    }
}
