import DaemonCore
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
        lines.append("   connection timeout = \(decimal(server.timing.connectTimeout ?? 5))")
        lines.append("   delay_loop = \(decimal(server.timing.delayLoop ?? 60))")
        lines.append("   lvs_sched = \(server.effectiveScheduler.rawValue)")
        lines.append("   Hashed = disabled")
        lines += schedulerFlagLines(server)
        let inactive = server.onePacketScheduling && server.effectiveProtocol != .udp ? " (inactive due to not UDP)" : ""
        lines.append("   One packet scheduling = \(server.onePacketScheduling ? "enabled" : "disabled")\(inactive)")
        if let timeout = server.persistenceTimeout { lines.append("   persistence timeout = \(timeout)") }
        lines.append("   protocol = \(server.effectiveProtocol.rawValue)")
        lines.append("   alpha is \(server.alpha ? "ON" : "OFF")")
        lines.append("   omega is \(server.omega ? "ON" : "OFF")")
        lines.append("   Inhibit on failure is \(server.inhibitOnFailure == true ? "ON" : "OFF")")
        lines.append("   quorum = \(server.quorum ?? VirtualServer.defaultQuorum), hysteresis = \(server.hysteresis ?? VirtualServer.defaultHysteresis)")
        if let script = server.quorumUp { lines.append("   Quorum up notify script = \(quoted(script.command)), uid:gid 0:0") }
        if let script = server.quorumDown { lines.append("   Quorum down notify script = \(quoted(script.command)), uid:gid 0:0") }
        if server.haSuspend { lines.append("   Using HA suspend") }
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
                "   connection timeout = \(decimal(real.timing.connectTimeout ?? server.timing.connectTimeout ?? 5))",
                "   connection limit range = \(real.lowerThreshold ?? 0) -> \(real.upperThreshold ?? 0)",
                "   Delay loop = \(decimal(real.timing.delayLoop ?? server.timing.delayLoop ?? 60))",
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

    /// The scheduler's three flags, named as keepalived names them for sh and mh. The kernel's
    /// flag 1 is sh/mh-fallback, flag 2 sh/mh-port.
    private static func schedulerFlagLines(_ server: VirtualServer) -> [String] {
        let flags = server.schedulerFlags
        func state(_ names: String...) -> String { names.contains(where: flags.contains) ? "enabled" : "disabled" }
        switch server.effectiveScheduler {
        case .sh: return ["   sh-port = \(state("sh-port", "flag-2"))", "   sh-fallback = \(state("sh-fallback", "flag-1"))"]
        case .mh: return ["   mh-port = \(state("mh-port", "flag-2"))", "   mh-fallback = \(state("mh-fallback", "flag-1"))"]
        default:
            return ["   flag-1 = \(state("flag-1", "sh-fallback", "mh-fallback"))", "   flag-2 = \(state("flag-2", "sh-port", "mh-port"))",
                    "   flag-3 = \(state("flag-3"))"]
        }
    }

    /// A command as keepalived writes it: each argument in single quotes.
    private static func quoted(_ command: String) -> String {
        ScriptArguments.split(command).map { "'\($0)'" }.joined(separator: " ")
    }

    /// keepalived's format_decimal: seconds without trailing zeros.
    private static func decimal(_ seconds: Double) -> String {
        seconds == seconds.rounded() ? String(Int(seconds)) : String(seconds)
    }
}

extension IPVSRuntime {
    /// Makes keepalived_check.data's text from the state as it is now, on any thread. Call on
    /// the loop; the text itself may be made later, away from it.
    public var checkDataText: @Sendable () -> String {
        let (servers, reports) = (configuration.virtualServers, report)
        return { CheckDataFile.render(servers, reports: reports) }
    }
}
