#if canImport(Glibc)
import Glibc
#endif

/// keepalived's signals by the names `keepalived --signum=NAME` knows (lib/signals.c), so that
/// tools asking us for a number get keepalived's.
public enum KeepalivedSignals {
    /// keepalived's SIGJSON.
    public static var json: Int32 { __libc_current_sigrtmin() + 2 }
    /// keepalived's SIGSTATS_CLEAR: the statistics are written, then cleared.
    public static var statsClear: Int32 { __libc_current_sigrtmax() - 1 }

    /// The number for NAME, nil for a name keepalived does not know (keepalived 2.2.7 as Debian
    /// builds it: no TDUMP).
    public static func number(named name: String) -> Int32? {
        switch name {
        case "STOP": return SIGTERM
        case "RELOAD": return SIGHUP
        case "DATA": return SIGUSR1
        case "STATS": return SIGUSR2
        case "STATS_CLEAR": return statsClear
        case "JSON": return json
        default: return nil
        }
    }
}
