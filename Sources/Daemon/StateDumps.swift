#if canImport(Glibc)
import Glibc
#endif
import DaemonCore
import FoundationEssentials
import IPVS
import VRRP

/// keepalived's state dumps, on its signals and in its files: SIGUSR1 writes the running state
/// to keepalived.data, SIGUSR2 the VRRP statistics to keepalived.stats, SIGRTMIN+2 (keepalived's
/// SIGJSON) the state as JSON to keepalived.json, all in /tmp.
struct StateDumps {
    let vrrp: [VRRPInstanceReport]
    let virtualServers: [VirtualServerReport]

    /// The folder; tests point it elsewhere with SWIFTKEEPALIVED_DUMP_DIR.
    static var directory: String { getenv("SWIFTKEEPALIVED_DUMP_DIR").map { String(cString: $0) } ?? "/tmp" }

    var data: String {
        var text = "------< VRRP Topology >------\n"
        for instance in vrrp {
            text += " VRRP Instance = \(instance.name)\n"
            text += "   State = \(instance.state)\n"
            text += "   Interface = \(instance.interface)\n"
            text += "   Virtual Router ID = \(instance.virtualRouterID)\n"
            text += "   Priority = \(instance.configuredPriority)\n"
            text += "   Effective priority = \(instance.effectivePriority)\n"
            text += "   Virtual IP = \(instance.virtualAddresses.count)\n"
            for address in instance.virtualAddresses { text += "     \(address)\n" }
        }
        text += "------< LVS Topology >------\n"
        for server in virtualServers {
            text += " VS = \(server.name)\(server.services.count > 1 ? " (\(server.services.count) services)" : "")\n"
            text += "   Quorum = \(server.quorumLost ? "lost" : "held")\n"
            for real in server.realServers {
                text += "   RS = [\(real.address)]:\(real.port)\n"
                text += "     Alive = \(real.up ? "yes" : "no")\n"
                text += "     Weight = \(real.weight.map(String.init) ?? "not in the table")\n"
            }
        }
        return text
    }

    var statistics: String {
        var text = ""
        for instance in vrrp {
            text += "VRRP Instance: \(instance.name)\n"
            text += "  Advertisements:\n"
            text += "    Received: \(instance.advertisementsReceived)\n"
            text += "    Sent: \(instance.advertisementsSent)\n"
            text += "  Gratuitous ARPs sent: \(instance.gratuitousARPsSent)\n"
            text += "  Send errors: \(instance.sendErrors)\n"
            text += "  Packets refused:\n"
            for reason in instance.rejected.keys.sorted() { text += "    \(reason): \(instance.rejected[reason] ?? 0)\n" }
            text += "  Priority Zero:\n"
            text += "    Received: \(instance.priorityZeroReceived)\n"
            text += "    Sent: \(instance.priorityZeroSent)\n"
        }
        return text
    }

    var json: String {
        struct Document: Encodable {
            let vrrp: [VRRPInstanceReport]
            let virtualServers: [VirtualServerReport]
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        guard let data = try? encoder.encode(Document(vrrp: vrrp, virtualServers: virtualServers)) else { return "{}\n" }
        return String(decoding: data, as: UTF8.self) + "\n"
    }

    /// Writes `text` to the dump folder as `name`, replacing what was there.
    static func write(_ text: String, as name: String) throws {
        let path = "\(directory)/\(name)"
        let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw SystemError("open \(path)", errno: errno) }
        defer { close(descriptor) }
        StandardStream.write(text, to: descriptor)
    }
}
