#if canImport(Glibc)
import Glibc
#endif
import CLinuxNet

/// What the kernel's process connector reports, for thread-group leaders (processes, not threads).
public enum ProcessEvent: Sendable, Equatable {
    case fork(parent: Int32, child: Int32)
    case exec(Int32)
    /// The process renamed itself (prctl PR_SET_NAME).
    case comm(Int32)
    case exit(Int32)
    /// Events were lost (the socket's buffer overflowed): whoever counts must look again.
    case overrun
}

/// A netlink socket on the kernel's process connector (fork, exec, rename, exit of every process):
/// track_process is told of changes instead of polling /proc. The connector answers only in the
/// initial network namespace; from another one, the socket is opened there: pid 1's, or where
/// that is out of reach (a container), the namespace of the process that started us (`ip netns
/// exec` leaves its parent outside). The process's own namespace is left alone, as a socket keeps
/// the namespace it was made in. The only place with connector calls.
public final class ProcessConnector {
    public let descriptor: Int32
    private var buffer = [UInt8](repeating: 0, count: 16 * 1024)

    public init() throws {
        do {
            descriptor = try Self.listen()
        } catch let refused as SystemError where refused.code == ECONNREFUSED {
            var opened: Int32?
            var lastError: Error = refused
            for namespace in ["/proc/1/ns/net", "/proc/\(getppid())/ns/net"] where opened == nil {
                do {
                    opened = try Self.inNamespace(namespace) { try Self.listen() }
                } catch {
                    lastError = error
                }
            }
            guard let opened else { throw lastError }
            descriptor = opened
        }
    }

    deinit {
        close(descriptor)
    }

    /// A socket subscribed to the connector's process events.
    private static func listen() throws -> Int32 {
        let socket = try systemCall("socket(NETLINK_CONNECTOR)") {
            Glibc.socket(AF_NETLINK, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), NETLINK_CONNECTOR)
        }
        do {
            var address = sockaddr_nl()
            address.nl_family = sa_family_t(AF_NETLINK)
            address.nl_groups = UInt32(CN_IDX_PROC)
            _ = try withUnsafePointer(to: &address) { pointer in
                try pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { address in
                    try systemCall("bind(NETLINK_CONNECTOR)") { bind(socket, address, socklen_t(MemoryLayout<sockaddr_nl>.size)) }
                }
            }
            // nlmsghdr, cn_msg, then the operation: PROC_CN_MCAST_LISTEN.
            var message = [UInt8]()
            func put32(_ value: UInt32) { withUnsafeBytes(of: value.littleEndian) { message += $0 } }
            func put16(_ value: UInt16) { withUnsafeBytes(of: value.littleEndian) { message += $0 } }
            put32(UInt32(16 + 20 + 4)); put16(UInt16(NLMSG_DONE)); put16(0); put32(0); put32(UInt32(getpid()))
            put32(UInt32(CN_IDX_PROC)); put32(UInt32(CN_VAL_PROC)); put32(0); put32(0); put16(4); put16(0)
            put32(UInt32(PROC_CN_MCAST_LISTEN.rawValue))
            _ = try message.withUnsafeBytes { bytes in
                try systemCall("send(PROC_CN_MCAST_LISTEN)") { send(socket, bytes.baseAddress, bytes.count, 0) }
            }
            return socket
        } catch {
            close(socket)
            throw error
        }
    }

    /// Runs `body` on this thread inside the network namespace at `path`, then returns the thread
    /// to its own.
    private static func inNamespace<Result>(_ path: String, _ body: () throws -> Result) throws -> Result {
        let own = try systemCall("open(/proc/thread-self/ns/net)") { open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC) }
        defer { close(own) }
        let other = try systemCall("open(\(path))") { open(path, O_RDONLY | O_CLOEXEC) }
        defer { close(other) }
        try systemCall("setns(\(path))") { setns(other, swiftkeepalived_clone_newnet) }
        defer { _ = setns(own, swiftkeepalived_clone_newnet) }
        return try body()
    }

    /// Every event waiting on the socket.
    public func drain() -> [ProcessEvent] {
        var events: [ProcessEvent] = []
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            if count < 0 {
                if errno == ENOBUFS { events.append(.overrun); continue }
                return events
            }
            buffer.withUnsafeBytes { Self.parse(UnsafeRawBufferPointer(rebasing: $0[..<count]), into: &events) }
        }
    }

    /// Netlink messages, each a cn_msg carrying one proc_event.
    static func parse(_ bytes: UnsafeRawBufferPointer, into events: inout [ProcessEvent]) {
        var offset = 0
        func u32(_ at: Int) -> UInt32 { bytes.loadUnaligned(fromByteOffset: at, as: UInt32.self) }
        while offset + 16 <= bytes.count {
            let length = Int(u32(offset))
            guard length >= 16, offset + length <= bytes.count else { return }
            // nlmsghdr (16), cn_msg (20), then proc_event: what, cpu, timestamp (16), then its data.
            let event = offset + 36
            if length >= 36 + 16 + 8 {
                let data = event + 16
                let what = u32(event)
                let pid = Int32(bitPattern: u32(data))
                let tgid = Int32(bitPattern: u32(data + 4))
                switch what {
                case UInt32(PROC_EVENT_FORK.rawValue) where length >= 36 + 16 + 16:
                    let childPid = Int32(bitPattern: u32(data + 8))
                    let childTgid = Int32(bitPattern: u32(data + 12))
                    if childPid == childTgid { events.append(.fork(parent: tgid, child: childTgid)) }
                case UInt32(PROC_EVENT_EXEC.rawValue) where pid == tgid: events.append(.exec(tgid))
                case UInt32(PROC_EVENT_COMM.rawValue) where pid == tgid: events.append(.comm(tgid))
                case UInt32(PROC_EVENT_EXIT.rawValue) where pid == tgid: events.append(.exit(tgid))
                default: break
                }
            }
            offset += (length + 3) & ~3
        }
    }
}
