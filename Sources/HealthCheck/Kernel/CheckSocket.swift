#if canImport(Glibc)
import Glibc
#endif
import DaemonCore
import KeepalivedConfig

/// What a read or a write on a check's connection came to.
enum IOResult: Sendable, Equatable {
    case transferred(Int)
    /// Try again once the socket is readable / writable.
    case wantRead
    case wantWrite
    case closed
    case failed(String)
}

/// Where a check connects: the server (or `connect_ip`/`connect_port`), from where, through
/// which interface, with which firewall mark.
public struct CheckEndpoint: Sendable, Hashable {
    public var address: IPAddress
    public var port: Int
    public var bindAddress: IPAddress?
    public var bindPort: Int?
    public var bindInterface: String?
    public var mark: UInt32?

    public init(address: IPAddress, port: Int, bindAddress: IPAddress? = nil, bindPort: Int? = nil, bindInterface: String? = nil, mark: UInt32? = nil) {
        self.address = address
        self.port = port
        self.bindAddress = bindAddress
        self.bindPort = bindPort
        self.bindInterface = bindInterface
        self.mark = mark
    }
}

/// What a check's socket carries.
enum CheckTransport {
    case tcp
    case udp
    /// ICMP or ICMPv6 echo: a kernel ping socket where the system allows this user one
    /// (net.ipv4.ping_group_range), a raw socket otherwise.
    case icmp
}

/// A non-blocking socket for one check (a TCP connection, a connected UDP socket, or an ICMP
/// socket): the only place in HealthCheck with socket calls.
final class CheckSocket {
    let descriptor: Int32
    /// An ICMP socket that is raw: it reads every echo reply, with the IPv4 header first.
    let isRawICMP: Bool
    private var isClosed = false

    /// Opens the socket, bound and marked as the checker asks.
    init(to endpoint: CheckEndpoint, transport: CheckTransport = .tcp) throws {
        let family = endpoint.address.family == .inet ? AF_INET : AF_INET6
        let flags = Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
        switch transport {
        case .tcp:
            descriptor = try systemCall("socket") { socket(family, Int32(SOCK_STREAM.rawValue) | flags, 0) }
            isRawICMP = false
        case .udp:
            descriptor = try systemCall("socket") { socket(family, Int32(SOCK_DGRAM.rawValue) | flags, 0) }
            isRawICMP = false
        case .icmp:
            let proto = family == AF_INET ? Int32(IPPROTO_ICMP) : Int32(IPPROTO_ICMPV6)
            let ping = socket(family, Int32(SOCK_DGRAM.rawValue) | flags, proto)
            if ping >= 0 {
                descriptor = ping
                isRawICMP = false
            } else {
                descriptor = try systemCall("socket(raw ICMP)") { socket(family, Int32(SOCK_RAW.rawValue) | flags, proto) }
                isRawICMP = true
            }
        }
        do {
            if let interface = endpoint.bindInterface {
                _ = try interface.withCString { name in
                    try systemCall("setsockopt(SO_BINDTODEVICE \(interface))") {
                        setsockopt(descriptor, SOL_SOCKET, SO_BINDTODEVICE, name, socklen_t(strlen(name) + 1))
                    }
                }
            }
            if let mark = endpoint.mark { try setSocketOption(descriptor, SOL_SOCKET, SO_MARK, UInt32(mark), "SO_MARK") }
            if endpoint.bindAddress != nil || endpoint.bindPort != nil {
                let local = endpoint.bindAddress ?? (family == AF_INET ? IPAddress("0.0.0.0")! : IPAddress("::")!)
                try Self.withSocketAddress(local, port: endpoint.bindPort ?? 0) { address, length in
                    _ = try systemCall("bind(\(local))") { bind(descriptor, address, length) }
                }
            }
        } catch {
            Glibc.close(descriptor)
            throw error
        }
    }

