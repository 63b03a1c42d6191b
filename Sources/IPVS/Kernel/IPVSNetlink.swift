#if canImport(Glibc)
import Glibc
#endif
import CNetlinkGenl
import KeepalivedConfig
import Logging

/// A failed IPVS request: what was asked, and the libnl error (its code is the negated errno
/// class, e.g. NLE_EXIST).
public struct IPVSError: Error, Sendable, CustomStringConvertible {
    public let operation: String
    public let code: Int32
    public var detail: String { String(cString: nl_geterror(code)) }
    public var description: String { "\(operation): \(detail)" }
    /// Errors that say nothing about the request itself (no memory or buffer space, busy, try
    /// again, interrupted): the kernel may or may not have applied it.
    public var leavesTableUnknown: Bool { [NLE_NOMEM, NLE_BUSY, NLE_AGAIN, NLE_INTR].contains(-code) }
}

/// The kernel's IPVS table over generic netlink (libnl-genl-3): resolve the "IPVS" family, apply
/// operations, dump services and destinations. Every libnl pointer stays in this file.
public final class IPVSNetlink: @unchecked Sendable {
    private let socket: OpaquePointer
    private let family: Int32
    var rawSocket: OpaquePointer { socket }
    /// Requests sent, for tests and benchmarks that count the work done.
    public private(set) var requestCount = 0
    /// Send calls made for those requests (a batch packs many requests into one send).
    public private(set) var sendCount = 0

    public init() throws {
        guard let socket = nl_socket_alloc() else { throw IPVSError(operation: "nl_socket_alloc", code: -NLE_NOMEM) }
        var result = genl_connect(socket)
        guard result >= 0 else {
            nl_socket_free(socket)
            throw IPVSError(operation: "genl_connect", code: result)
        }
        result = genl_ctrl_resolve(socket, IPVS_GENL_NAME)
        guard result >= 0 else {
            nl_socket_free(socket)
            throw IPVSError(operation: "resolve the IPVS netlink family (is the ip_vs module loaded?)", code: result)
        }
        // Batches have several requests in flight; their replies come back in order, but not
        // with the sequence number of the last one sent.
        nl_socket_disable_seq_check(socket)
        // Room for a window of acknowledgements, and a bound on waiting for one that never comes.
        _ = nl_socket_set_buffer_size(socket, 1 << 20, 1 << 20)
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(nl_socket_get_fd(socket), SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        // Refusals then carry only the header of the request, so a batch's worth fits the buffer.
        var capAck: Int32 = 1
        setsockopt(nl_socket_get_fd(socket), SOL_NETLINK, NETLINK_CAP_ACK, &capAck, socklen_t(MemoryLayout<Int32>.size))
        self.socket = socket
        family = result
    }

    /// Connects, loading `ip_vs` first when the kernel does not know the family yet, as keepalived
    /// does (schedulers load themselves when a service names them).
    static func connect(logger: Logger) throws -> IPVSNetlink {
        if let netlink = try? IPVSNetlink() { return netlink }
        logger.info("Loading the ip_vs kernel module")
        _ = system("/sbin/modprobe ip_vs >/dev/null 2>&1")
        return try IPVSNetlink()
    }

    deinit {
        nl_socket_free(socket)
    }

    // MARK: Changes

    public func apply(_ operation: IPVSOperation) throws {
        var writer = NetlinkWriter()
        encode(operation, flags: NLM_F_ACK, into: &writer)
        var result = send(writer)
        if result >= 0 { result = nl_wait_for_ack(socket) }
        guard result >= 0 else { throw IPVSError(operation: "\(operation)", code: result) }
    }

    /// Appends the request for `operation` to `writer`; returns its sequence number.
    @discardableResult
    func encode(_ operation: IPVSOperation, flags: Int32, into writer: inout NetlinkWriter) -> UInt32 {
        let sequence = UInt32(nl_socket_use_seq(socket))
        IPVSRequest.encode(operation, header: header(flags: flags, sequence: sequence), into: &writer)
        requestCount += 1
        return sequence
    }

    /// Starts an IPVS request with the socket's next sequence number; the caller ends it.
    func beginRequest(_ command: Int, flags: Int32, into writer: inout NetlinkWriter) {
        var header = header(flags: flags, sequence: UInt32(nl_socket_use_seq(socket)))
        header.command = UInt8(command)
        writer.beginMessage(header)
    }

    private func header(flags: Int32, sequence: UInt32) -> NetlinkWriter.Header {
        NetlinkWriter.Header(family: UInt16(family), flags: UInt16(flags), sequence: sequence, port: nl_socket_get_local_port(socket),
                             command: 0, version: UInt8(IPVS_GENL_VERSION))
    }

    /// Sends everything `writer` holds in one call; 0 or a libnl error code.
    func send(_ writer: NetlinkWriter) -> Int32 {
        sendCount += 1
        let result = writer.withBytes { nl_sendto(socket, UnsafeMutableRawPointer(mutating: $0.baseAddress), $0.count) }
        return min(result, 0)
    }
}
