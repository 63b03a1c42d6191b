#if canImport(Glibc)
import Glibc
#endif

/// systemd's readiness protocol (Type=notify): a datagram such as "READY=1" to the socket named
/// by $NOTIFY_SOCKET. Outside systemd the variable is unset and nothing is sent.
enum SystemdNotify {
    static func send(_ state: String) {
        guard let variable = getenv("NOTIFY_SOCKET"), let descriptor = UnixDatagram.connect(to: String(cString: variable)) else { return }
        defer { close(descriptor) }
        var message = Array(state.utf8)
        _ = Glibc.send(descriptor, &message, message.count, Int32(MSG_NOSIGNAL))
    }
}
