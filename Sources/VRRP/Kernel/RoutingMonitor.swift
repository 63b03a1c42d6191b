#if canImport(Glibc)
import Glibc
#endif
import CLinuxNet
import DaemonCore

/// Reports addresses, routes and rules that someone deleted: a netlink socket subscribed to the
/// kernel's address, route and rule notifications of both families.
public final class RoutingMonitor: @unchecked Sendable {
    public struct Deletions: OptionSet, Sendable {
        public let rawValue: Int
        public init(rawValue: Int) { self.rawValue = rawValue }
        public static let address = Deletions(rawValue: 1)
        public static let route = Deletions(rawValue: 2)
        public static let rule = Deletions(rawValue: 4)
    }

    public let descriptor: Int32
    private var buffer = [UInt8](repeating: 0, count: 65536)

    private static var groups: UInt32 {
        func group(_ number: UInt32) -> UInt32 { 1 << (number - 1) }
        return group(RTNLGRP_IPV4_IFADDR.rawValue) | group(RTNLGRP_IPV6_IFADDR.rawValue) | group(RTNLGRP_IPV4_ROUTE.rawValue)
            | group(RTNLGRP_IPV6_ROUTE.rawValue) | group(RTNLGRP_IPV4_RULE.rawValue) | group(RTNLGRP_IPV6_RULE.rawValue)
    }

    public init() throws {
        descriptor = try routeNetlinkSocket(subscribedTo: Self.groups, naming: "address, route and rule groups")
    }

    deinit {
        close(descriptor)
    }

    /// Whether the last `deletions()` met a receive buffer overrun (messages dropped).
    public private(set) var overran = false

    /// The kinds of deletion among the messages waiting on the socket. A lost message (ENOBUFS)
    /// counts as every kind, since what it said is unknown.
    public func deletions() throws -> Deletions {
        var result: Deletions = []
        overran = false
        while true {
            let count = recv(descriptor, &buffer, buffer.count, 0)
            if count < 0 {
                if errno == EINTR { continue }
                if errno == EAGAIN || errno == EWOULDBLOCK { return result }
                if errno == ENOBUFS {
                    overran = true
                    result = [.address, .route, .rule]
                    continue
                }
                throw SystemError("recv(netlink)", errno: errno)
            }
            result.formUnion(Self.parse(buffer[0..<count]))
        }
    }

    /// The deletion messages in a netlink datagram (the message type is all that is read).
    static func parse(_ bytes: ArraySlice<UInt8>) -> Deletions {
        var result: Deletions = []
        var offset = bytes.startIndex
        let headerSize = MemoryLayout<nlmsghdr>.size
        while offset + headerSize <= bytes.endIndex {
            // Netlink is in host byte order.
            let length = Int(bytes[offset]) | Int(bytes[offset + 1]) << 8 | Int(bytes[offset + 2]) << 16 | Int(bytes[offset + 3]) << 24
            let type = Int32(bytes[offset + 4]) | Int32(bytes[offset + 5]) << 8
            guard length >= headerSize, offset + length <= bytes.endIndex else { break }
            switch type {
            case Int32(RTM_DELADDR): result.insert(.address)
            case Int32(RTM_DELROUTE): result.insert(.route)
            case Int32(RTM_DELRULE): result.insert(.rule)
            default: break
            }
            offset += (length + 3) & ~3
        }
        return result
    }
}
