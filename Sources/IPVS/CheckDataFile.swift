import KeepalivedConfig

/// The LVS part of keepalived's SIGUSR1 dump, keepalived_check.data, in keepalived 2.2.7's
/// check_data layout for the lines we have values for (virtual servers, their real servers,
/// health and weights); checker queues and SSL details are left out.
public enum CheckDataFile {
    public static func render(_ servers: [VirtualServer], reports: [VirtualServerReport]) -> String {
        guard !servers.isEmpty else { return "" }
        var lines = ["------< LVS Topology >------", " System is compiled with LVS v1.2.1"]
        for (server, report) in zip(servers, reports) { lines += self.lines(server, report) }
        return lines.joined(separator: "\n") + "\n"
    }

    static func lines(_ server: VirtualServer, _ report: VirtualServerReport) -> [String] {
        var lines = [" ------< Virtual server >------"]
        switch server.key {
        case .group(let name): lines.append(" VS GROUP = \(name)")
        case .fwmark(let mark): lines.append(" VS FWMARK = \(mark)")
        case .address(let address, let port): lines.append(" VS VIP = \(address), VPORT = \(port)")
        }
        if let host = server.virtualhost { lines.append("   VirtualHost = \(host)") }
        let family = server.ipFamily ?? {
            if case .address(let address, _) = server.key { return address.family }
            return .inet
        }()
        lines.append("   Address family = inet\(family == .inet6 ? "6" : "")")
        lines.append("   delay_loop = \(decimal(server.timing.delayLoop ?? 60))")
        lines.append("   lvs_sched = \(server.effectiveScheduler.rawValue)")
        lines.append("   One packet scheduling = \(server.onePacketScheduling ? "enabled" : "disabled")")
        if let timeout = server.persistenceTimeout { lines.append("   persistence timeout = \(timeout)") }
        lines.append("   protocol = \(server.effectiveProtocol.rawValue)")
        lines.append("   alpha is \(server.alpha ? "ON" : "OFF")")
        lines.append("   omega is \(server.omega ? "ON" : "OFF")")
        lines.append("   Inhibit on failure is \(server.inhibitOnFailure == true ? "ON" : "OFF")")
        lines.append("   quorum = \(server.quorum ?? VirtualServer.defaultQuorum), hysteresis = \(server.hysteresis ?? VirtualServer.defaultHysteresis)")
        lines.append("   Using smtp notification = \(server.smtpAlert == true ? "yes" : "no")")
        lines.append("   default forwarding method = \(server.effectiveForwardingMethod.rawValue)")
        if let sorry = server.sorryServer {
            lines.append("   sorry server = [\(sorry.address)]:\(server.effectiveProtocol.rawValue.lowercased()):\(sorry.port ?? 0)")
            lines.append("     Inhibit on failure is \(server.sorryServerInhibit ? "ON" : "OFF")")
        }
        lines.append("   alive = \(report.realServers.contains(where: \.up) ? 1 : 0)")
        lines.append("   quorum_state_up = \(report.quorumLost ? 0 : 1)")
        lines.append("   reloaded = 0")
        for (real, state) in zip(server.realServers, report.realServers) {
            let weight = state.weight ?? 0
            lines += [
                "   ------< Real server >------",
                "   RIP = \(state.address), RPORT = \(state.port), WEIGHT = \(weight) EFF WEIGHT = \(weight)",
                "   forwarding method = \((real.forwardingMethod ?? server.effectiveForwardingMethod).rawValue)",
                "   Alpha is \((real.alpha ?? server.alpha) ? "ON" : "OFF")",
                "   Inhibit on failure is \((real.inhibitOnFailure ?? server.inhibitOnFailure ?? false) ? "ON" : "OFF")",
                "   Using smtp notification = \((real.smtpAlert ?? server.smtpAlert ?? false) ? "yes" : "no")",
                "   initial weight = \(real.effectiveWeight)",
                "   effective weight = \(weight)",
                "   alive = \(state.up ? 1 : 0)",
                "   num failed checkers = \(state.up ? 0 : 1)",
                "   RS set = \(state.weight == nil ? 0 : 1)",
                "   reloaded = 0",
            ]
        }
        return lines
    }

    /// keepalived's format_decimal: seconds without trailing zeros.
    private static func decimal(_ seconds: Double) -> String {
        seconds == seconds.rounded() ? String(Int(seconds)) : String(seconds)
    }
}

extension IPVSRuntime {
    /// keepalived_check.data's text. Call on the loop.
    public var checkData: String { CheckDataFile.render(configuration.virtualServers, reports: report) }
}
