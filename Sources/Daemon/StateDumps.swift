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
    var syncGroups: [VRRPSyncGroupReport] = []
    var globals: GlobalDefinitions?
    /// The IPVS sync daemons and timeouts, for the global section (`LVSStateLines`).
    var lvsLines: [String] = []

    /// keepalived's folder: $TMPDIR when it is an absolute path, else /tmp. Tests point it
    /// elsewhere with SWIFTKEEPALIVED_DUMP_DIR.
    static var directory: String {
        if let folder = getenv("SWIFTKEEPALIVED_DUMP_DIR").map({ String(cString: $0) }) { return folder }
        if let folder = getenv("TMPDIR").map({ String(cString: $0) }), folder.hasPrefix("/") { return folder }
        return "/tmp"
    }

    var data: String { VRRPStateFiles.data(vrrp, scripts: scripts, syncGroups: syncGroups, globals: globals, moreGlobalLines: lvsLines) }
    var statistics: String { VRRPStateFiles.stats(vrrp) }
    var json: String { VRRPStateFiles.json(vrrp) }

    /// Writes `text` to the dump folder as `name`, replacing what was there. As keepalived does,
    /// the text goes to a new file of ours that is then renamed over the name: in a shared /tmp,
    /// a link planted under the name is replaced rather than followed, and no one who had the old
    /// file open reads the new text. The mode is 0666 less the umask (0600 with keepalived's).
    static func write(_ text: String, as name: String) throws {
        let path = "\(directory)/\(name)"
        let temporary = "\(path).\(getpid()).\(UInt32.random(in: 0...UInt32.max))"
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o666)
        guard descriptor >= 0 else { throw SystemError("open \(temporary)", errno: errno) }
        // A full file system (ENOSPC) leaves the last good dump in place, not a cut one.
        var bytes = Array(text.utf8)[...]
        while !bytes.isEmpty {
            let written = bytes.withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress, $0.count) }
            if written < 0 && errno == EINTR { continue }
            guard written > 0 else {
                let error = SystemError("write \(temporary)", errno: written < 0 ? errno : ENOSPC)
                close(descriptor)
                unlink(temporary)
                throw error
            }
            bytes = bytes.dropFirst(written)
        }
        close(descriptor)
        guard rename(temporary, path) == 0 else {
            let error = SystemError("rename \(temporary) to \(path)", errno: errno)
            unlink(temporary)
            throw error
        }
    }
}
