import VRRP

/// mehdy/keepalived-exporter's per-instance counters (labels iname, intf, vrid), with its names
/// and help texts, each read from the instance's keepalived counters (`VRRPCounters`, counted
/// where keepalived counts them), so the same number shows in keepalived.stats and in /metrics.
enum ExporterCounters {
    struct Entry: Sendable {
        let name: String
        let help: String
        let count: @Sendable (VRRPCounters) -> Int
    }

    static let perInstance: [Entry] = [
        Entry(name: "keepalived_advertisements_received_total", help: "Advertisements received", count: { $0.advertisementsReceived }),
        Entry(name: "keepalived_advertisements_sent_total", help: "Advertisements sent", count: { $0.advertisementsSent }),
        Entry(name: "keepalived_become_master_total", help: "Became master", count: { $0.becameMaster }),
        Entry(name: "keepalived_release_master_total", help: "Released master", count: { $0.releasedMaster }),
        Entry(name: "keepalived_packet_length_errors_total", help: "Packet length errors", count: { $0.packetLengthErrors }),
        Entry(name: "keepalived_advertisements_interval_errors_total", help: "Advertisement interval errors",
              count: { $0.advertisementIntervalErrors }),
        Entry(name: "keepalived_ip_ttl_errors_total", help: "TTL errors", count: { $0.ttlErrors }),
        Entry(name: "keepalived_invalid_type_received_total", help: "Invalid type errors", count: { $0.invalidTypeReceived }),
        Entry(name: "keepalived_address_list_errors_total", help: "Address list errors", count: { $0.addressListErrors }),
        Entry(name: "keepalived_authentication_invalid_total", help: "Authentication invalid", count: { $0.invalidAuthenticationType }),
        Entry(name: "keepalived_authentication_mismatch_total", help: "Authentication mismatch", count: { $0.authenticationTypeMismatch }),
        Entry(name: "keepalived_authentication_failure_total", help: "Authentication failure", count: { $0.authenticationFailures }),
        Entry(name: "keepalived_priority_zero_received_total", help: "Priority zero received", count: { $0.priorityZeroReceived }),
        Entry(name: "keepalived_priority_zero_sent_total", help: "Priority zero sent", count: { $0.priorityZeroSent }),
    ]
}
