#if canImport(Glibc)
import Glibc
#endif

/// systemd's readiness protocol (Type=notify): a datagram such as "READY=1" to the socket named
/// by $NOTIFY_SOCKET. Outside systemd the variable is unset and nothing is sent.
enum SystemdNotify {
    static func send(_ state: String) {
        guard let variable = getenv("NOTIFY_SOCKET") else { return }
        var path = Array(String(cString: variable).utf8)
        guard !path.isEmpty else { return }
        // "@name" is a socket in the abstract namespace: a leading NUL byte.
        if path[0] == UInt8(ascii: "@") { path[0] = 0 }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard path.count < capacity else { return }
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: path) }
        let descriptor = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { return }
        defer { close(descriptor) }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + path.count)
        var message = Array(state.utf8)
        _ = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { sendto(descriptor, &message, message.count, Int32(MSG_NOSIGNAL), $0, length) }
        }
    }
}
