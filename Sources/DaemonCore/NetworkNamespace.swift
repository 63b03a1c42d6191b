#if canImport(Glibc)
import Glibc
#endif
import CProcess

/// keepalived's `net_namespace`: the daemon moves itself into the namespace `ip netns add`
/// made, before it starts anything. A thread's namespace is its own and new threads take their
/// creator's, so this must happen while the process has one thread (before Dispatch starts any).
public enum NetworkNamespace {
    /// Where `ip netns` keeps its namespaces (keepalived's netns_dir).
    public static let directory = "/run/netns"

    public enum EnterError: Error, Sendable, CustomStringConvertible {
        /// keepalived's words for the two failures, then its "exiting" line.
        case cannotOpen(path: String, code: Int32)
        case setnsFailed(code: Int32)
        case threaded(Int)

        public var description: String {
            switch self {
            case .cannotOpen(let path, let code): return "Failed to open \(path): \(String(cString: strerror(code)))"
            case .setnsFailed(let code): return "setns() failed with error \(code)"
            case .threaded(let count): return "cannot change network namespace with \(count) threads running"
            }
        }
    }

    public static func enter(_ name: String) throws(EnterError) {
        let threads = threadCount()
        guard threads <= 1 else { throw .threaded(threads) }
        let path = directory + "/" + name
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw .cannotOpen(path: path, code: errno) }
        defer { close(descriptor) }
        guard swiftka_enter_network_namespace(descriptor) == 0 else { throw .setnsFailed(code: errno) }
    }

    private static func threadCount() -> Int {
        guard let directory = opendir("/proc/self/task") else { return 1 }
        defer { closedir(directory) }
        var count = 0
        while let entry = readdir(directory) {
            if entry.pointee.d_name.0 != UInt8(ascii: ".") { count += 1 }
        }
        return count
    }
}
