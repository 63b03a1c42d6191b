import VRRP

/// mehdy/keepalived-exporter's per-instance counters (labels iname, intf, vrid), with its names
/// and help texts, and where our instance report keeps each count.
///
/// PENDING: a nil `count` is a counter keepalived keeps and our instance report does not have yet;
/// its metric is left out until it does (a series stuck at 0 would read as "never happened").
/// When VRRPInstanceReport gains the field, give the closure here; nothing else changes.
/// The five refusal counters are read from `rejected` (keyed by AdvertisementCheck.Rejection's
/// text) until the report has fields of their own.
enum ExporterCounters {
    struct Entry: Sendable {
        let name: String
        let help: String
        let count: (@Sendable (VRRPInstanceReport) -> Int)?
    }

    static let perInstance: [Entry] = [
        Entry(name: "keepalived_advertisements_received_total", help: "Advertisements received", count: { $0.advertisementsReceived }),
        Entry(name: "keepalived_advertisements_sent_total", help: "Advertisements sent", count: { $0.advertisementsSent }),
        Entry(name: "keepalived_become_master_total", help: "Became master", count: nil),
        Entry(name: "keepalived_release_master_total", help: "Released master", count: nil),
        Entry(name: "keepalived_packet_length_errors_total", help: "Packet length errors", count: nil),
        Entry(name: "keepalived_advertisements_interval_errors_total", help: "Advertisement interval errors",
              count: { $0.rejected[AdvertisementCheck.Rejection.intervalMismatch.rawValue] ?? 0 }),
        Entry(name: "keepalived_ip_ttl_errors_total", help: "TTL errors",
              count: { $0.rejected[AdvertisementCheck.Rejection.wrongTTL.rawValue] ?? 0 }),
        Entry(name: "keepalived_invalid_type_received_total", help: "Invalid type errors", count: nil),
        Entry(name: "keepalived_address_list_errors_total", help: "Address list errors",
              count: { $0.rejected[AdvertisementCheck.Rejection.addressMismatch.rawValue] ?? 0 }),
        Entry(name: "keepalived_authentication_invalid_total", help: "Authentication invalid", count: nil),
        Entry(name: "keepalived_authentication_mismatch_total", help: "Authentication mismatch",
              count: { $0.rejected[AdvertisementCheck.Rejection.authenticationTypeMismatch.rawValue] ?? 0 }),
        Entry(name: "keepalived_authentication_failure_total", help: "Authentication failure",
              count: { $0.rejected[AdvertisementCheck.Rejection.authenticationFailure.rawValue] ?? 0 }),
        Entry(name: "keepalived_priority_zero_received_total", help: "Priority zero received", count: { $0.priorityZeroReceived }),
        Entry(name: "keepalived_priority_zero_sent_total", help: "Priority zero sent", count: { $0.priorityZeroSent }),
    ]

    /// The names still waiting for a field in the report.
    static var pending: [String] { perInstance.filter { $0.count == nil }.map(\.name) }
}