    /// Starts the connection: true when already connected, false when it is in progress (wait
    /// for writability, then ask `connectError`).
    func connect(to endpoint: CheckEndpoint) throws -> Bool {
        try Self.withSocketAddress(endpoint.address, port: endpoint.port) { address, length in
            while true {
                if Glibc.connect(descriptor, address, length) == 0 { return true }
                switch errno {
                case EINTR: continue
                case EINPROGRESS: return false
                case let code: throw SystemError("connect", errno: code)
                }
            }
        }
    }

    /// The outcome of a connection in progress: nil once connected, else its error.
    func connectError() -> SystemError? {
        var code: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        if getsockopt(descriptor, SOL_SOCKET, SO_ERROR, &code, &length) != 0 { return SystemError("getsockopt(SO_ERROR)", errno: errno) }
        return code == 0 ? nil : SystemError("connect", errno: code)
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) -> IOResult {
        while true {
            let count = Glibc.read(descriptor, buffer.baseAddress, buffer.count)
            if count > 0 { return .transferred(count) }
            if count == 0 { return .closed }
            switch errno {
            case EINTR: continue
            case EAGAIN: return .wantRead
            case let code: return .failed(SystemError("read", errno: code).description)
            }
        }
    }

    /// Sends what the socket takes now. On a connection still in progress this is `.wantWrite`,
    /// and a connection that failed gives its error: `operation` names the step in the message.
    func write(_ bytes: UnsafeRawBufferPointer, operation: String = "write") -> IOResult {
        while true {
            let count = send(descriptor, bytes.baseAddress, bytes.count, Int32(MSG_NOSIGNAL))
            if count >= 0 { return .transferred(count) }
            switch errno {
            case EINTR: continue
            case EAGAIN: return .wantWrite
            case let code: return .failed(SystemError(operation, errno: code).description)
            }
        }
    }

    /// Calls `handler` each time the socket becomes readable (or writable, if `writable`).
    func watch(with poller: Poller, writable: Bool, _ handler: @escaping (Readiness) -> Void) throws {
        try poller.watch(descriptor, writable: writable, handler)
    }

    /// Closes the descriptor, after taking it out of `poller`'s set. With `reset`, the close
    /// sends a reset instead of a FIN: for a peer that has already closed its side, this ends
    /// the connection at once, sparing both ends the last exchange and the peer its TIME_WAIT.
    func close(leaving poller: Poller?, reset: Bool = false) {
        guard !isClosed else { return }
        isClosed = true
        poller?.forget(descriptor)
        if reset {
            var abort = linger(l_onoff: 1, l_linger: 0)
            _ = setsockopt(descriptor, SOL_SOCKET, SO_LINGER, &abort, socklen_t(MemoryLayout<linger>.size))
        }
        Glibc.close(descriptor)
    }

    deinit {
        if !isClosed { Glibc.close(descriptor) }
    }

    private static func withSocketAddress<Result>(_ address: IPAddress, port: Int, _ body: (UnsafePointer<sockaddr>, socklen_t) throws -> Result) throws -> Result {
        switch address.family {
        case .inet:
            var storage = sockaddr_in()
            storage.sin_family = sa_family_t(AF_INET)
            storage.sin_port = in_port_t(UInt16(port).bigEndian)
            address.withNetworkBytes { storage.sin_addr.s_addr = $0.loadUnaligned(as: UInt32.self) }
            return try withUnsafePointer(to: &storage) {
                try $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { try body($0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
        case .inet6:
            var storage = sockaddr_in6()
            storage.sin6_family = sa_family_t(AF_INET6)
            storage.sin6_port = in_port_t(UInt16(port).bigEndian)
            address.withNetworkBytes { bytes in withUnsafeMutableBytes(of: &storage.sin6_addr) { $0.copyMemory(from: bytes) } }
            return try withUnsafePointer(to: &storage) {
                try $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { try body($0, socklen_t(MemoryLayout<sockaddr_in6>.size)) }
            }
        }
    }
}
