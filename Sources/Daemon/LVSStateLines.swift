import IPVS
import KeepalivedConfig

/// The IPVS sync daemons and timeouts as keepalived.data's global section shows them (keepalived's
/// lines, with its "LVS TCP timeout" for the UDP one corrected), and the daemons running now in
/// the kernel, which keepalived does not show.
struct LVSStateLines {
    let sync: LVSSyncDaemon?
    /// What the kernel runs now (nil: could not be read).
    let running: [IPVSSyncDaemonState]?
    let timeouts: LVSTimeouts?

    var lines: [String] {
        var lines: [String] = []
        if let timeouts {
            if let tcp = timeouts.tcp { lines.append(" LVS TCP timeout = \(tcp)") }
            if let fin = timeouts.tcpFin { lines.append(" LVS TCP FIN timeout = \(fin)") }
            if let udp = timeouts.udp { lines.append(" LVS UDP timeout = \(udp)") }
        }
        guard let sync else { return lines }
        if let instance = sync.instance { lines.append(" LVS syncd vrrp instance = \(instance)") }
        lines.append(" LVS syncd interface = \(sync.interface)")
        lines.append(" LVS syncd syncid = \(sync.syncID ?? 0)")
        if let length = sync.maxLength { lines.append(" LVS syncd maxlen = \(length)") }
        if let group = sync.group { lines.append(" LVS mcast group \(group)") }
        if let port = sync.port { lines.append(" LVS syncd mcast port = \(port)") }
        if let ttl = sync.ttl { lines.append(" LVS syncd mcast ttl = \(ttl)") }
        if let running {
            let roles = running.map { "\($0.role.rawValue) on \($0.interface) (syncid \($0.syncID))" }
            lines.append(" LVS syncd running = \(roles.isEmpty ? "none" : roles.joined(separator: ", "))")
        }
        return lines
    }
}
