#if canImport(Glibc)
import Glibc
#endif
import DaemonCore
import IPVS
import KeepalivedConfig
import VRRP

/// keepalived's state dumps, on its signals and in its files, in keepalived 2.2.7's layouts:
/// SIGUSR1 writes the VRRP state to keepalived.data and the LVS state to keepalived_check.data,
/// SIGUSR2 the VRRP counters to keepalived.stats (STATS_CLEAR also clears them), SIGJSON the
/// VRRP state and counters to keepalived.json.
struct StateDumps {
    let vrrp: [VRRPInstanceReport]
    let scripts: [VRRPScriptReport]
    let checkData: String
    var globals: GlobalDefinitions?

    /// keepalived's folder: $TMPDIR when it is an absolute path, else /tmp. Tests point it
    /// elsewhere with SWIFTKEEPALIVED_DUMP_DIR.
    static var directory: String {
        if let folder = getenv("SWIFTKEEPALIVED_DUMP_DIR").map({ String(cString: $0) }) { return folder }
        if let folder = getenv("TMPDIR").map({ String(cString: $0) }), folder.hasPrefix("/") { return folder }
        return "/tmp"
    }

    var data: String { VRRPStateFiles.data(vrrp, scripts: scripts, globals: globals) }
    var statistics: String { VRRPStateFiles.stats(vrrp) }
    var json: String { VRRPStateFiles.json(vrrp) }

    /// Writes `text` to the dump folder as `name`, replacing what was there.
    static func write(_ text: String, as name: String) throws {
        let path = "\(directory)/\(name)"
        let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw SystemError("open \(path)", errno: errno) }
        defer { close(descriptor) }
        StandardStream.write(text, to: descriptor)
    }
}
