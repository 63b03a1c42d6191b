#if canImport(Glibc)
import Glibc
#endif
import CLinuxNet
import DaemonCore

/// Reports interfaces going up or down: a netlink socket subscribed to link changes.
public final class LinkMonitor: @unchecked Sendable {
    public struct Change: Sendable, Equatable {
        public var index: Int32
        public var isUp: Bool
    }

    public let descriptor: Int32
    private var buffer = [UInt8](repeating: 0, count: 65536)

    public init() throws {
        descriptor = try routeNetlinkSocket(subscribedTo: UInt32(RTMGRP_LINK), naming: "link group")
    }

    deinit {
        close(descriptor)
    }

    /// Whether the last `changes()` met a receive buffer overrun: the kernel dropped messages, so
    /// any interface may have changed unseen.
    public private(set) var overran = false

    /// The link changes waiting on the socket (empty when none).
    public func changes() throws -> [Change] {
        var result: [Change] = []
        overran = false
        while true {
            let count = recv(descriptor, &buffer, buffer.count, 0)
            if count < 0 {
                if errno == EINTR { continue }
                if errno == EAGAIN || errno == EWOULDBLOCK { return result }
                if errno == ENOBUFS {
                    overran = true
                    continue
                }
                throw SystemError("recv(netlink)", errno: errno)
            }
            result += Self.parse(buffer[0..<count])
        }
    }

    /// Link messages in a netlink datagram: RTM_NEWLINK with its flags, RTM_DELLINK as down.
    static func parse(_ bytes: ArraySlice<UInt8>) -> [Change] {
        var changes: [Change] = []
        var offset = bytes.startIndex
        let headerSize = MemoryLayout<nlmsghdr>.size
        let infoSize = MemoryLayout<ifinfomsg>.size
        while offset + headerSize <= bytes.endIndex {
            let length = Int(readUInt32(bytes, offset))
            let type = Int32(readUInt16(bytes, offset + 4))
            guard length >= headerSize, offset + length <= bytes.endIndex else { break }
            if (type == RTM_NEWLINK || type == RTM_DELLINK) && length >= headerSize + infoSize {
                let info = offset + headerSize
                let index = Int32(bitPattern: readUInt32(bytes, info + 4))
                let flags = readUInt32(bytes, info + 8)
                let up = type == RTM_NEWLINK && flags & UInt32(IFF_UP) != 0 && flags & UInt32(IFF_RUNNING) != 0
                changes.append(Change(index: index, isUp: up))
            }
            offset += (length + 3) & ~3
        }
        return changes
    }

    private static func readUInt32(_ bytes: ArraySlice<UInt8>, _ offset: Int) -> UInt32 {
        // Netlink is in host byte order.
        UInt32(bytes[offset]) | UInt32(bytes[offset + 1]) << 8 | UInt32(bytes[offset + 2]) << 16 | UInt32(bytes[offset + 3]) << 24
    }

    private static func readUInt16(_ bytes: ArraySlice<UInt8>, _ offset: Int) -> UInt16 {
        UInt16(bytes[offset]) | UInt16(bytes[offset + 1]) << 8
    }
}

/// A non-blocking rtnetlink socket that hears the multicast `groups` (a bit mask), for the
/// monitors; `naming` says which in a failed bind's error.
func routeNetlinkSocket(subscribedTo groups: UInt32, naming: String) throws -> Int32 {
    let descriptor = try systemCall("socket(AF_NETLINK, NETLINK_ROUTE)") {
        socket(AF_NETLINK, Int32(SOCK_RAW.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), NETLINK_ROUTE)
    }
    var address = sockaddr_nl()
    address.nl_family = sa_family_t(AF_NETLINK)
    address.nl_groups = groups
    do {
        try systemCall("bind(netlink \(naming))") {
            withUnsafePointer(to: &address) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_nl>.size))
                }
            }
        }
    } catch {
        close(descriptor)
        throw error
    }
    return descriptor
}
