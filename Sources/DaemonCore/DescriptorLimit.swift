#if canImport(Glibc)
import Glibc
#endif

/// The process's limit of open descriptors (RLIMIT_NOFILE). Every checker may hold a socket at
/// once, so a config of a thousand checkers needs more than the 1,024 a shell or systemd gives by
/// default; keepalived raises its limit to what its config needs, and so does the daemon (it uses
/// epoll, never select, so descriptors above 1,024 are safe). The one place with rlimit calls.
public enum DescriptorLimit {
    /// The descriptors a daemon needs beyond those of its checkers and VRRP instances: its own
    /// sockets, epoll sets, timers, netlink, log, the metrics listener's connections, scripts' pipes.
    public static let base = 128

    /// Raises the soft limit to `needed` when it is lower, and the hard limit with it when that is
    /// lower too (root with CAP_SYS_RESOURCE may). Without that capability the soft limit goes as
    /// far as the hard one. Returns the soft limit before and after, or nil when it was enough.
    public static func raise(to needed: Int) throws -> (before: UInt64, after: UInt64)? {
        var limit = rlimit()
        _ = try systemCall("getrlimit(RLIMIT_NOFILE)") { getrlimit(RLIMIT_NOFILE_VALUE, &limit) }
        let wanted = rlim_t(max(needed, 0))
        guard limit.rlim_cur < wanted else { return nil }
        let before = UInt64(limit.rlim_cur)
        var raised = limit
        raised.rlim_cur = wanted
        raised.rlim_max = max(limit.rlim_max, wanted)
        if setrlimit(RLIMIT_NOFILE_VALUE, &raised) == 0 { return (before, UInt64(wanted)) }
        let code = errno
        guard code == EPERM, limit.rlim_max > limit.rlim_cur else {
            throw SystemError("setrlimit(RLIMIT_NOFILE, \(wanted))", errno: code)
        }
        raised = rlimit(rlim_cur: limit.rlim_max, rlim_max: limit.rlim_max)
        _ = try systemCall("setrlimit(RLIMIT_NOFILE, \(limit.rlim_max))") { setrlimit(RLIMIT_NOFILE_VALUE, &raised) }
        return (before, UInt64(limit.rlim_max))
    }

    /// Glibc's `__rlimit_resource` enum, as the calls take it.
    private static var RLIMIT_NOFILE_VALUE: __rlimit_resource_t { __rlimit_resource_t(RLIMIT_NOFILE.rawValue) }
}
